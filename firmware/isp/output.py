"""Output: 16-bit encoded RGB to the 8 bits a JPEG holds (rounded, not truncated)."""

from __future__ import annotations

import numpy as np

from .stage import RGB_ENCODED8, RGB_ENCODED16, Stage


class OutputStage(Stage):
    name = "output"
    input = RGB_ENCODED16
    output = RGB_ENCODED8

    def process(self, image, frame):
        out = image.astype(np.uint32)
        out += 128
        out >>= 8
        np.minimum(out, 255, out=out)
        return out.astype(np.uint8)
