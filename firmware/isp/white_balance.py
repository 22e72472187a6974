"""``rpi.awb``: apply the white-balance gains to the red and blue sites.

Gains come from the frame (``ColourGains`` metadata, a DNG's ``AsShotNeutral``); without them, from the
tuning's ``ct_curve`` at the frame's colour temperature; without either, grey world. Values are clipped at 1
afterwards: a channel that clipped on the sensor must not turn a blown highlight pink.
"""

from __future__ import annotations

import numpy as np

from ..tuning import TuningFile
from ..tuning.blocks import Awb
from .cfa import blocks, site_gains
from .frame import FrameInfo
from .stage import BAYER_LINEAR, Stage


class WhiteBalanceStage(Stage):
    name = "rpi.awb"
    input = BAYER_LINEAR
    output = BAYER_LINEAR

    def __init__(self, tuning: TuningFile):
        self.awb = Awb.read(tuning)

    def gains(self, image: np.ndarray, frame: FrameInfo) -> tuple[float, float]:
        if frame.colour_gains and all(g > 0 for g in frame.colour_gains):
            return float(frame.colour_gains[0]), float(frame.colour_gains[1])
        if self.awb.curve is not None and frame.colour_temperature:
            return self.awb.curve.gains(frame.colour_temperature)
        means = blocks(image).mean(axis=(0, 2)).ravel()
        by = {}
        for c, m in zip(frame.cfa, means):
            by.setdefault(c, []).append(m)
        g = np.mean(by["G"])
        return float(g / max(np.mean(by["R"]), 1e-6)), float(g / max(np.mean(by["B"]), 1e-6))

    def process(self, image, frame):
        r, b = self.gains(image, frame)
        out = blocks(image)
        out *= np.asarray(site_gains(frame.cfa, r, 1.0, b), dtype=np.float32).reshape(1, 2, 1, 2)
        np.minimum(out, 1.0, out=out)
        return image
