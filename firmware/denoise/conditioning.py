"""Noise conditioning: map a frame with any noise profile to unit-variance noise, and back.

The generalised Anscombe transform turns Poisson-Gaussian noise (variance = S·x + O, ``NoiseProfile``) into
noise of variance ≈ 1 at every signal level and every gain, so one network trained on that domain serves every
ISO: the gain only changes how large the image looks against unit noise. The inverse is the algebraic one; the
model was trained through it, so it learnt to return values whose algebraic inverse is unbiased.

When a frame carries no profile, ``estimate_profile`` fits one from the frame itself.
"""

from __future__ import annotations

import numpy as np

from firmware.frame import NoiseProfile

# The model sees the stabilised signal divided by this, so its input stays within a few units (unit noise
# becomes 1/16): the same constant in training and at run time.
INPUT_SCALE = 1.0 / 16.0
# A profile with no read noise (libcamera's stock ``reference_constant: 0``) still has the ADC's
# quantisation noise; this floor (half a 12-bit step, squared) keeps the transform finite at black.
MIN_READ_VARIANCE = (0.5 / 4095.0) ** 2


def _terms(profile: NoiseProfile) -> tuple[float, float]:
    s = max(float(profile.shot), 1e-9)
    return s, 0.375 * s * s + max(float(profile.read), MIN_READ_VARIANCE)


def forward(x: np.ndarray, profile: NoiseProfile, out: np.ndarray | None = None) -> np.ndarray:
    """Linear signal (0..1) → stabilised domain with noise std ``INPUT_SCALE``; in place when ``out is x``."""
    s, c = _terms(profile)
    out = np.multiply(x, np.float32(s), out=out)
    out += np.float32(c)
    np.maximum(out, 0.0, out=out)
    np.sqrt(out, out=out)
    out *= np.float32(2.0 / s * INPUT_SCALE)
    return out


def white_level(profile: NoiseProfile) -> float:
    """The stabilised value of a full-scale signal: the top of the model's input range for this profile."""
    return float(forward(np.ones(1, np.float32), profile)[0])


def inverse(z: np.ndarray, profile: NoiseProfile, out: np.ndarray | None = None) -> np.ndarray:
    """Stabilised domain → linear signal, clipped to 0..1 (the clean signal is never outside it)."""
    s, c = _terms(profile)
    out = np.multiply(z, np.float32(s / (2.0 * INPUT_SCALE)), out=out)
    np.square(out, out=out)
    out -= np.float32(c)
    out *= np.float32(1.0 / s)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def inverse_unbiased(z: np.ndarray, profile: NoiseProfile) -> np.ndarray:
    """Stabilised domain → linear, undoing the transform's bias at low counts (for classical filters).

    Mäkitalo and Foi's closed-form approximation of the exact unbiased inverse of the generalised Anscombe
    transform (IEEE TIP 2013), in units where the shot-noise scale is one. Filters that estimate the mean of
    the stabilised signal need it; the model does not, as it was trained through the algebraic inverse.
    """
    s, _ = _terms(profile)
    sigma2 = max(float(profile.read), MIN_READ_VARIANCE) / (s * s)
    d = np.maximum(np.asarray(z, dtype=np.float64) / INPUT_SCALE, 1.0)
    r = np.sqrt(1.5)
    x = 0.25 * d**2 + 0.25 * r / d - 1.375 / d**2 + 0.625 * r / d**3 - 0.125 - sigma2
    return np.clip(x * s, 0.0, 1.0).astype(np.float32)


def estimate_profile(packed: np.ndarray, bins: int = 16) -> NoiseProfile:
    """Fit variance = S·x + O to a packed Bayer frame (h, w, 4) that came without a noise profile.

    Each 2x2 block of a colour plane gives a mean and a diagonal Haar detail whose variance is the noise
    variance where the block is flat. Per level bin, the lower quartile of the absolute details (edges and
    texture only ever add to them) gives the variance, and a least-squares line through the bins gives S
    and O, both kept non-negative. On flat or smooth scenes this lands within ~30 % of the truth; on scenes
    full of fine texture it over-estimates (up to 2-4x), so the denoiser then errs towards smoothing.
    """
    h, w = (packed.shape[0] // 2) * 2, (packed.shape[1] // 2) * 2
    p = packed[:h, :w].astype(np.float32)
    a, b, c, d = p[0::2, 0::2], p[0::2, 1::2], p[1::2, 0::2], p[1::2, 1::2]
    level = ((a + b + c + d) / 4).ravel()
    detail = np.abs((a - b - c + d) / 2).ravel()
    keep = (level > 0.002) & (level < 0.9)  # clipped blacks and whites carry no noise
    if keep.sum() < 64:
        return NoiseProfile(shot=1e-4, read=MIN_READ_VARIANCE)
    level, detail = level[keep], detail[keep]
    edges = np.quantile(level, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, level, side="right") - 1, 0, bins - 1)
    xs, vs = [], []
    for i in range(bins):
        sel = which == i
        if sel.sum() >= 16:
            xs.append(float(np.median(level[sel])))
            # The lower quartile of |N(0, s^2)| is 0.3186 s.
            vs.append(float((np.quantile(detail[sel], 0.25) / 0.3186) ** 2))
    design = np.stack([xs, np.ones(len(xs))], axis=1)
    (shot, read), *_ = np.linalg.lstsq(design, np.asarray(vs), rcond=None)
    if shot <= 0:  # flat read-noise-only frame
        shot, read = 1e-7, float(np.mean(vs))
    return NoiseProfile(shot=float(shot), read=float(max(read, MIN_READ_VARIANCE)))
