"""The denoise hook: raw-domain noise reduction between black level and lens shading.

It runs on the black-subtracted, normalised Bayer signal - before lens shading and white-balance gains
amplify the noise unevenly - so the frame's noise is exactly ``FrameInfo.noise`` everywhere. What fills the
hook is a ``Denoiser`` (the TFLite model, or a classical filter); without one the stage is left out.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .frame import FrameInfo
from .stage import BAYER_LINEAR, Stage


class Denoiser(Protocol):
    """Removes noise from a normalised Bayer frame, conditioned on its noise profile."""

    mode: str  # "fast" or "hq"

    def denoise(self, bayer: np.ndarray, frame: FrameInfo) -> np.ndarray:
        """(h, w) float32 in 0..1, CFA ``frame.cfa``, noise ``frame.noise`` -> the same shape and type."""
        ...


class DenoiseStage(Stage):
    name = "denoise"
    input = BAYER_LINEAR
    output = BAYER_LINEAR

    def __init__(self, denoiser: Denoiser):
        self.denoiser = denoiser

    def process(self, image, frame):
        return self.denoiser.denoise(image, frame)
