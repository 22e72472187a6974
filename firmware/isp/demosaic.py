"""Demosaic: Bayer to RGB - our directional ``hq`` for stills, OpenCV's bilinear ``fast`` for previews.

``hq`` (``demosaic_hq.py``) interpolates green along the edges it finds and red and blue as differences
from green, so neutral edges and fine patterns stay free of colour fringes; it is measured against LibRaw's
AHD on the same mosaic by ``python -m bench quality``. ``fast`` is OpenCV's 16-bit bilinear kernel (SIMD,
multi-threaded) for the preview stream, where speed matters more than the last pixel.
"""

from __future__ import annotations

import cv2

from . import demosaic_hq
from .cfa import check_cfa
from .stage import BAYER_LINEAR16, RGB_LINEAR16, Stage

# OpenCV names Bayer patterns after the 2x2 block starting at the second row and column, so data whose top-left
# block is RGGB takes COLOR_BayerBG2RGB (checked against a synthetic mosaic in the tests).
_CV_PATTERN = {"RGGB": "BG", "BGGR": "RG", "GRBG": "GB", "GBRG": "GR"}
METHODS = ("hq", "fast")
# Rows each method reads beyond the rows it produces (checked band against frame in the tests).
_HALO = {"hq": demosaic_hq.HALO, "fast": 1}


def cv_code(cfa: str) -> int:
    """OpenCV's bilinear Bayer conversion code for a CFA order."""
    return getattr(cv2, f"COLOR_Bayer{_CV_PATTERN[check_cfa(cfa)]}2RGB")


class DemosaicStage(Stage):
    name = "demosaic"
    input = BAYER_LINEAR16
    output = RGB_LINEAR16

    def __init__(self, method: str = "hq"):
        if method not in METHODS:
            raise ValueError(f"unknown demosaic method {method!r} (methods: {', '.join(METHODS)})")
        self.method = method
        self.halo = _HALO[method]

    def prepare(self, frame, shape, image=None):
        cfa = check_cfa(frame.cfa)
        if self.method == "hq":
            workspace = demosaic_hq.Workspace()  # this frame's work planes, per thread
            return lambda rows, top: demosaic_hq.demosaic(rows, cfa, workspace)
        code = cv_code(cfa)
        return lambda rows, top: cv2.cvtColor(rows, code)
