"""``rpi.contrast``: the tone curve - the tuning's gamma PWL, after libcamera's adaptive contrast stretch.

With ``ce_enable`` the frame's luminance histogram sets a stretch as ``contrast.cpp`` computes it: the
``lo_histogram`` quantile is pulled down to ``lo_level`` (by at most ``lo_max``), the median stays put, the
``hi_histogram`` quantile is pushed up to ``hi_level`` (by at most ``hi_max``). The stretch and the gamma curve
become one 65536-entry table (cached per tuning when there is no stretch), applied in one lookup that also
quantises to the output depth (16 bits, or 8 for JPEG-only pipelines).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..tuning.blocks import Contrast
from ..tuning.pwl import Pwl
from .cache import Memo, view_digest
from .lookup import lookup16
from .stage import RGB_ENCODED8, RGB_ENCODED16, RGB_LINEAR16, Stage

_LUTS = Memo(8)
_BINS = 1024


def histogram_quantile(hist: np.ndarray, q: float, span: float = 65536.0) -> float:
    """The value below which a fraction ``q`` of the histogram lies, interpolated inside the bin."""
    cum = np.cumsum(hist, dtype=np.float64)
    target = q * cum[-1]
    i = int(np.searchsorted(cum, target, side="left"))
    i = min(i, len(hist) - 1)
    below = cum[i - 1] if i else 0.0
    frac = (target - below) / hist[i] if hist[i] else 0.0
    return (i + frac) * span / len(hist)


def stretch_curve(c: Contrast, hist: np.ndarray) -> Pwl:
    """libcamera's ``computeStretchCurve`` on a luminance histogram over 0..65535."""
    xs, ys = [0.0], [0.0]
    lo_level = c.lo_level * 65536
    hist_lo = histogram_quantile(hist, c.lo_histogram)
    hist_lo = max(lo_level, min(65535.0, min(hist_lo, lo_level + c.lo_max)))
    mid = histogram_quantile(hist, 0.5)
    hi_level = c.hi_level * 65536
    hist_hi = histogram_quantile(hist, c.hi_histogram)
    hist_hi = min(hi_level, max(0.0, max(hist_hi, hi_level - c.hi_max)))
    for x, y in ((hist_lo, lo_level), (mid, mid), (hist_hi, hi_level), (65535.0, 65535.0)):
        if x > xs[-1] + 1e-6:  # Pwl::append drops a point that does not move x on
            xs.append(x)
            ys.append(y)
    return Pwl.from_points(xs, ys)


class ContrastStage(Stage):
    name = "rpi.contrast"
    input = RGB_LINEAR16
    output = RGB_ENCODED16
    halo = 0

    def __init__(self, contrast: Contrast, bits: int = 16, enhance: bool | None = None):
        """``enhance`` overrides ``ce_enable`` (libcamera's ``enableCe``, which HDR modes use)."""
        if bits not in (8, 16):
            raise ValueError(f"{self.name}: output bits must be 8 or 16, got {bits}")
        self.contrast = contrast
        self.enhance = contrast.stretches if enhance is None else enhance
        self.bits = bits
        self.output = RGB_ENCODED8 if bits == 8 else RGB_ENCODED16
        self._digest = view_digest(contrast)
        self.gamma = _LUTS.get((self._digest, "gamma"), self._gamma_table)

    def _gamma_table(self) -> np.ndarray:
        """The gamma curve at every 16-bit input, as float (clamped at the curve's ends, as libcamera does)."""
        g = self.contrast.gamma
        return np.clip(g.eval(g.clamp(np.arange(65536, dtype=np.float64))), 0.0, 65535.0)

    def _quantise(self, table: np.ndarray) -> np.ndarray:
        if self.bits == 8:
            return np.rint(table * (255.0 / 65535.0)).astype(np.uint8)
        return np.rint(table).astype(np.uint16)

    def histogram(self, image: np.ndarray) -> np.ndarray:
        """Luminance histogram (1024 bins over 0..65535) from every fourth pixel each way."""
        y = cv2.cvtColor(np.ascontiguousarray(image[::4, ::4]), cv2.COLOR_RGB2GRAY)
        return np.bincount((y >> 6).ravel(), minlength=_BINS).astype(np.float64)

    def lut(self, image: np.ndarray | None = None) -> np.ndarray:
        """The lookup table for this frame: gamma alone, or gamma after the frame's stretch."""
        if not self.enhance or image is None:
            return _LUTS.get((self._digest, "lut", self.bits), lambda: self._quantise(self.gamma))
        stretch = stretch_curve(self.contrast, self.histogram(image))
        idx = np.clip(np.rint(stretch.eval(np.arange(65536, dtype=np.float64))), 0, 65535).astype(np.intp)
        return self._quantise(self.gamma[idx])

    def needs_frame(self, frame):
        return self.enhance  # the stretch follows the whole frame's histogram

    def prepare(self, frame, shape, image=None):
        table = self.lut(image)
        return lambda rows, top: lookup16(table, rows)
