"""The tuning's noise model as the ISP reads it: ``rpi.noise`` at a frame's gain, as a ``NoiseProfile``.

The profile itself (DNG's variance form) is a per-frame fact on the ground floor (``firmware.frame``); the
block is understood by ``tuning.blocks.Noise``; this is the one place that puts the two together, for the
stages that need a frame's noise when the frame does not state it (DPC) and for ``develop.frame_facts``.
"""

from __future__ import annotations

from ..frame import NoiseProfile
from ..tuning import TuningFile
from ..tuning.blocks import Noise


def noise_from_tuning(tuning: TuningFile, gain: float, black16: float, white16: float,
                      mode_factor: float = 1.0) -> NoiseProfile | None:
    """``rpi.noise`` at analogue ``gain`` for levels ``black16``..``white16`` (16-bit scale) and the sensor
    mode's binning ``mode_factor``; None when the file has no noise model (an uncalibrated file)."""
    try:
        n = Noise.read(tuning)
    except Exception:  # an uncalibrated file may lack rpi.noise; the caller falls back on its own
        return None
    return NoiseProfile.from_std(n.constant, n.slope, gain, black16, white16, mode_factor)
