"""``rpi.ccm``: white-balanced camera RGB to linear sRGB with the matrix for the frame's colour temperature.

The matrix is libcamera's (``ccm.cpp`` ``calculateCcm``, ``applySaturation``): interpolated linearly in kelvin
between the tuning's entries, with the saturation PWL (lux -> factor) times the user's saturation applied in
BT.601 YCbCr, each element clamped to [-8, 7.9999].
One OpenCV transform applies it to 16-bit RGB, saturating below black and above white.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..tuning.blocks import AwbCurve, Ccm
from .colour_temperature import frame_ct
from ..frame import FrameInfo
from .stage import RGB_LINEAR16, Stage

DEFAULT_CT = 4000.0  # libcamera's ccm.cpp when AWB reports nothing


class CcmStage(Stage):
    name = "rpi.ccm"
    input = RGB_LINEAR16
    output = RGB_LINEAR16
    halo = 0

    def __init__(self, ccm: Ccm, curve: AwbCurve | None = None, saturation: float = 1.0):
        """``curve``: the AWB curve, for the colour temperature of a frame that reports only its gains;
        ``saturation``: the user's Saturation (times the block's PWL at the frame's lux)."""
        self.ccm = ccm
        self.curve = curve
        self.saturation = saturation

    def colour_temperature(self, frame: FrameInfo) -> float:
        return frame_ct(frame, self.curve, DEFAULT_CT)

    def matrix(self, frame: FrameInfo) -> np.ndarray:
        """``Ccm::prepare``: the matrix at the frame's colour temperature, saturated for its lux, clamped."""
        return self.ccm.at(self.colour_temperature(frame), self.saturation, lux=frame.lux)

    def prepare(self, frame, shape, image=None):
        m = self.matrix(frame).astype(np.float32)
        return lambda rows, top: cv2.transform(rows, m)
