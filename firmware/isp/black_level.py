"""``rpi.black_level``: subtract the sensor's pedestal and stretch to 16-bit linear light (0..65535).

Per-site levels come from the frame's metadata (``SensorBlackLevels``, a DNG's ``BlackLevel``) when the sensor
reports them, else from the tuning block (16-bit scale, converted to the raw data's bit depth). Equal levels
at every site (the usual case) make one 65536-entry table that subtracts and stretches in a single pass.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..tuning.blocks import BlackLevel
from . import lookup
from .cache import Memo
from .cfa import site_gains
from ..frame import FrameInfo
from .stage import BAYER_LINEAR16, BAYER_RAW, Stage

_MAPS = Memo(4)
_TABLES = Memo(4)


def site_map(shape: tuple[int, int], values, dtype=np.uint16) -> np.ndarray:
    """A full-size plane repeating a 2x2 table of per-site values (read-only, cached per shape and values)."""
    key = (shape, tuple(float(v) for v in values), np.dtype(dtype).str)

    def make():
        h, w = shape
        m = np.tile(np.asarray(values, dtype=dtype).reshape(2, 2), (h // 2, w // 2))
        m.flags.writeable = False
        return m

    return _MAPS.get(key, make)


class BlackLevelStage(Stage):
    name = "rpi.black_level"
    input = BAYER_RAW
    output = BAYER_LINEAR16
    halo = 0

    def __init__(self, black: BlackLevel):
        self.tuned = black

    def levels(self, frame: FrameInfo) -> np.ndarray:
        if any(frame.black_levels):
            return np.asarray(frame.black_levels, dtype=np.float64)
        bits = int(frame.white_level).bit_length()
        t = self.tuned
        return np.asarray(site_gains(frame.cfa, t.r, t.g, t.b), dtype=np.float64) / 2 ** (16 - bits)

    def prepare(self, frame, shape, image=None):
        black = self.levels(frame)
        if shape[0] % 2 or shape[1] % 2:
            raise ValueError(f"{self.name}: Bayer images need even dimensions, got {shape[1]}x{shape[0]}")
        span = float(frame.white_level) - black
        if np.any(span <= 0):
            raise ValueError(f"{self.name}: white level {frame.white_level} is not above black {black.tolist()}")
        rounded = np.rint(black)
        if np.all(rounded == rounded[0]) and np.all(span == span[0]):
            offset, scale = float(rounded[0]), 65535.0 / float(span[0])
            if lookup.LUT16:
                # Subtract and stretch in one table lookup, with the same double-precision rounding.
                table = _TABLES.get((offset, scale), lambda: _stretch_table(offset, scale))
                return lambda rows, top: lookup.lookup16(table, rows)
            return lambda rows, top: cv2.multiply(cv2.subtract(rows, offset), scale)
        # Unequal sites: subtract per site, then one fixed-point gain per site (8 fractional bits).
        gains = np.minimum(np.rint(65535.0 / span * 256), 65535)
        pedestal, gain = site_map(shape, rounded), site_map(shape, gains)

        def kernel(rows, top):
            sub = cv2.subtract(rows, pedestal[top:top + len(rows)])
            return cv2.multiply(sub, gain[top:top + len(rows)], scale=1.0 / 256)

        return kernel


def _stretch_table(offset: float, scale: float) -> np.ndarray:
    table = np.clip(np.rint((np.arange(65536, dtype=np.float64) - offset) * scale), 0, 65535).astype(np.uint16)
    table.flags.writeable = False
    return table
