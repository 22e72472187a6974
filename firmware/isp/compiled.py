"""The ISP's compiled kernels (``demosaic_hq.c``, ``highlights.c``), built by pip when camerad is installed.

A checkout whose venv was made before a kernel existed, or where the build did not run, gets one clear line
instead of a bare ImportError deep inside the ISP. Why the kernels are C: ``docs/isp-speed.md``.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def kernel(name: str) -> ModuleType:
    """The compiled module ``firmware.isp._<name>``."""
    try:
        return importlib.import_module(f"{__package__}._{name}")
    except ImportError as e:
        raise ImportError(f"camerad's ISP kernel {name!r} is not built ({e}): run ./install.sh (pip builds "
                          f"firmware/isp/{name}.c; it needs a C compiler and Python's headers)") from e
