"""Capture names that sort by time and never collide: ``YYYYMMDD-HHMMSS-mmm[-N]``.

Local time to the millisecond, so a directory listing is in shooting order; a suffix only when two captures
land in the same millisecond (or the same frame is taken twice).
"""

from __future__ import annotations

import time
from pathlib import Path

EXTENSIONS = (".dng", ".jpg", ".json", ".tif")


def stem_for(wall_ns: int) -> str:
    secs, ns = divmod(wall_ns, 1_000_000_000)
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(secs)) + f"-{ns // 1_000_000:03d}"


def unique_stem(directory: Path, wall_ns: int, taken: set[str] | None = None) -> str:
    """A stem no file in ``directory`` (or in ``taken``, names reserved but not yet written) uses."""
    base = stem_for(wall_ns)
    stem, n = base, 1
    while (taken and stem in taken) or any((directory / (stem + ext)).exists() for ext in EXTENSIONS):
        n += 1
        stem = f"{base}-{n}"
    return stem
