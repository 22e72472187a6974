"""Output: 16-bit encoded sRGB to the 8 bits a JPEG holds, rounded (for a result kept at 16 bits for TIFF)."""

from __future__ import annotations

import cv2

from .stage import RGB_ENCODED8, RGB_ENCODED16, Stage


class OutputStage(Stage):
    name = "output"
    input = RGB_ENCODED16
    output = RGB_ENCODED8
    halo = 0

    def prepare(self, frame, shape, image=None):
        # convertScaleAbs rounds to nearest and saturates; values are never negative, so abs changes nothing.
        return lambda rows, top: cv2.convertScaleAbs(rows, alpha=255.0 / 65535.0)
