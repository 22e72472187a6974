"""The one way a tuning file gets in: read, checked by libcamera's rules, refused in one line naming where.

``camtune validate``, the daemon's start and its SIGHUP reload all call ``load_checked`` (or ``inspect``, which
``load_checked`` is built on, to list every finding)::

    >>> tf = load_checked("tuning/mock/imx477.json")                       # doctest: +SKIP
    >>> load_checked("broken.json")                                        # doctest: +SKIP
    firmware.tuning.issues.TuningInvalid: broken.json: rpi.ccm: ccms[0].ccm: has 8 values, expected 9

A file that passes is one every ISP stage and the mock's IPA can read: they read it with the same block modules.
What libcamera ignores (unknown blocks and keys) is not kept.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from pathlib import Path

from ..errors import TuningError
from .file import TuningFile
from .hardware import Platform
from .issues import Issue, TuningInvalid, errors
from .validate import validate


def inspect(source: str | Path | TuningFile, platform: str | Platform | None = None
            ) -> tuple[TuningFile | None, list[Issue]]:
    """The file and every finding about it; (None, [the reason]) when it cannot even be read as a tuning file."""
    if isinstance(source, TuningFile):
        return source, validate(source, platform)
    try:
        tf = TuningFile.load(source)
    except TuningError as exc:
        text = str(exc)
        prefix = f"{source}: "
        return None, [Issue("error", "", "", text[len(prefix):] if text.startswith(prefix) else text, str(source))]
    finally:
        if _size(source) > _BIG:
            _release_memory()
    return tf, validate(tf, platform)


def load_checked(source: str | Path | TuningFile, platform: str | Platform | None = None) -> TuningFile:
    """The tuning at ``source`` (a path, or a ``TuningFile`` already in memory), checked.

    ``platform`` ("vc4"/"pisp") also requires the file's target to match. Raises ``TuningError`` (a
    ``TuningInvalid`` with every error in ``.issues``) whose one-line message names the file, block and key of
    the first problem and how many more there are.
    """
    tf, issues = inspect(source, platform)
    bad = errors(issues)
    if tf is None:
        raise TuningError(str(bad[0]))
    if bad:
        raise TuningInvalid(bad)
    _drop_ignored(tf, issues)
    if not isinstance(source, TuningFile) and _size(source) > _BIG:
        _release_memory()
    return tf


def _drop_ignored(tf: TuningFile, issues: list[Issue]) -> None:
    """Forget what libcamera ignores - unknown blocks, unknown keys of known blocks - so a file padded with
    megabytes of notes costs nothing once loaded. (``TuningFile.load`` keeps everything, for tools that rewrite
    files.)"""
    unknown_blocks = {i.block for i in issues if i.level == "info" and not i.key and i.block}
    tf.algorithms = [(name, params) for name, params in tf.algorithms if name not in unknown_blocks]
    for i in issues:
        if i.level == "info" and i.key and "not a key libcamera reads" in i.message:
            params = tf.block(i.block, enabled_only=False)
            if params is not None:
                params.pop(i.key, None)


_BIG = 4 << 20  # stock files are ~0.1 MB; only a file past this leaves enough garbage to hand back


def _size(path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def _release_memory() -> None:
    """Hand the parser's garbage back to the system: a huge (valid) file leaves megabytes of freed small
    objects behind, which glibc keeps unless asked (``malloc_trim``)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
