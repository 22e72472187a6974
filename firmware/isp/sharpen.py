"""``rpi.sharpen``: unsharp masking of luminance after the tone curve, with coring and a limit.

As on the Pi, sharpening works on luminance in the encoded (gamma) domain, so it adds no colour fringes. The
detail is Y minus a Gaussian blur of Y (sigma 1 pixel); details smaller than the *threshold* are noise and
are left alone (soft coring), the rest is amplified by *strength* and capped at *limit*, and the same
luminance change is added to R, G and B. The tuning's numbers scale our base amounts the way they scale the
hardware's: ``threshold`` 1.0 = one 8-bit code, ``strength`` 1.0 = an unsharp amount of 1, ``limit`` 1.0 =
eight 8-bit codes.

On 8-bit images every step is an 8-bit OpenCV kernel plus one 256-entry table; 16-bit images (TIFF) take
a float path.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..tuning.blocks import Sharpen
from .stage import RGB_ENCODED8, RGB_ENCODED16, Stage

SIGMA = 1.0
_THRESHOLD_CODES = 1.0
_LIMIT_CODES = 8.0


class SharpenStage(Stage):
    name = "rpi.sharpen"
    input = RGB_ENCODED8
    output = RGB_ENCODED8
    halo = 2  # the 5x5 blur
    in_place = True

    def __init__(self, sharpen: Sharpen | None = None, bits: int = 8, mode_factor: float = 1.0,
                 user_strength: float = 1.0):
        """``mode_factor``: sqrt of the sensor mode's binning (2 for 2x2); ``user_strength``: the Sharpness
        control. Both act as ``Sharpen::prepare`` makes them act."""
        self.params = (sharpen or Sharpen()).at(mode_factor, user_strength)
        self.bits = bits
        self.input = self.output = RGB_ENCODED8 if bits == 8 else RGB_ENCODED16
        p = self.params
        self.threshold = _THRESHOLD_CODES * p.threshold
        self.limit = _LIMIT_CODES * p.limit
        self.strength = p.strength
        # 8-bit path: detail d in codes is carried as d + 128 in a uint8, and so is the change one table gives
        # for it (a change beyond 127 codes, were a tuning to ask for one, stops there).
        change = self.amount(np.arange(256, dtype=np.float64) - 128.0)
        self._change = np.clip(np.rint(change) + 128, 0, 255).astype(np.uint8)

    def amount(self, detail: np.ndarray) -> np.ndarray:
        """The luminance change for a detail signal (in 8-bit codes), as the stage applies it."""
        d = np.asarray(detail, dtype=np.float64)
        return np.sign(d) * np.minimum(np.maximum(np.abs(d) - self.threshold, 0.0) * self.strength, self.limit)

    def prepare(self, frame, shape, image=None):
        if self.strength <= 0 or self.limit <= 0:
            return lambda rows, top: rows
        return lambda rows, top: self._sharpen8(rows) if rows.dtype == np.uint8 else self._sharpen16(rows)

    def _sharpen8(self, rgb):
        y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        blur = cv2.GaussianBlur(y, (5, 5), SIGMA)
        detail = cv2.addWeighted(y, 1.0, blur, -1.0, 128.0)
        change = cv2.LUT(detail, self._change)
        # Saturating add of the positive part, then subtract of the negative part: nothing wraps.
        cv2.add(rgb, cv2.cvtColor(cv2.subtract(change, 128), cv2.COLOR_GRAY2RGB), dst=rgb)
        cv2.subtract(rgb, cv2.cvtColor(cv2.subtract(128, change), cv2.COLOR_GRAY2RGB), dst=rgb)
        return rgb

    def _sharpen16(self, rgb):
        y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
        detail = (y - cv2.GaussianBlur(y, (5, 5), SIGMA)) * np.float32(255.0 / 65535.0)
        change = self.amount(detail).astype(np.float32) * np.float32(65535.0 / 255.0)
        out = rgb.astype(np.float32) + change[..., None]
        return np.clip(out, 0, 65535, out=out).astype(np.uint16)
