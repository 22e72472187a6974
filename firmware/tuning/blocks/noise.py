"""``rpi.noise`` (libcamera ``noise.cpp``): the sensor's noise profile at analogue gain 1, full resolution.

noise std = ``reference_constant`` + ``reference_slope`` * sqrt(level) on the 16-bit scale. Per frame libcamera
scales both by sqrt(analogue gain) / mode factor (sqrt of the binning: 2 for 2x2) for the denoise blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..file import TuningFile
from .reader import BlockReader, read_block

NAME = "rpi.noise"


@dataclass(frozen=True)
class Noise:
    constant: float
    slope: float

    @classmethod
    def parse(cls, r: BlockReader) -> "Noise":
        constant = r.get("reference_constant", 0.0, required=True)
        slope = r.get("reference_slope", 3.0, required=True, lo=0)
        r.unknown_keys(("reference_constant", "reference_slope"))
        return cls(constant, slope)

    @classmethod
    def read(cls, tf: TuningFile) -> "Noise":
        return read_block(cls, tf, NAME, required=True)

    def at(self, analogue_gain: float, mode_factor: float = 1.0) -> tuple[float, float]:
        """(constant, slope) for a frame, as ``Noise::prepare`` scales them."""
        k = analogue_gain ** 0.5 / max(1.0, mode_factor)
        return self.constant * k, self.slope * k
