"""The seam where looks (colour overlays on the sensor's base tuning) reach the capture writer.

Looks are the tuning layer's: ``firmware.tuning.looks`` provides ``list_looks()`` and
``apply_look(base, name)`` (the tuning issue's work). Until that module is present the only look is
``BASE_LOOK``, the sensor's own tuning, and ``cycle_look`` stays on it. The selected look's name is kept in
the daemon's state, its status line and every capture's sidecar either way.
"""

from __future__ import annotations

import logging

from ..tuning import TuningFile

log = logging.getLogger(__name__)

BASE_LOOK = "base"


def look_names() -> tuple[str, ...]:
    """The looks a camera can cycle through, the base tuning first."""
    try:
        from ..tuning.looks import list_looks  # type: ignore[import-not-found]
    except ImportError:
        return (BASE_LOOK,)
    names = [n for n in list_looks() if n != BASE_LOOK]
    return (BASE_LOOK, *names)


def tuning_for_look(base: TuningFile, name: str) -> TuningFile:
    """The tuning the writer develops with for look ``name`` (the integration point for the looks layer)."""
    if name == BASE_LOOK:
        return base
    from ..tuning.looks import apply_look  # type: ignore[import-not-found]

    return apply_look(base, name)
