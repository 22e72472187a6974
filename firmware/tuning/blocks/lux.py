"""``rpi.lux`` (libcamera ``lux.cpp``): the scene's illuminance from the exposure and the image's brightness.

lux = (ref_exposure / exposure) (ref_gain / gain) (ref_aperture / aperture)^2 (Y / reference_Y) reference_lux,
with Y the mean of the luminance histogram (``interQuantileMean(0, 1)``) on the 16-bit scale. Absent: 400 lux.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..file import TuningFile
from .reader import BlockReader, read_block

NAME = "rpi.lux"
DEFAULT_LUX = 400.0  # what every libcamera algorithm assumes with no lux status
_KEYS = ("reference_shutter_speed", "reference_gain", "reference_aperture", "reference_lux", "reference_Y")


@dataclass(frozen=True)
class Lux:
    shutter_us: float
    gain: float
    aperture: float
    lux: float
    y: float

    @classmethod
    def parse(cls, r: BlockReader) -> "Lux":
        # Lux::read requires all but the aperture; a zero would divide (we refuse what makes no sense).
        values = [r.get(k, 1.0, required=k != "reference_aperture", lo=0, lo_open=True) for k in _KEYS]
        r.unknown_keys(_KEYS)
        return cls(*values)

    @classmethod
    def read(cls, tf: TuningFile) -> "Lux | None":
        return read_block(cls, tf, NAME)

    def estimate(self, exposure_us: float, gain: float, y16: float, aperture: float | None = None) -> float:
        """``Lux::process``: lux for a frame of ``exposure_us`` at ``gain`` whose mean luminance is ``y16``."""
        ap = self.aperture if aperture is None else aperture
        return (self.shutter_us / exposure_us) * (self.gain / gain) * (self.aperture / ap) ** 2 \
            * (y16 / self.y) * self.lux
