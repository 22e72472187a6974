"""Import the real picamera2 wheel on a host: libcamera's bindings replaced by the fake in ``fakes/libcamera``,
and the two Pi OS system modules picamera2 imports for its DRM preview and encoders (``python3-kms++``'s
``kms``/``pykms`` and ``python3-prctl``'s ``prctl``, neither on PyPI nor part of the camera API) stubbed.

Everything imported is removed again afterwards, so other tests still see a host without picamera2.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from pathlib import Path

FAKES = Path(__file__).resolve().parent


class _Anything(type):
    def __getattr__(cls, name):
        return cls


def _stub(name: str) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__getattr__ = lambda attr: _Anything(attr, (), {})  # any name, any attribute: never used in capture
    return mod


@contextlib.contextmanager
def _importable(module: str, stubs: tuple[str, ...] = ()):
    before = set(sys.modules)
    sys.path.insert(0, str(FAKES))
    for name in stubs:
        sys.modules.setdefault(name, _stub(name))
    try:
        yield importlib.import_module(module)
    finally:
        sys.path.remove(str(FAKES))
        for name in set(sys.modules) - before:
            del sys.modules[name]


def picamera2_importable():
    """The real ``picamera2`` module, importable over the fake libcamera; everything undone afterwards."""
    return _importable("picamera2", ("prctl", "kms", "pykms"))


def libcamera_importable():
    """The fake ``libcamera`` module as ``import libcamera`` finds it; undone afterwards."""
    return _importable("libcamera")
