"""``rpi.ccm``: camera RGB (white-balanced) to linear sRGB with the matrix for the frame's colour temperature."""

from __future__ import annotations

import cv2
import numpy as np

from ..tuning import TuningFile
from ..tuning.blocks import Awb, Ccm
from .frame import FrameInfo
from .stage import RGB_LINEAR, Stage


class CcmStage(Stage):
    name = "rpi.ccm"
    input = RGB_LINEAR
    output = RGB_LINEAR

    def __init__(self, tuning: TuningFile, saturation: float = 1.0):
        self.ccm = Ccm.read(tuning)
        self.curve = Awb.read(tuning).curve
        self.saturation = saturation

    def colour_temperature(self, frame: FrameInfo) -> float:
        if frame.colour_temperature:
            return float(frame.colour_temperature)
        if frame.colour_gains and self.curve is not None:
            return self.curve.ct_from_gains(*frame.colour_gains)
        return 4000.0  # libcamera's default when AWB reports nothing

    def matrix(self, frame: FrameInfo) -> np.ndarray:
        sat = self.saturation
        if self.ccm.saturation is not None:
            sat *= float(self.ccm.saturation.eval(np.clip(frame.lux, *self.ccm.saturation.domain)))
        return self.ccm.at(self.colour_temperature(frame), sat)

    def process(self, image, frame):
        out = cv2.transform(image, self.matrix(frame).astype(np.float32))
        np.clip(out, 0.0, 1.0, out=out)
        return out
