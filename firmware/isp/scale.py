"""Scaling for previews: linear RGB resized by area averaging, before the tone curve.

Averaging in linear light keeps fine bright detail from darkening as it would if encoded values were
averaged; doing it before CCM and tone also means those stages touch fewer pixels.
"""

from __future__ import annotations

import cv2

from .stage import RGB_LINEAR16, Stage


class ScaleStage(Stage):
    name = "scale"
    input = RGB_LINEAR16
    output = RGB_LINEAR16

    def __init__(self, size: tuple[int, int]):
        w, h = size
        if w < 1 or h < 1:
            raise ValueError(f"{self.name}: preview size must be positive, got {w}x{h}")
        self.size = (int(w), int(h))

    def process(self, image, frame):
        if (image.shape[1], image.shape[0]) == self.size:
            return image
        return cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
