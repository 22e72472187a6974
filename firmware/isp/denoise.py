"""The denoise hook: raw-domain noise reduction between black level and lens shading.

It runs on the black-subtracted, normalised Bayer signal - before lens shading and white-balance gains
amplify the noise unevenly - so the frame's noise is exactly ``FrameInfo.noise`` everywhere. What fills the
hook is a ``Denoiser`` (the TFLite model, or a classical filter); without one the stage is left out.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..frame import FrameInfo
from .stage import BAYER_LINEAR16, Stage


class Denoiser(Protocol):
    """Removes noise from a normalised Bayer frame, conditioned on its noise profile."""

    mode: str  # "fast" or "hq"

    def denoise(self, bayer: np.ndarray, frame: FrameInfo) -> np.ndarray:
        """(h, w) float32 in 0..1, CFA ``frame.cfa``, noise ``frame.noise`` -> the same shape and type."""
        ...


class DenoiseStage(Stage):
    """Hands the denoiser the float 0..1 frame its protocol promises; the pipeline around it is 16-bit."""

    name = "denoise"
    input = BAYER_LINEAR16
    output = BAYER_LINEAR16

    def __init__(self, denoiser: Denoiser):
        self.denoiser = denoiser

    def process(self, image, frame):
        bayer = image.astype(np.float32)
        bayer *= np.float32(1.0 / 65535.0)
        out = self.denoiser.denoise(bayer, frame)
        if out.shape != image.shape:
            raise ValueError(f"{self.name}: the denoiser returned shape {out.shape} for a {image.shape} frame")
        out = np.asarray(out, dtype=np.float32) * np.float32(65535.0)
        out += np.float32(0.5)
        np.clip(out, 0.0, 65535.0, out=out)
        return out.astype(np.uint16)
