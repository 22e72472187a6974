"""``rpi.alsc``: lens shading correction from the tuning's tables.

The colour tables (``calibrations_Cr``/``_Cb``) are interpolated at the frame's colour temperature exactly as
libcamera's ``getCalTable`` does (linear in kelvin, clamped at the ends), resampled onto the grid of the
frame's sensor-mode crop (``resampleCalTable``: bilinear, the edge values held), and each normalised to a
minimum of 1 over it (``compensateLambdasForCal``: stock files hold Cr/Cb with minima of 1 to 3.7, a level the
white balance already carries, so using them as they stand turns pictures magenta); the luminance table is
applied at ``luminance_strength`` (``(lut - 1) * strength + 1``). A frame from a cropped sensor mode states its
crop (``FrameInfo.crop``); otherwise the grid covers the whole pixel array.

The grid then reaches the pixels as the Pi's ISP takes it (vc4.cpp / pisp.cpp ``resampleTable`` into the
hardware's corner-sampled table): each value stands at its cell's centre, bilinear in between, and held flat
beyond the outermost centres - the half cell at each edge of the frame gets the edge cell's gain.

libcamera additionally refines the colour tables frame by frame from statistics (its adaptive SOR solve);
a single developed frame uses the calibrated tables, which is what that solve starts from.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..tuning.blocks import Alsc, AwbCurve
from .cache import Memo, view_digest
from .cfa import check_cfa
from .colour_temperature import frame_ct
from ..frame import FrameInfo
from .stage import BAYER_LINEAR16, Stage

_MAPS = Memo(4)
_FRACTION_BITS = 12  # gains stored as uint16 fixed point: up to 16x, in steps of 1/4096
_CT_STEP = 10.0  # maps are rebuilt when the colour temperature moves by this much


class AlscStage(Stage):
    """Takes the typed ``rpi.alsc`` block and the AWB curve (to find the colour temperature of a frame that
    reports only its gains)."""

    name = "rpi.alsc"
    input = BAYER_LINEAR16
    output = BAYER_LINEAR16
    halo = 0

    def __init__(self, alsc: Alsc, curve: AwbCurve | None = None):
        self.alsc = alsc
        self.curve = curve
        self.default_ct = alsc.default_ct
        self._digest = view_digest(alsc)

    def tables(self, ct: float, crop: tuple[float, float, float, float] | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(R, G, B) gain tables on the grid of the frame at ``ct``, as libcamera builds them on a mode switch.

        ``crop`` (fractions x0, y0, x1, y1 of the pixel array; None: all of it) is the mode's field of view:
        each table is resampled onto it (``resampleCalTable``), then ``compensateLambdasForCal`` normalises the
        red and the blue colour table each to a minimum of 1 and ``addLuminanceToTables`` multiplies all three
        by the luminance gain: the tables carry only the shape of the shading, the white balance carries the
        level. (Its closing ``normalise`` of each table is a no-op in libcamera - the lambda returns its
        result - so no common rescale follows.)
        """
        x0, y0, x1, y1 = crop or (0.0, 0.0, 1.0, 1.0)
        return self.alsc.gains_for_crop(ct, (x0, y0, x1 - x0, y1 - y0), (1, 1))

    def gain_map(self, frame: FrameInfo, shape: tuple[int, int]) -> np.ndarray:
        ct = round(frame_ct(frame, self.curve, self.default_ct) / _CT_STEP) * _CT_STEP
        key = (self._digest, ct, shape, check_cfa(frame.cfa), frame.crop)
        return _MAPS.get(key, lambda: self._make_map(ct, shape, frame.cfa, frame.crop))

    def _make_map(self, ct, shape, cfa, crop) -> np.ndarray:
        h, w = shape
        tables = dict(zip("RGB", self.tables(ct, crop)))
        out = np.empty((h // 2, 2, w // 2, 2), np.uint16)
        for i, colour in enumerate(cfa):
            dy, dx = divmod(i, 2)
            plane = _resample(tables[colour], (w // 2, h // 2), (dx * 0.5, dy * 0.5))
            out[:, dy, :, dx] = np.minimum(np.rint(plane * (1 << _FRACTION_BITS)), 65535)
        out = out.reshape(h, w)
        out.flags.writeable = False
        return out

    def prepare(self, frame, shape, image=None):
        gains = self.gain_map(frame, shape)
        return lambda rows, top: cv2.multiply(rows, gains[top:top + len(rows)], scale=1.0 / (1 << _FRACTION_BITS))


def _resample(table: np.ndarray, size: tuple[int, int], offset: tuple[float, float]) -> np.ndarray:
    """Bilinear samples of a grid table (values at cell centres, spanning the frame) at a plane's pixel centres,
    holding the edge values beyond the outermost centres as the ISP's table resampling does (``resampleTable``
    clamps its indices to the grid).

    ``offset`` shifts the plane's pixels by a fraction of a plane pixel (a CFA site's position in its 2x2 block).
    """
    rows, cols = table.shape
    w, h = size
    fx = (np.arange(w, dtype=np.float32) + 0.25 + offset[0]) / w
    fy = (np.arange(h, dtype=np.float32) + 0.25 + offset[1]) / h
    map_x = np.broadcast_to((fx * cols - 0.5)[None, :], (h, w)).astype(np.float32)
    map_y = np.broadcast_to((fy * rows - 0.5)[:, None], (h, w)).astype(np.float32)
    # BORDER_REPLICATE: a position beyond the outermost centre interpolates between the edge value and itself.
    return cv2.remap(table.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
