"""A live frame's facts: its metadata read through the ground floor's ``FrameInfo``, with the tuning's noise.

The capture writer derives a frame's ``FrameInfo`` here once and hands the same object to the DNG encoder
(black levels, white level, ``NoiseProfile`` tag) and to ``develop`` (every stage, the denoiser).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..frame import FrameInfo, NoiseProfile, black_level_16, white_level_16
from ..isp.noise import noise_from_tuning
from ..tuning import TuningFile


def noise_profile(tuning: TuningFile, metadata: Mapping[str, Any], bit_depth: int,
                  mode_factor: float = 1.0) -> NoiseProfile | None:
    """The tuning's ``rpi.noise`` at the frame's analogue gain and levels (None when the file has no model:
    the denoiser then fits the frame itself)."""
    return noise_from_tuning(tuning, float(metadata.get("AnalogueGain", 1.0)), black_level_16(metadata),
                             white_level_16(bit_depth), mode_factor)


def frame_facts(metadata: Mapping[str, Any], *, cfa: str, bit_depth: int, tuning: TuningFile | None = None,
                mode_factor: float = 1.0, crop: tuple[float, float, float, float] | None = None) -> FrameInfo:
    """``FrameInfo`` of a frame from its libcamera metadata; with ``tuning``, its noise profile too.

    ``mode_factor``: the sensor mode's binning (libcamera divides the noise by it); ``crop``: the mode's field
    of view as fractions of the pixel array (``firmware.frame.crop_fractions``).
    """
    noise = noise_profile(tuning, metadata, bit_depth, mode_factor) if tuning is not None else None
    return FrameInfo.from_metadata(metadata, cfa, bit_depth, noise, crop=crop)
