"""``rpi.awb``: white-balance gains on the red and blue sites.

Gains come from the frame (``ColourGains`` metadata, a DNG's ``AsShotNeutral``); without them, from the
tuning's ``ct_curve`` at the frame's colour temperature; without either, libcamera's AWB search along the
curve with its priors on the frame's AWB regions as the Pi's statistics make them (``awb_search``), or grey
world for a file with no curve. What was found is handed to later stages (CCM) through ``refine``. Values
saturate at 65535: a channel that clipped on the sensor stays
clipped rather than turning a blown highlight pink.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from ..tuning.blocks import Awb
from ..tuning.blocks import awb_search
from ..tuning.blocks.awb import DEFAULT_CT
from .black_level import site_map
from .cfa import site_gains
from ..frame import FrameInfo
from .stage import BAYER_LINEAR16, Stage

_FRACTION_BITS = 12


class WhiteBalanceStage(Stage):
    name = "rpi.awb"
    input = BAYER_LINEAR16
    output = BAYER_LINEAR16
    halo = 0

    def __init__(self, awb: Awb, grid: tuple[int, int] = (16, 12), mode: str = "auto"):
        """``grid``: the target's AWB regions (``Platform.alsc_grid``: 16x12 vc4, 32x32 pisp)."""
        self.awb = awb
        self.grid = grid
        self.mode = mode

    def _from_metadata(self, frame: FrameInfo) -> tuple[tuple[float, float], float | None] | None:
        if frame.colour_gains and all(g > 0 for g in frame.colour_gains):
            return (float(frame.colour_gains[0]), float(frame.colour_gains[1])), frame.colour_temperature
        curve = self.awb.curve
        if curve is not None and frame.colour_temperature:
            return curve.gains(frame.colour_temperature), frame.colour_temperature
        return None

    def estimate(self, image: np.ndarray | None, frame: FrameInfo) -> tuple[tuple[float, float], float | None]:
        """(gains, colour temperature or None) for the frame, searching the image only when it must."""
        known = self._from_metadata(frame)
        if known is not None:
            return known
        zones, counts = awb_search.zone_stats(image, frame.cfa, self.grid)
        found = awb_search.search(zones, self.awb, frame.lux, self.mode, counts=counts)
        if found is not None:
            return found[1], found[0]
        return awb_search.grey_world(zones), DEFAULT_CT  # awb.cpp: grey world reports its default CT

    def refine(self, image, frame):
        gains, ct = self.estimate(image, frame)
        return dataclasses.replace(frame, colour_gains=gains, colour_temperature=ct)

    def needs_frame(self, frame):
        return self._from_metadata(frame) is None  # the search looks at the whole frame

    def prepare(self, frame, shape, image=None):
        gains, _ = self.estimate(image, frame)
        fixed = np.minimum(np.rint(np.asarray(site_gains(frame.cfa, gains[0], 1.0, gains[1])) * (1 << _FRACTION_BITS)),
                           65535)
        plane = site_map(shape, fixed)
        return lambda rows, top: cv2.multiply(rows, plane[top:top + len(rows)], scale=1.0 / (1 << _FRACTION_BITS))
