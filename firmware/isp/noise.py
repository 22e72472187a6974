"""The noise level of a frame, in the one form every consumer uses: DNG's ``NoiseProfile``.

variance(x) = S * x + O for the black-subtracted signal x normalised to 0..1 (white level = 1). The DNG writer
stores it, the denoiser conditions on it, and it comes either from a DNG's tag or from the tuning file's
``rpi.noise`` at the frame's analogue gain.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..tuning import TuningFile
from ..tuning.blocks import Noise


@dataclass(frozen=True)
class NoiseProfile:
    shot: float  # S: variance per unit of signal (Poisson part)
    read: float  # O: variance at zero signal (read noise floor)

    def variance(self, x):
        return self.shot * x + self.read

    @classmethod
    def from_tuning(cls, tuning: TuningFile, gain: float, black16: float, white16: float,
                    mode_factor: float = 1.0) -> "NoiseProfile | None":
        """From ``rpi.noise`` (std = c + s sqrt(level) on the 16-bit scale at gain 1).

        libcamera scales the profile's std by sqrt(gain) / mode factor (2 for 2x2 binning); squaring the std
        form and dropping its cross term gives the variance form.
        """
        try:
            n = Noise.read(tuning)
        except Exception:
            return None
        span = white16 - black16
        k = gain / mode_factor**2
        return cls(n.slope**2 * k / span, n.constant**2 * k / span**2)
