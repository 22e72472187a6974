"""ALSC tables resampled to a sensor mode's crop, as libcamera's ``alsc.cpp`` ``resampleCalTable`` does.

Tables are calibrated over the whole pixel array. A cropped mode sees only part of it, so the IPA stretches
the part under the crop across the ISP's grid (bilinear, clamped at the edges) and mirrors it for flips::

    >>> t = np.arange(12.0).reshape(3, 4)
    >>> resample_table(t, crop=(0, 0, 400, 300), sensor_size=(400, 300)).tolist() == t.tolist()
    True
"""

from __future__ import annotations

import numpy as np


def _axis(n: int, crop_start: float, crop_size: float, sensor_size: float, flip: bool):
    # Cell i of the output grid samples the calibration grid at x = (i + 0.5) * crop/sensor + offset - 0.5.
    scale = sensor_size / crop_size
    x = 0.5 / scale + crop_start / sensor_size * n - 0.5 + np.arange(n) / scale
    lo = np.floor(x).astype(int)
    frac = x - lo
    hi = np.minimum(lo + 1, n - 1)
    lo = np.maximum(lo, 0)
    if flip:
        lo, hi = n - 1 - lo, n - 1 - hi
    return lo, hi, frac


def resample_table(table: np.ndarray, crop: tuple[float, float, float, float], sensor_size: tuple[int, int],
                   hflip: bool = False, vflip: bool = False) -> np.ndarray:
    """The (rows, cols) table as seen through ``crop`` = (x, y, width, height) of a ``sensor_size`` array."""
    table = np.asarray(table, dtype=float)
    rows, cols = table.shape
    cx, cy, cw, ch = crop
    xlo, xhi, xf = _axis(cols, cx, cw, sensor_size[0], hflip)
    ylo, yhi, yf = _axis(rows, cy, ch, sensor_size[1], vflip)
    above = table[ylo][:, xlo] * (1 - xf) + table[ylo][:, xhi] * xf
    below = table[yhi][:, xlo] * (1 - xf) + table[yhi][:, xhi] * xf
    return above * (1 - yf)[:, None] + below * yf[:, None]
