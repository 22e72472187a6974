"""Lens shading as DNG ``GainMap`` opcodes (``OpcodeList2``), one per CFA plane, as Android's DngCreator writes.

The gains are the tuning's ALSC exactly as our ISP applies them (``isp.alsc.AlscStage.tables``: libcamera's
colour tables at the shot's colour temperature resampled onto the mode's crop, each normalised to a minimum of
1 there, times the luminance table at the rendering's ``luminance_strength``), so a developer that applies the
opcodes sees the same flat field as the camera's JPEG - including the fall-off a look keeps on purpose.

Geometry: each table value stands at its cell's centre on the frame, bilinear in between and held beyond the
outermost centres (libcamera's and the Pi ISP's resampling). A GainMap's points are exactly that: the map is
the grid itself, its first point half a cell in from the frame's corner, and the DNG SDK holds the outer
points' gains beyond them. ``OpcodeList2`` acts on the linearised (black-subtracted, 0..1) data before
demosaicing.
Opcode lists are big-endian whatever the file's byte order (DNG 1.3, chapter 7).
"""

from __future__ import annotations

import struct

import numpy as np

from ..isp.alsc import AlscStage
from ..isp.colour_temperature import frame_ct
from ..tuning import TuningFile
from ..tuning.blocks import Alsc, Awb

GAIN_MAP = 9
_DNG_1_3 = 0x01030000
_CT_STEP = 10.0  # as the ISP's stage rounds it, so the file holds the very tables the JPEG used


def gain_map_opcode(gains: np.ndarray, *, top: int, left: int, bottom: int, right: int, pitch: int = 2,
                    origin: tuple[float, float], spacing: tuple[float, float]) -> bytes:
    """One ``GainMap`` opcode: ``gains`` (rows, cols) over the area, every ``pitch``-th row and column from
    (top, left); ``origin`` (v, h) and ``spacing`` (v, h) relative to the image (0..1)."""
    rows, cols = gains.shape
    params = struct.pack(">8I2I4dI", top, left, bottom, right, 0, 1, pitch, pitch, rows, cols,
                         spacing[0], spacing[1], origin[0], origin[1], 1)
    params += np.asarray(gains, dtype=">f4").tobytes()
    return struct.pack(">4I", GAIN_MAP, _DNG_1_3, 0, len(params)) + params


def opcode_list(opcodes: list[bytes]) -> bytes:
    return struct.pack(">I", len(opcodes)) + b"".join(opcodes)


def shading_gain_maps(rendering: TuningFile, ct: float, cfa: str, shape: tuple[int, int],
                      crop: tuple[float, float, float, float] | None = None) -> bytes | None:
    """``OpcodeList2`` holding the rendering tuning's lens shading at ``ct`` for a frame of ``shape`` (h, w)
    with CFA ``cfa`` taken over ``crop`` of the pixel array; None when the tuning has no ALSC."""
    alsc = Alsc.read(rendering)
    if alsc is None:
        return None
    stage = AlscStage(alsc, Awb.read(rendering).curve)
    ct = round(ct / _CT_STEP) * _CT_STEP
    tables = dict(zip("RGB", stage.tables(ct, crop)))  # on the grid of the frame (the mode's crop)
    rows, cols = tables["G"].shape
    # Points at the cells' centres; the DNG SDK holds the outer points' gains beyond them, as the ISP does.
    origin, spacing = (0.5 / rows, 0.5 / cols), (1.0 / rows, 1.0 / cols)
    h, w = shape
    ops = []
    for i, colour in enumerate(cfa):
        dy, dx = divmod(i, 2)
        ops.append(gain_map_opcode(tables[colour], top=dy, left=dx, bottom=h, right=w, origin=origin,
                                   spacing=spacing))
    return opcode_list(ops)


def shot_ct(tuning: TuningFile, colour_temperature: float | None, gains: tuple[float, float] | None) -> float:
    """The shot's colour temperature as the ISP finds it: AWB's report, else the gains on the ``ct_curve``."""
    from ..frame import FrameInfo

    frame = FrameInfo(cfa="RGGB", white_level=1, black_levels=(0.0,) * 4, colour_gains=gains,
                      colour_temperature=colour_temperature)
    alsc = Alsc.read(tuning)
    return frame_ct(frame, Awb.read(tuning).curve, alsc.default_ct if alsc is not None else 4500.0)
