"""``rpi.dpc``: defective pixel correction - hot and dead photosites clamped to their same-colour neighbours.

A photosite brighter than the brightest of its eight same-colour neighbours (two pixels away in the mosaic)
by more than a margin is clamped to that neighbour maximum plus the margin; likewise below the darkest. The
margin follows the tuning's ``strength`` as libcamera's modes do: 0 off, 1 normal, 2 strong (clamp to the
neighbour range).

Normal clamps a site only when it is more than twice its brightest same-colour neighbour (or under half its
darkest), plus a floor for the noise in the shadows. Real detail - a glint, a thin line - rises above its
same-colour neighbours too, and a quarter-level margin (tried first) clamped it: it took 45.0 dB natural crops
at gain 1 down to 41.2 dB (44.4 dB even without noise); at twice the level they keep 43.7 (53.7 without noise),
while a hot site on a dark ground, the kind that shows, is still pulled down to the neighbourhood.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import TuningError
from ..tuning import TuningFile
from ..tuning.blocks import Dpc
from .stage import BAYER_LINEAR16, Stage

# The eight same-colour neighbours of a Bayer site, excluding the site itself.
_NEIGHBOURS = np.zeros((5, 5), np.uint8)
_NEIGHBOURS[::2, ::2] = 1
_NEIGHBOURS[2, 2] = 0
# Per strength: (factor on the brightest neighbour, factor on the darkest, floor on the 16-bit scale).
_MARGINS = {1: (2.0, 0.5, 1024.0), 2: (1.0, 1.0, 0.0)}


class DpcStage(Stage):
    name = "rpi.dpc"
    input = BAYER_LINEAR16
    output = BAYER_LINEAR16
    halo = 2  # the same-colour neighbours two rows up and down
    in_place = True

    def __init__(self, tuning: TuningFile | None = None, strength: int | None = None):
        if strength is None:
            block = Dpc.read(tuning) if tuning is not None else None
            strength = block.strength if block is not None else 1
        if strength not in (0, 1, 2):
            raise TuningError(f"rpi.dpc: strength must be 0, 1 or 2, got {strength}")
        self.strength = strength

    def prepare(self, frame, shape, image=None):
        if self.strength == 0:
            return lambda rows, top: rows
        over, under, floor = _MARGINS[self.strength]

        def kernel(rows, top):
            hi = cv2.dilate(rows, _NEIGHBOURS, borderType=cv2.BORDER_REFLECT_101)
            lo = cv2.erode(rows, _NEIGHBOURS, borderType=cv2.BORDER_REFLECT_101)
            if floor:
                cv2.addWeighted(hi, over, hi, 0.0, floor, dst=hi)
                cv2.addWeighted(lo, under, lo, 0.0, -floor, dst=lo)
            cv2.min(rows, hi, dst=rows)
            cv2.max(rows, lo, dst=rows)
            return rows

        return kernel
