"""``rpi.ccm``: white-balanced camera RGB to linear sRGB with the matrix for the frame's colour temperature.

The matrix is libcamera's: interpolated linearly in kelvin between the tuning's entries, with the saturation
PWL (lux -> factor) times any extra saturation applied in BT.601 YCbCr, each element clamped to [-8, 8).
One OpenCV transform applies it to 16-bit RGB, saturating below black and above white.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import TuningError
from ..tuning import TuningFile
from ..tuning.blocks import Awb, Ccm
from .colour_temperature import frame_ct
from ..frame import FrameInfo
from .stage import RGB_LINEAR16, Stage

DEFAULT_CT = 4000.0  # libcamera's ccm.cpp when AWB reports nothing


class CcmStage(Stage):
    name = "rpi.ccm"
    input = RGB_LINEAR16
    output = RGB_LINEAR16
    halo = 0

    def __init__(self, tuning: TuningFile, saturation: float = 1.0):
        self.ccm = Ccm.read(tuning)
        if any(b <= a for a, b in zip(self.ccm.cts, self.ccm.cts[1:])):
            raise TuningError(f"{tuning.source}: rpi.ccm: CCM not in increasing colour temperature order")
        self.curve = Awb.read(tuning).curve
        self.saturation = saturation

    def colour_temperature(self, frame: FrameInfo) -> float:
        return frame_ct(frame, self.curve, DEFAULT_CT)

    def matrix(self, frame: FrameInfo) -> np.ndarray:
        sat = self.saturation
        if self.ccm.saturation is not None:
            sat *= float(self.ccm.saturation.eval(np.clip(frame.lux, *self.ccm.saturation.domain)))
        return self.ccm.at(self.colour_temperature(frame), sat)

    def prepare(self, frame, shape, image=None):
        m = self.matrix(frame).astype(np.float32)
        return lambda rows, top: cv2.transform(rows, m)
