"""The frame's colour temperature, the one number CCM and lens-shading interpolation both key on.

libcamera takes it from AWB's status; for a frame from elsewhere (a DNG), it comes from the shot's neutral
(colour gains) through the tuning's ``ct_curve``, as libcamera does for manual ``ColourGains``.
"""

from __future__ import annotations

from ..tuning.blocks import AwbCurve
from ..frame import FrameInfo


def frame_ct(frame: FrameInfo, curve: AwbCurve | None, default: float) -> float:
    """Kelvin for ``frame``: its reported CT, else its gains through ``curve``, else ``default``."""
    if frame.colour_temperature:
        return float(frame.colour_temperature)
    if frame.colour_gains and curve is not None and all(g > 0 for g in frame.colour_gains):
        return curve.ct_from_gains(*frame.colour_gains)
    return float(default)
