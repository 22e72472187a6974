"""From a DNG's stored samples to the raw frame the ISP takes, in the DNG specification's order.

stored samples -> ``OpcodeList1`` -> ``ActiveArea`` -> ``LinearizationTable`` -> black (``BlackLevel`` with its
repeat pattern, ``BlackLevelDeltaH/V``) and ``WhiteLevel`` -> ``OpcodeList2`` -> ``OpcodeList3`` (its smooth
gains, on the CFA) -> ``BaselineExposure`` -> ``DefaultCrop``.

Most files (every Raspberry Pi DNG) need none of the floating-point steps: their samples go to the ISP as
they are, with per-site black levels and a white level (``BaselineExposure`` > 0 lowers the white level, the
same as a digital gain). Float samples, opcode lists 2 and 3, per-row/column black, a black level that is
explicitly 0 or a negative ``BaselineExposure`` go through a float frame normalised as the DNG SDK's stage 2
(0 = black, 1 = white), handed on as 16-bit data over libcamera's 16-bit pedestal (4096).

``DefaultCrop`` is cut in two: the raw frame keeps the smallest CFA-aligned (even) rectangle around it, and
``crop`` is what remains to cut from the developed picture, so the Bayer phase never changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import dng_read_opcodes
from .dng_decode import DngError
from .dng_tags import Tags

PEDESTAL = 4096.0  # libcamera's black level on the 16-bit scale
MIN_SIDE = 16  # the ISP's filters need a few pixels of each colour in each direction


@dataclass(frozen=True)
class RawFrame:
    raw: np.ndarray  # (h, w) uint16, even sides, CFA as in the file's CFAPattern
    black: tuple[float, float, float, float]  # per CFA site; all 0 = unknown (the ISP uses the tuning's)
    white: int
    exposure_scale: float  # 2 ** BaselineExposure, applied
    crop: tuple[int, int, int, int]  # x, y, width, height still to cut from the developed picture
    stored_white: float = 0.0  # WhiteLevel and mean BlackLevel as the file has them (None: no BlackLevel)
    stored_black: float | None = None


def _black_pattern(tags: Tags) -> np.ndarray | None:
    """BlackLevel over its repeat pattern, tiled to a whole number of 2x2 CFA blocks; None when absent."""
    dims = tags.integers(50713, count=2) or [1, 1]
    rows, cols = dims
    if not (1 <= rows <= 16 and 1 <= cols <= 16):
        raise tags.error(50713, f"is {rows}x{cols}; 1..16 expected")
    vals = tags.numbers(50714)
    if vals is None:
        return None
    if len(vals) != rows * cols:
        raise tags.error(50714, f"has {len(vals)} values for a {rows}x{cols} repeat pattern (BlackLevelRepeatDim)")
    pattern = np.asarray(vals, np.float64).reshape(rows, cols)
    return np.tile(pattern, (2 // math.gcd(rows, 2), 2 // math.gcd(cols, 2)))


def _deltas(tags: Tags, code: int, n: int) -> np.ndarray | None:
    vals = tags.numbers(code)
    if vals is None or not any(vals):
        return None
    if len(vals) != n:
        raise tags.error(code, f"has {len(vals)} values for {n} lines of the active area")
    return np.asarray(vals, np.float32)


def _opcodes(tags: Tags, code: int, name: str, path) -> list:
    blob = tags.blob(code)
    return dng_read_opcodes.parse(blob, f"{path}: {name}") if blob else []


Rect = tuple[int, int, int, int]  # x, y, width, height


def _crop(tags: Tags, shape: tuple[int, int], warn, path) -> tuple[Rect, Rect]:
    """(even raw rectangle, remaining crop inside it), both (x, y, width, height), from DefaultCrop."""
    h, w = shape
    origin = tags.numbers(50719, count=2) or [0.0, 0.0]
    size = tags.numbers(50720, count=2) or [float(w), float(h)]
    x, y = (int(math.floor(v)) for v in origin)
    cw, ch = (int(round(v)) for v in size)
    if x < 0 or y < 0 or cw <= 0 or ch <= 0:
        raise tags.error(50720, f"and DefaultCropOrigin give a crop of {cw}x{ch} at ({x}, {y})")
    if x + cw > w or y + ch > h:
        warn(f"{path}: DefaultCrop {cw}x{ch} at ({x}, {y}) runs past the {w}x{h} image; cut to the image")
        x, y = min(x, w - 2), min(y, h - 2)
        cw, ch = min(cw, w - x), min(ch, h - y)
    x0, y0 = x - x % 2, y - y % 2
    x1, y1 = min(x + cw + (x + cw) % 2, w), min(y + ch + (y + ch) % 2, h)
    return (x0, y0, x1 - x0, y1 - y0), (x - x0, y - y0, cw, ch)


def build_raw(samples: np.ndarray, tags: Tags, cfa: str, bits: int, path, warn, exposure: float = 0.0,
              shading_by_tuning: bool = False) -> RawFrame:
    """The ISP's raw frame from the stored samples, ``exposure`` EV brighter (BaselineExposure); ``warn(line)``
    for each fallback taken. ``shading_by_tuning``: the file's OpcodeList2 GainMaps are the tuning's own lens
    shading (camerad writes them for other developers), which the ISP's ALSC applies - so they are not."""
    is_float = samples.dtype.kind == "f"
    ops1 = _opcodes(tags, 51008, "OpcodeList1", path)
    if ops1:
        x = samples.astype(np.float32)
        dng_read_opcodes.apply(ops1, x, 1, cfa, 1.0 if is_float else 65535.0, f"{path}: OpcodeList1", warn)
        samples = x if is_float else np.clip(np.rint(x), 0, 65535).astype(np.uint16)
    area = tags.integers(50829, count=4)
    if area:
        top, left, bottom, right = area
        if not (0 <= top < bottom <= samples.shape[0] and 0 <= left < right <= samples.shape[1]):
            raise tags.error(50829, f"({top}, {left}, {bottom}, {right}) is not inside the "
                                    f"{samples.shape[1]}x{samples.shape[0]} image")
        samples = samples[top:bottom, left:right]
    table = tags.numbers(50712)
    if table is not None:
        if is_float:
            warn(f"{path}: LinearizationTable ignored: it maps integer samples, these are floating-point")
        else:
            lut = np.clip(np.rint(table), 0, 65535).astype(np.uint16)
            samples = lut[np.minimum(samples, len(lut) - 1)]
    default_white = 1.0 if is_float else float((1 << bits) - 1)
    white = tags.number(50717)
    if white is None:
        white = default_white
        kind = "floating-point" if is_float else f"{bits}-bit"
        warn(f"{path}: no WhiteLevel tag; using {white:g} (the DNG default for {kind} samples)")
    if not is_float and not 0 < white <= 65535:
        raise tags.error(50717, f"is {white:g}; 1..65535 expected for integer samples")
    pattern = _black_pattern(tags)
    if pattern is None:
        warn(f"{path}: no BlackLevel tag; using the tuning's rpi.black_level")
    h, w = samples.shape
    delta_h, delta_v = _deltas(tags, 50715, w), _deltas(tags, 50716, h)
    ops2 = _opcodes(tags, 51009, "OpcodeList2", path)
    if shading_by_tuning:
        ops2 = [op for op in ops2 if op.code != dng_read_opcodes.GAIN_MAP]
    ops3 = _opcodes(tags, 51022, "OpcodeList3", path)
    scale = 2.0 ** exposure
    sites = None
    if pattern is not None:
        sites = pattern.reshape(pattern.shape[0] // 2, 2, pattern.shape[1] // 2, 2).mean(axis=(0, 2)).ravel()
        if float(np.max(sites)) >= white:
            raise tags.error(50714, f"{sites.tolist()} is not below WhiteLevel {white:g}")
    uniform = pattern is None or np.ptp(pattern.reshape(-1, 2, pattern.shape[1] // 2, 2), axis=(0, 2)).max() == 0
    plain = (not is_float and uniform and delta_h is None and delta_v is None and not ops2 and not ops3
             and scale >= 1 and (sites is None or any(sites)))
    if plain:
        black = tuple(float(v) for v in sites) if sites is not None else (0.0,) * 4
        base = float(np.mean(black))
        out_white = int(round(base + (white - base) / scale))
        if out_white <= max(black):
            raise tags.error(50730, f"{exposure:g} EV leaves no signal range above black")
        raw = samples
    else:
        raw, black, out_white = _normalised(samples, pattern, delta_h, delta_v, white, scale, ops2, ops3, cfa,
                                            path, warn)
    (x0, y0, cw, ch), remaining = _crop(tags, raw.shape, warn, path)
    raw = np.ascontiguousarray(raw[y0:y0 + ch, x0:x0 + cw], dtype=np.uint16)
    if raw.shape[0] < MIN_SIDE or raw.shape[1] < MIN_SIDE or raw.shape[0] % 2 or raw.shape[1] % 2:
        raise DngError(f"{path}: a {raw.shape[1]}x{raw.shape[0]} raw image is too small or not an even-sized "
                       f"Bayer frame (at least {MIN_SIDE}x{MIN_SIDE})")
    return RawFrame(raw=raw, black=black, white=out_white, exposure_scale=scale, crop=remaining, stored_white=white,
                    stored_black=float(np.mean(sites)) if sites is not None else None)


def _normalised(samples, pattern, delta_h, delta_v, white, scale, ops2, ops3, cfa, path, warn):
    """16-bit data over the pedestal from the signal normalised 0..1 (or over black unknown, 0..white)."""
    with np.errstate(all="ignore"):  # inf and NaN samples are dealt with below, in one warning
        return _normalise(samples, pattern, delta_h, delta_v, white, scale, ops2, ops3, cfa, path, warn)


def _normalise(samples, pattern, delta_h, delta_v, white, scale, ops2, ops3, cfa, path, warn):
    h, w = samples.shape
    x = samples.astype(np.float32)
    if pattern is not None:
        ph, pw = pattern.shape
        black_map = np.tile(pattern.astype(np.float32), (-(-h // ph), -(-w // pw)))[:h, :w]
        span = np.float32(white) - black_map
        if delta_h is not None:
            black_map = black_map + delta_h[None, :]
        if delta_v is not None:
            black_map = black_map + delta_v[:, None]
        x -= black_map
        x /= span
        del black_map, span
    else:
        x /= np.float32(white)  # black unknown: it stays in, and the ISP takes the tuning's off
    dng_read_opcodes.apply(ops2, x, 2, cfa, 1.0, f"{path}: OpcodeList2", warn)
    dng_read_opcodes.apply(ops3, x, 3, cfa, 1.0, f"{path}: OpcodeList3", warn)
    if not np.all(np.isfinite(x)):
        x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0)
        warn(f"{path}: samples that are not finite numbers set to black or white")
    pedestal = PEDESTAL if pattern is not None else 0.0
    x *= np.float32(scale * (65535.0 - pedestal))
    x += np.float32(pedestal)
    raw = np.clip(np.rint(x, out=x), 0, 65535).astype(np.uint16)
    return raw, (pedestal,) * 4, 65535
