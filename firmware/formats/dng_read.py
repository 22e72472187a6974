"""Read a Bayer DNG - ours, rpicam-still's or picamera2's - into the raw frame and the facts the ISP needs.

tifffile parses the TIFF structure; ``dng_decode`` reads the raw data (16-bit as rpicam-apps and camerad write
it, 10/12-bit packed as PiDNG writes picamera2's, compressed through tifffile); this module picks the CFA image (IFD0 or a SubIFD) and turns the DNG tags into ``FrameInfo``:
CFA order, per-site black level, white level, the as-shot neutral (as colour gains), the noise profile,
exposure and ISO, plus what EXIF of a developed JPEG should repeat (make, model, lens, time, orientation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..frame import FrameInfo, NoiseProfile, gain_for_iso
from .dng_decode import DngError, read_samples

CFA_PHOTOMETRIC = 32803
_CFA_LETTERS = {0: "R", 1: "G", 2: "B"}


@dataclass(frozen=True)
class DngImage:
    path: str
    raw: np.ndarray  # (h, w) uint16, the active area
    cfa: str
    black_levels: tuple[float, float, float, float]
    white_level: int
    as_shot_neutral: tuple[float, float, float] | None
    noise_profile: NoiseProfile | None
    make: str = ""
    model: str = ""
    unique_model: str = ""
    exposure_us: int = 0
    iso: int = 0
    orientation: int = 1
    f_number: float | None = None
    focal_length_mm: float | None = None
    lens_model: str | None = None
    datetime: tuple[str, str, str] | None = None  # EXIF DateTimeOriginal, SubSec, OffsetTime
    baseline_exposure: float = 0.0
    tags: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def colour_gains(self) -> tuple[float, float] | None:
        """White-balance gains (R, B relative to G) that make the as-shot neutral grey."""
        n = self.as_shot_neutral
        if not n or min(n) <= 0:
            return None
        return n[1] / n[0], n[1] / n[2]

    def frame_info(self, lux: float = 400.0) -> FrameInfo:
        return FrameInfo(cfa=self.cfa, white_level=self.white_level, black_levels=self.black_levels,
                         colour_gains=self.colour_gains, lux=lux, analogue_gain=gain_for_iso(self.iso),
                         exposure_us=self.exposure_us or 10_000, noise=self.noise_profile)


def _value(tags, code, default=None):
    tag = tags.get(code)
    return default if tag is None else tag.value


def _float(v) -> float:
    if isinstance(v, tuple) and len(v) == 2 and all(isinstance(x, int) for x in v):
        return v[0] / v[1] if v[1] else 0.0
    return float(v)


_RATIONAL_TYPES = (5, 10)  # TIFF RATIONAL, SRATIONAL


def _floats(tags, code, *more) -> list[float]:
    """A numeric tag as floats from the first of ``tags, *more`` holding it (rationals arrive as pairs)."""
    for source in (tags, *more):
        tag = source.get(code) if source is not None else None
        if tag is None:
            continue
        v = list(np.ravel(tag.value))
        if int(tag.dtype) in _RATIONAL_TYPES:
            return [a / b if b else 0.0 for a, b in zip(v[0::2], v[1::2])]
        return [float(x) for x in v]
    return []


def _pages(tif):
    for page in tif.pages:
        yield page
        for sub in getattr(page, "pages", None) or []:
            yield sub


def read_dng(path: str | Path) -> DngImage:
    """The CFA image and colour facts of a DNG; ``DngError`` names what is missing or unsupported."""
    import tifffile

    path = Path(path)
    try:
        tif = tifffile.TiffFile(path)
    except FileNotFoundError:
        raise DngError(f"{path}: no such file") from None
    except (OSError, tifffile.TiffFileError, ValueError) as exc:
        raise DngError(f"{path}: not a readable TIFF/DNG file ({exc})") from None
    with tif:
        ifd0 = tif.pages[0].tags
        if ifd0.get(50706) is None:
            raise DngError(f"{path}: not a DNG (no DNGVersion tag)")
        page = next((p for p in _pages(tif) if p.photometric == CFA_PHOTOMETRIC), None)
        if page is None:
            raise DngError(f"{path}: no colour-filter-array image (linear or monochrome DNGs are not developed)")
        tags = page.tags
        dim = tuple(_value(tags, 33421, (2, 2)))
        if dim != (2, 2):
            raise DngError(f"{path}: CFA repeat pattern {dim} is not a 2x2 Bayer pattern")
        pattern = _value(tags, 33422)
        try:
            cfa = "".join(_CFA_LETTERS[int(c)] for c in bytes(pattern))
        except (KeyError, TypeError):
            raise DngError(f"{path}: CFAPattern {pattern!r} is not an RGB Bayer pattern") from None
        raw = read_samples(path, tif.filehandle, page, tif.byteorder)
        if raw.dtype != np.uint16:
            raise DngError(f"{path}: floating-point raw samples are not developed")
        area = _value(tags, 50829) or _value(ifd0, 50829)
        if area:
            top, left, bottom, right = (int(v) for v in area)
            raw = raw[top:bottom, left:right]
        raw = np.ascontiguousarray(raw, dtype=np.uint16)
        if raw.ndim != 2 or raw.shape[0] % 2 or raw.shape[1] % 2:
            raise DngError(f"{path}: raw image of shape {raw.shape} is not an even-sized Bayer frame")
        bits = int(page.bitspersample)
        exif = _exif(tif)
        white = int((_floats(tags, 50717) or [(1 << bits) - 1])[0])
        black = _black_levels(_floats(tags, 50714), _value(tags, 50713))
        neutral = _floats(ifd0, 50728, tags)
        noise = _floats(ifd0, 51041, tags)
        exposure = _floats(ifd0, 33434, exif)
        iso = _floats(ifd0, 34855, exif)
        f_number = _floats(ifd0, 33437, exif)
        focal = _floats(ifd0, 37386, exif)
        stamp = _text(ifd0, 36867, exif) or _text(ifd0, 306)
        subsec = _text(ifd0, 37521, exif)
        offset = _text(ifd0, 36881, exif)
        return DngImage(
            path=str(path), raw=raw, cfa=cfa, black_levels=black, white_level=white,
            as_shot_neutral=tuple(neutral[:3]) if len(neutral) >= 3 else None,
            noise_profile=NoiseProfile(noise[0], noise[1]) if len(noise) >= 2 else None,
            make=str(_value(ifd0, 271, "")).strip(), model=str(_value(ifd0, 272, "")).strip(),
            unique_model=str(_value(ifd0, 50708, "")).strip(),
            exposure_us=int(round(exposure[0] * 1e6)) if exposure else 0,
            iso=int(iso[0]) if iso else 0,
            orientation=int(_value(ifd0, 274, 1) or 1),
            f_number=f_number[0] if f_number else None, focal_length_mm=focal[0] if focal else None,
            lens_model=_text(ifd0, 42036, exif) or None,
            datetime=(str(stamp), str(subsec), str(offset)) if stamp else None,
            baseline_exposure=(_floats(ifd0, 50730) or [0.0])[0],
            tags={"bits_per_sample": bits, "compression": str(page.compression)},
        )


class _ExifTag:
    """A value from tifffile's decoded EXIF dictionary, shaped like a TiffTag for ``_floats``."""

    def __init__(self, value):
        self.value = value[0] / value[1] if isinstance(value, tuple) and len(value) == 2 and value[1] else value
        self.dtype = 12  # DOUBLE: already converted


