"""Where looks (colour overlays on the sensor's base tuning, ``tuning/looks/``) reach the capture writer.

The JPEG is developed with the look composed onto the base tuning; the DNG's colour tags always come from the
base (calibrated) tuning, so a raw developer sees the sensor's true colour whatever look was chosen.
"""

from __future__ import annotations

from ..tuning import TuningFile
from ..tuning.looks import apply_look, list_looks


def look_names() -> tuple[str, ...]:
    """The looks a camera can cycle through, in ``tuning/looks/`` order."""
    return tuple(list_looks())


def tuning_for_look(base: TuningFile, name: str) -> TuningFile:
    """The tuning the writer develops JPEGs with for look ``name``."""
    return apply_look(base, name)
