"""Demosaic: Bayer to RGB with OpenCV - edge-aware for stills (``hq``), bilinear for previews (``fast``)."""

from __future__ import annotations

import cv2
import numpy as np

from .cfa import check_cfa
from .stage import BAYER_LINEAR, RGB_LINEAR, Stage

# OpenCV names Bayer patterns after the 2x2 block starting at the second row and column, so data whose top-left
# block is RGGB takes COLOR_BayerBG2RGB (checked against a synthetic mosaic in the tests).
_CV_PATTERN = {"RGGB": "BG", "BGGR": "RG", "GRBG": "GB", "GBRG": "GR"}
METHODS = ("hq", "fast")


def cv_code(cfa: str, method: str) -> int:
    suffix = {"hq": "_EA", "fast": ""}[method]
    return getattr(cv2, f"COLOR_Bayer{_CV_PATTERN[check_cfa(cfa)]}2RGB{suffix}")


class DemosaicStage(Stage):
    name = "demosaic"
    input = BAYER_LINEAR
    output = RGB_LINEAR

    def __init__(self, method: str = "hq"):
        if method not in METHODS:
            raise ValueError(f"unknown demosaic method {method!r} (methods: {', '.join(METHODS)})")
        self.method = method

    def process(self, image, frame):
        # OpenCV demosaics integers only; 16 bits keep the precision of a 12-bit sensor after gains.
        u16 = (image * np.float32(65535.0) + np.float32(0.5)).astype(np.uint16)
        rgb = cv2.cvtColor(u16, cv_code(frame.cfa, self.method))
        out = rgb.astype(np.float32)
        out *= np.float32(1.0 / 65535.0)
        return out
