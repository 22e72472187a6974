"""Tone curves for looks, written as libcamera ``rpi.contrast`` gamma curves (0..65535 in and out).

A curve starts from the sRGB transfer function, then two photographic controls act on the encoded value v:

* ``mid_grey``: where an 18 % grey lands (0..1 of the output; sRGB alone puts it at 0.461). A power law on v
  moves it, so brighter midtones keep black at black and white at white.
* ``contrast``: the slope at mid-grey relative to the plain curve. Above 1 the curve becomes an S with a toe
  and a shoulder, ``m (v/m)^c`` below the pivot m and ``1 - (1-m) ((1-v)/(1-m))^c`` above, like a film's
  characteristic curve: deeper shadows, gently rolled-off highlights, mid-grey fixed.

>>> round(tone_value(0.18), 3), round(tone_value(0.18, contrast=1.3), 3)
(0.461, 0.461)
"""

from __future__ import annotations

import math

import numpy as np

from .curves import srgb_encode
from .pwl import Pwl

SRGB_MID_GREY = float(srgb_encode(0.18))


def tone_value(x, contrast: float = 1.0, mid_grey: float | None = None):
    """Encoded output (0..1) of linear input ``x`` (0..1) for a curve with these controls."""
    v = srgb_encode(x)
    m = SRGB_MID_GREY
    if mid_grey is not None and abs(mid_grey - m) > 1e-9:
        if not 0.05 <= mid_grey <= 0.95:
            raise ValueError(f"mid_grey {mid_grey:g} must lie within 0.05..0.95")
        v = np.power(v, math.log(mid_grey) / math.log(m))
        m = mid_grey
    if contrast != 1.0:
        if not 0.5 <= contrast <= 3.0:
            raise ValueError(f"contrast {contrast:g} must lie within 0.5..3")
        v = np.asarray(v, dtype=float)
        low = m * np.power(np.clip(v / m, 0.0, None), contrast)
        high = 1.0 - (1.0 - m) * np.power(np.clip((1.0 - v) / (1.0 - m), 0.0, None), contrast)
        v = np.where(v < m, low, high)
    return v


def tone_curve(contrast: float = 1.0, mid_grey: float | None = None, points: int = 33) -> Pwl:
    """The curve as an ``rpi.contrast`` PWL with ``points`` knots, denser in the shadows where it bends most."""
    t = np.linspace(0.0, 1.0, points)
    xs = np.unique(np.round(65535.0 * t**2.2).astype(int))
    ys = np.round(65535.0 * tone_value(xs / 65535.0, contrast, mid_grey)).astype(int)
    ys = np.maximum.accumulate(np.clip(ys, 0, 65535))  # rounding must never make the curve dip
    return Pwl.from_points(xs.astype(float), ys.astype(float))
