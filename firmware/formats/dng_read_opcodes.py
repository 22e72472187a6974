"""DNG opcode lists (``OpcodeList1/2/3``, DNG 1.3-1.6 chapter 7) read: parsed and applied to the CFA image.

(``dng_opcodes`` writes our own lens shading as GainMaps; this module reads any file's lists.)

A list is big-endian: a count, then per opcode its ID, the DNG version it needs, flags (bit 0: optional,
may be skipped by a reader that does not know it) and its parameters. Where they apply, as the DNG SDK does:

* list 1 to the stored samples, before linearisation (coordinates: the whole stored image);
* list 2 to the linear, black-subtracted signal normalised to 0..1 (coordinates: the active area);
* list 3 after demosaicing, to the camera RGB planes. Our demosaic is in the ISP, so of list 3 only the
  smooth gains - ``GainMap``, ``FixVignetteRadial`` - are applied, to the CFA sites of each plane's colour:
  a gain that varies over tens of pixels commutes with demosaicing. Warps and the rest are refused by name,
  or skipped with a warning when the file marks them optional.

Applied: GainMap, FixVignetteRadial, FixBadPixelsConstant/List (replaced by the mean of their good same-colour
neighbours), MapTable, MapPolynomial, DeltaPerRow/Column, ScalePerRow/Column. Gains clip at full scale as
the SDK's do.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from .dng_decode import DngError

NAMES = {1: "WarpRectilinear", 2: "WarpFisheye", 3: "FixVignetteRadial", 4: "FixBadPixelsConstant",
         5: "FixBadPixelsList", 6: "TrimBounds", 7: "MapTable", 8: "MapPolynomial", 9: "GainMap",
         10: "DeltaPerRow", 11: "DeltaPerColumn", 12: "ScalePerRow", 13: "ScalePerColumn", 14: "WarpRectilinear2"}
GAIN_MAP = 9
AFTER_DEMOSAIC_OK = (3, GAIN_MAP)  # smooth gains: the same on the CFA as on the demosaiced planes
_AREA = struct.Struct(">8I")  # Top, Left, Bottom, Right, Plane, Planes, RowPitch, ColPitch


@dataclass(frozen=True)
class Opcode:
    code: int
    flags: int
    data: bytes

    @property
    def name(self) -> str:
        return NAMES.get(self.code, f"opcode {self.code}")

    @property
    def optional(self) -> bool:
        return bool(self.flags & 1)


def parse(blob: bytes, where: str) -> list[Opcode]:
    """The opcodes of one list; ``DngError`` naming the list when its structure is broken."""
    if len(blob) < 4:
        raise DngError(f"{where}: {len(blob)} bytes, too short for an opcode count")
    count = struct.unpack_from(">I", blob)[0]
    if count > (len(blob) - 4) // 16:
        raise DngError(f"{where}: claims {count} opcodes in {len(blob)} bytes")
    ops, pos = [], 4
    for i in range(count):
        code, _version, flags, size = struct.unpack_from(">4I", blob, pos)
        pos += 16
        if size > len(blob) - pos:
            raise DngError(f"{where}: opcode {i + 1} ({NAMES.get(code, code)}) runs past the end of the list")
        ops.append(Opcode(code, flags, blob[pos:pos + size]))
        pos += size
    return ops


class _Reader:
    """Big-endian parameters of one opcode; running short is an error naming the opcode."""

    def __init__(self, op: Opcode, where: str):
        self.op, self.where, self.pos = op, where, 0

    def take(self, fmt: str, n: int = 1):
        s = struct.Struct(">" + fmt * n)
        if self.pos + s.size > len(self.op.data):
            raise DngError(f"{self.where}: {self.op.name} parameters are cut short")
        vals = s.unpack_from(self.op.data, self.pos)
        self.pos += s.size
        return vals if n > 1 else vals[0]

    def array(self, dtype: str, n: int) -> np.ndarray:
        size = np.dtype(dtype).itemsize * n
        if n < 0 or self.pos + size > len(self.op.data):
            raise DngError(f"{self.where}: {self.op.name} claims {n} values it does not hold")
        out = np.frombuffer(self.op.data, dtype, n, self.pos).astype(np.float64)
        self.pos += size
        return out


def _targets(area, shape, stage: int, cfa: str):
    """(row indices, column indices, plane) an area touches: plane 0 of the CFA, or in list 3 each colour's sites."""
    top, left, bottom, right, plane, planes, row_pitch, col_pitch = area
    rows = np.arange(top, min(bottom, shape[0]), max(row_pitch, 1))
    cols = np.arange(left, min(right, shape[1]), max(col_pitch, 1))
    if stage != 3:
        if plane == 0:
            yield rows, cols, 0
        return
    for site, colour in enumerate(cfa):
        p = "RGB".index(colour)
        if plane <= p < plane + planes:
            yield rows[rows % 2 == site // 2], cols[cols % 2 == site % 2], p


def _gain_map(r: _Reader, image: np.ndarray, stage: int, cfa: str, full: float) -> None:
    area = r.take("I", 8)
    pv, ph = r.take("I", 2)
    sv, sh, ov, oh = r.take("d", 4)
    planes = r.take("I")
    if not (1 <= pv <= 65536 and 1 <= ph <= 65536 and planes >= 1) or (pv > 1 and sv <= 0) or (ph > 1 and sh <= 0):
        raise DngError(f"{r.where}: GainMap has {pv}x{ph} points with spacing {sv}, {sh}")
    gains = r.array(">f4", pv * ph * planes).reshape(pv, ph, planes)
    if not np.all(np.isfinite(gains)):
        raise DngError(f"{r.where}: GainMap holds gains that are not finite numbers")
    h, w = image.shape

    def weights(idx, size, points, origin, spacing):
        # The SDK's interpolation: pixel centres relative to the image, clamped at the outer map points.
        pos = np.clip(((idx + 0.5) / size - (origin if points > 1 else 0.0)) / (spacing if points > 1 else 1.0),
                      0, points - 1)
        lo = np.minimum(pos.astype(int), points - 1)
        hi = np.minimum(lo + 1, points - 1)
        m = np.zeros((len(idx), points))
        m[np.arange(len(idx)), lo] += 1 - (pos - lo)
        m[np.arange(len(idx)), hi] += pos - lo
        return m

    for rows, cols, p in _targets(area, image.shape, stage, cfa):
        if len(rows) and len(cols):
            g = weights(rows, h, pv, ov, sv) @ gains[:, :, min(p, planes - 1)] @ weights(cols, w, ph, oh, sh).T
            sel = np.ix_(rows, cols)
            image[sel] = np.minimum(image[sel] * g, full)


def _vignette(r: _Reader, image: np.ndarray, stage: int, cfa: str, full: float) -> None:
    k = np.array(r.take("d", 5))
    cx, cy = r.take("d", 2)
    h, w = image.shape
    x0, y0 = cx * w, cy * h
    rmax = max(np.hypot(max(x0, w - x0), max(y0, h - y0)), 1.0)
    for rows, cols, _p in _targets((0, 0, h, w, 0, 3, 1, 1), image.shape, stage, cfa):
        r2 = ((rows[:, None] + 0.5 - y0) ** 2 + (cols[None, :] + 0.5 - x0) ** 2) / rmax ** 2
        gain = 1 + sum(k[i] * r2 ** (i + 1) for i in range(5))
        sel = np.ix_(rows, cols)
        image[sel] = np.minimum(image[sel] * gain, full)


def _bad_pixels(image: np.ndarray, bad: np.ndarray) -> None:
    """Each bad pixel becomes the mean of its good same-colour neighbours two pixels away."""
    h, w = image.shape
    ys, xs = np.nonzero(bad)
    total, n = np.zeros(len(ys)), np.zeros(len(ys))
    for dy, dx in ((-2, 0), (2, 0), (0, -2), (0, 2)):
        y, x = ys + dy, xs + dx
        ok = (y >= 0) & (y < h) & (x >= 0) & (x < w)
        ok[ok] &= ~bad[y[ok], x[ok]]
        total[ok] += image[y[ok], x[ok]]
        n[ok] += 1
    image[ys, xs] = np.where(n > 0, total / np.maximum(n, 1), image[ys, xs])


def _apply_one(op: Opcode, image: np.ndarray, stage: int, cfa: str, full: float, where: str) -> None:
    r = _Reader(op, where)
    if op.code == 9:
        return _gain_map(r, image, stage, cfa, full)
    if op.code == 3:
        return _vignette(r, image, stage, cfa, full)
    if op.code == 4:
        constant, _phase = r.take("I", 2)
        return _bad_pixels(image, image == constant)
    if op.code == 5:
        _phase, points, rects = r.take("I", 3)
        bad = np.zeros(image.shape, bool)
        for y, x in r.array(">u4", 2 * points).astype(int).reshape(-1, 2):
            if y < image.shape[0] and x < image.shape[1]:
                bad[y, x] = True
        for t, left, b, right in r.array(">u4", 4 * rects).astype(int).reshape(-1, 4):
            bad[t:b, left:right] = True
        return _bad_pixels(image, bad)
    area = r.take("I", 8)
    if op.code == 7:
        table = r.array(">u2", r.take("I"))
        if not len(table):
            raise DngError(f"{where}: MapTable has an empty table")
    elif op.code == 8:
        degree = r.take("I")
        if degree > 8:
            raise DngError(f"{where}: MapPolynomial of degree {degree} (at most 8)")
        coeffs = r.array(">f8", degree + 1)
    else:
        values = r.array(">f4", r.take("I"))
    for rows, cols, _p in _targets(area, image.shape, stage, cfa):
        sel = np.ix_(rows, cols)
        if op.code == 7:
            idx = np.clip(np.rint(image[sel] / full * 65535), 0, len(table) - 1).astype(int)
            image[sel] = table[idx] / 65535 * full
        elif op.code == 8:
            image[sel] = np.polynomial.polynomial.polyval(image[sel] / full, coeffs) * full
        else:
            along = rows if op.code in (10, 12) else cols
            if len(values) < len(along):
                raise DngError(f"{where}: {op.name} has {len(values)} values for {len(along)} lines")
            v = values[:len(along)][:, None] if op.code in (10, 12) else values[:len(along)][None, :]
            image[sel] = image[sel] + v * full if op.code in (10, 11) else image[sel] * v


def apply(ops: list[Opcode], image: np.ndarray, stage: int, cfa: str, full: float, where: str,
          warn) -> None:
    """Apply ``ops`` in place to a float ``image``; ``warn(message)`` for optional opcodes skipped."""
    for op in ops:
        supported = op.code in NAMES and op.code not in (1, 2, 6, 14) \
            and (stage != 3 or op.code in AFTER_DEMOSAIC_OK)
        if not supported:
            reason = "applies after demosaicing" if stage == 3 and op.code in NAMES else "is not supported"
            if op.optional:
                warn(f"{where}: optional {op.name} skipped (it {reason} here)")
                continue
            raise DngError(f"{where}: {op.name} {reason} here; no development without it")
        _apply_one(op, image, stage, cfa, full, where)
