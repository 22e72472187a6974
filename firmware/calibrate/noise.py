"""``rpi.noise`` from the ColorChecker patches (and dark frames): libcamera's reference noise profile.

Every patch on every CFA plane gives a (level, variance) pair once its slight shading gradient is removed;
dark frames give the read noise at level 0. Both are put on libcamera's reference: the 16-bit scale, analogue
gain 1 and a full-resolution readout (libcamera scales the profile by sqrt(gain) / mode factor at run time,
so a 2x2-binned capture's noise is multiplied by 2 and divided by sqrt(gain) here). A photon-transfer line,
variance = a level + b, is fitted with weights for the spread of sample variances, then expressed in
libcamera's form std = reference_constant + reference_slope sqrt(level) by least squares over 0..60000.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import TuningError

LEVELS_16 = np.linspace(0.0, 60000.0, 61)


@dataclass
class NoiseFit:
    constant: float
    slope: float
    a: float  # variance per level (16-bit scale), gain 1, full resolution
    b: float  # read-noise variance
    samples: np.ndarray  # (N, 2): level (16-bit), variance at the reference

    def std(self, level16):
        return self.constant + self.slope * np.sqrt(np.asarray(level16, dtype=float))


def to_reference(level_dn: float, var_dn: float, scale16: float, gain: float, mode_factor: int):
    """A measurement in a capture's DN at ``gain`` -> (level, variance) at libcamera's reference.

    Rounding to whole DN adds 1/12 DN^2 that is not sensor noise and does not scale with gain or binning: it is
    taken out before scaling (a 2x2-binned capture would otherwise overstate the read noise by 15 %).
    """
    return level_dn * scale16, max(var_dn - 1.0 / 12.0, 0.0) * scale16**2 * mode_factor**2 / gain


def fit_noise(samples: list[tuple[float, float]]) -> NoiseFit:
    s = np.asarray(samples, dtype=float).reshape(-1, 2)
    s = s[np.isfinite(s).all(axis=1) & (s[:, 0] >= 0) & (s[:, 1] > 0)]
    if len(s) < 8 or np.ptp(s[:, 0]) < 1000:
        raise TuningError("noise: too few patch measurements over too small a range of levels "
                          "(ColorChecker captures needed)")
    level, var = s[:, 0], s[:, 1]
    a_mat = np.column_stack([level, np.ones_like(level)])
    w = 1.0 / var  # a sample variance's spread grows with the variance itself
    for _ in range(3):
        coef, *_ = np.linalg.lstsq(a_mat * w[:, None], var * w, rcond=None)
        w = 1.0 / np.maximum(a_mat @ coef, 1e-6)
    a, b = float(coef[0]), float(max(coef[1], 0.0))
    slope, const = np.polyfit(np.sqrt(LEVELS_16), np.sqrt(a * LEVELS_16 + b), 1)
    return NoiseFit(float(const), float(slope), a, b, s)


def noise_block(fit: NoiseFit) -> dict:
    return {"reference_constant": round(fit.constant, 3), "reference_slope": round(fit.slope, 4)}
