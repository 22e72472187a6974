"""Colour-temperature interpolation exactly as libcamera's RPi IPA does it (``ccm.cpp``, ``alsc.cpp``).

Clamped to the first and last entries; between them, linear in kelvin (not mired), element by element.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def interpolate_ct(cts: Sequence[float], values: Sequence[np.ndarray], ct: float) -> np.ndarray:
    """Blend the two entries bracketing ``ct``; outside the range, the nearest end entry.

    >>> interpolate_ct([3000, 5000], [np.array([0.0]), np.array([2.0])], 4500).tolist()
    [1.5]
    """
    if not len(cts):
        raise ValueError("no entries to interpolate")
    if ct <= cts[0]:
        return np.array(values[0], dtype=float)
    if ct >= cts[-1]:
        return np.array(values[-1], dtype=float)
    i = int(np.searchsorted(cts, ct, side="right"))
    lam = (ct - cts[i - 1]) / (cts[i] - cts[i - 1])
    return lam * np.asarray(values[i], dtype=float) + (1.0 - lam) * np.asarray(values[i - 1], dtype=float)
