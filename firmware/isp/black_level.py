"""``rpi.black_level``: subtract the sensor's pedestal and scale to linear light in 0..1.

Per-site levels come from the frame's metadata (``SensorBlackLevels``) when the sensor reports them, else
from the tuning block (16-bit scale, converted to the raw data's bit depth).
"""

from __future__ import annotations

import numpy as np

from ..tuning import TuningFile
from ..tuning.blocks import BlackLevel
from .cfa import blocks, site_gains
from .frame import FrameInfo
from .stage import BAYER_LINEAR, BAYER_RAW, Stage


class BlackLevelStage(Stage):
    name = "rpi.black_level"
    input = BAYER_RAW
    output = BAYER_LINEAR

    def __init__(self, tuning: TuningFile):
        self.tuned = BlackLevel.read(tuning)

    def levels(self, frame: FrameInfo) -> np.ndarray:
        if any(frame.black_levels):
            return np.asarray(frame.black_levels, dtype=np.float32)
        bits = int(frame.white_level).bit_length()
        t = self.tuned
        return np.asarray(site_gains(frame.cfa, t.r, t.g, t.b), dtype=np.float32) / 2 ** (16 - bits)

    def process(self, image, frame):
        black = self.levels(frame).reshape(1, 2, 1, 2)
        scale = 1.0 / (np.float32(frame.white_level) - black)
        out = blocks(image.astype(np.float32))
        out -= black
        out *= scale
        np.maximum(out, 0.0, out=out)
        return out.reshape(image.shape)
