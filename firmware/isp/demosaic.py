"""Demosaic: Bayer to RGB - edge-aware for stills (``hq``), bilinear for previews (``fast``).

Both are OpenCV's 16-bit kernels (SIMD, multi-threaded): ``hq`` interpolates green along the direction of the
smaller gradient and red/blue from colour differences, which keeps edges free of the zipper and colour
fringes bilinear interpolation leaves; ``fast`` is plain bilinear for the preview stream.
"""

from __future__ import annotations

import cv2

from .cfa import check_cfa
from .stage import BAYER_LINEAR16, RGB_LINEAR16, Stage

# OpenCV names Bayer patterns after the 2x2 block starting at the second row and column, so data whose top-left
# block is RGGB takes COLOR_BayerBG2RGB (checked against a synthetic mosaic in the tests).
_CV_PATTERN = {"RGGB": "BG", "BGGR": "RG", "GRBG": "GB", "GBRG": "GR"}
METHODS = ("hq", "fast")


def cv_code(cfa: str, method: str) -> int:
    suffix = {"hq": "_EA", "fast": ""}[method]
    return getattr(cv2, f"COLOR_Bayer{_CV_PATTERN[check_cfa(cfa)]}2RGB{suffix}")


class DemosaicStage(Stage):
    name = "demosaic"
    input = BAYER_LINEAR16
    output = RGB_LINEAR16
    halo = 1  # both methods read the 3x3 neighbourhood (checked band against frame in the tests)

    def __init__(self, method: str = "hq"):
        if method not in METHODS:
            raise ValueError(f"unknown demosaic method {method!r} (methods: {', '.join(METHODS)})")
        self.method = method

    def prepare(self, frame, shape, image=None):
        code = cv_code(frame.cfa, self.method)
        return lambda rows, top: cv2.cvtColor(rows, code)
