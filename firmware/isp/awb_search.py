"""AWB statistics from a frame: the mean R, G, B of the ISP's AWB regions, for ``rpi.awb``'s search.

The search itself is the tuning block's (``tuning.blocks.awb_search``), shared with the mock's IPA.
"""

from __future__ import annotations

import cv2
import numpy as np


def zone_means(bayer16: np.ndarray, cfa: str, grid: tuple[int, int]) -> np.ndarray:
    """Mean R, G, B of each grid zone, (rows, cols, 3), from every other same-colour site (plenty for means)."""
    sums = {"R": [], "G": [], "B": []}
    for i, colour in enumerate(cfa):
        dy, dx = divmod(i, 2)
        plane = np.ascontiguousarray(bayer16[dy::4, dx::4], dtype=np.float32)
        sums[colour].append(cv2.resize(plane, grid, interpolation=cv2.INTER_AREA))
    return np.stack([np.mean(sums[c], axis=0) for c in "RGB"], axis=-1)
