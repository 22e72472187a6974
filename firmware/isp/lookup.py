"""Lookups in 65536-entry tables indexed by 16-bit pixel values (black level, tone curve).

OpenCV 5 takes 16-bit input in ``cv2.LUT`` (a SIMD pass, several times faster than numpy's gather); older
OpenCV only takes 8-bit input, and then numpy's ``take`` does it (it releases the GIL, so bands of a frame
still run it on several threads).
"""

from __future__ import annotations

import cv2
import numpy as np


def _opencv_takes_16_bit() -> bool:
    table = np.arange(65536, dtype=np.uint16)[::-1].copy()
    try:
        out = cv2.LUT(np.array([[0, 1, 65535]], np.uint16), table)
    except cv2.error:
        return False
    return out.dtype == np.uint16 and out.tolist() == [[65535, 65534, 0]]


LUT16 = _opencv_takes_16_bit()


def lookup16(table: np.ndarray, image: np.ndarray) -> np.ndarray:
    """``table[image]`` for a uint16 ``image`` and a 65536-entry table (the result has the table's dtype)."""
    if LUT16:
        return cv2.LUT(image, table)
    return np.take(table, image)