def _exif(tif) -> dict:
    tag = tif.pages[0].tags.get(34665)
    if tag is None or not isinstance(tag.value, dict):
        return {}
    by_code = {}
    import tifffile

    for name, value in tag.value.items():
        code = tifffile.TIFF.TAGS.get(name)
        if isinstance(code, int):
            by_code[code] = _ExifTag(value)
    return by_code


def _text(tags, code, *more) -> str:
    """A text tag from the first of ``tags, *more`` holding it."""
    for source in (tags, *more):
        tag = source.get(code) if source is not None else None
        if tag is not None and tag.value:
            v = tag.value
            return (v.decode(errors="replace") if isinstance(v, bytes) else str(v)).strip("\x00 ")
    return ""


def _black_levels(vals, repeat) -> tuple[float, float, float, float]:
    """Per-site black levels in CFA-block order from BlackLevel with its BlackLevelRepeatDim."""
    vals = vals or [0.0]
    rows, cols = (tuple(int(v) for v in repeat) if repeat is not None else (1, 1))
    if len(vals) == 1 or (rows, cols) == (1, 1):
        return (vals[0],) * 4  # type: ignore[return-value]
    grid = np.resize(np.asarray(vals, dtype=float).reshape(rows, cols), (2, 2)) if rows * cols == len(vals) \
        else np.full((2, 2), vals[0])
    return tuple(float(v) for v in grid.ravel())  # type: ignore[return-value]
