"""Build a complete libcamera tuning file: a sensor's base file with a look composed in, checked.

Where the base comes from, first match wins:

1. ``base=`` — a file you calibrated (``camtune calibrate``) or chose;
2. ``mock=True`` — the project's own mock-sensor file, made by ``camtune calibrate`` on mock captures
   (``tuning/mock/<sensor>.json`` for vc4, ``tuning/mock/pisp/<sensor>.json`` for pisp);
3. the file libcamera installed: ``/usr/share/libcamera/ipa/rpi/<vc4|pisp>/<sensor>.json`` (or under
   ``/usr/local``);
4. Debian's stock files unpacked by ``install.sh`` into ``.cache/libcamera-ipa`` (older; Debian's package
   installs vc4 files under ``ipa/raspberrypi/``).

>>> tf = build("imx477", "vc4", "neutral", mock=True)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from .. import paths
from ..errors import TuningError
from .file import TuningFile
from .hardware import platform_for
from .looks import apply_look
from .validate import Issue, check

SYSTEM_DIRS = (Path("/usr/share/libcamera/ipa/rpi"), Path("/usr/local/share/libcamera/ipa/rpi"))


def stock_dirs(platform: str) -> list[Path]:
    """Directories that may hold libcamera's stock files for ``platform``, in search order."""
    cache = paths.cache_dir() / "libcamera-ipa" / "usr" / "share" / "libcamera" / "ipa"
    dirs = [d / platform for d in SYSTEM_DIRS] + [cache / "rpi" / platform]
    if platform == "vc4":
        dirs.append(cache / "raspberrypi")  # Debian bookworm's libcamera-ipa layout
    return dirs


def mock_base_path(sensor: str, platform: str) -> Path:
    d = paths.tuning_dir() / "mock"
    return d / f"{sensor}.json" if platform == "vc4" else d / platform / f"{sensor}.json"


def find_base(sensor: str, platform: str, base: str | Path | None = None, mock: bool = False) -> Path:
    """The base file's path, by the search order above; ``TuningError`` naming every place looked at."""
    if base is not None:
        return Path(base)
    if mock:
        path = mock_base_path(sensor, platform)
        if not path.is_file():
            raise TuningError(f"{path}: no calibrated mock tuning for {sensor} ({platform}); make it with "
                              "tools/calibrate_mock_tuning.py")
        return path
    tried = [d / f"{sensor}.json" for d in stock_dirs(platform)]
    for path in tried:
        if path.is_file():
            return path
    raise TuningError(f"no base tuning file for {sensor} on {platform}: looked in "
                      + ", ".join(str(p) for p in tried) + "; pass --base FILE (or --mock for the mock sensor)")


def build(sensor: str, platform: str, look: str | Path, base: str | Path | None = None,
          mock: bool = False) -> tuple[TuningFile, list[Issue]]:
    """The built file and its validation notes; raises ``TuningError`` when the result would not load."""
    plat = platform_for(platform)
    path = find_base(sensor, plat.name, base, mock)
    tf = TuningFile.load(path)
    if tf.target != plat.target:
        raise TuningError(f"{path}: target {tf.target!r} is for {platform_for(tf.target).name}, not {plat.name}: "
                          f"use a {plat.name} base (libcamera keeps them under .../ipa/rpi/{plat.name}/)")
    check(tf, plat)  # a broken base is reported as the base's fault, not the look's
    out = apply_look(tf, look)
    return out, check(out, plat)
