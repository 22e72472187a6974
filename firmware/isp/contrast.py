"""``rpi.contrast``: the tone (gamma) curve, applied through a 16-bit lookup table."""

from __future__ import annotations

import numpy as np

from ..tuning import TuningFile
from ..tuning.blocks import Contrast
from .stage import RGB_ENCODED16, RGB_LINEAR, Stage


class ContrastStage(Stage):
    name = "rpi.contrast"
    input = RGB_LINEAR
    output = RGB_ENCODED16

    def __init__(self, tuning: TuningFile):
        self.contrast = Contrast.read(tuning)
        x = np.arange(65536, dtype=float)
        self.lut = np.clip(np.rint(self.contrast.gamma.eval(x)), 0, 65535).astype(np.uint16)

    def process(self, image, frame):
        idx = (image * np.float32(65535.0) + np.float32(0.5)).astype(np.uint16)
        return self.lut[idx]
