"""Read a Bayer DNG - picamera2's, rpicam-still's, ours or a raw converter's - into the raw frame the ISP takes.

tifffile parses the TIFF structure; ``dng_decode`` reads the samples (packed or not, tiled or striped, either
byte order, lossless JPEG and deflate through imagecodecs); ``dng_raw`` takes them through the DNG's own
processing (opcode lists, linearisation, active area, black and white levels, baseline exposure, crop). This
module picks the CFA image (IFD0 or a SubIFD, the main image first) and the facts the ISP and the output need:
CFA order, the as-shot neutral (as colour gains), the noise profile, exposure and ISO, and what the EXIF of a
developed picture repeats (make, model, lens, time, orientation).

Every fallback taken for a missing tag is a one-line warning (``DngImage.warnings``, also logged); every
feature that cannot be honoured is a ``DngError`` naming the file and the tag. A malformed file is never a
traceback: what tifffile raises while parsing a corrupt structure is reported as such, in one line.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..frame import FrameInfo, NoiseProfile, gain_for_iso
from .dng_decode import DngError, Layout, pixel_limit, read_samples
from .dng_raw import build_raw
from .dng_recipe import read_recipe
from .dng_tags import Tags, exif_tags

log = logging.getLogger(__name__)

CFA_PHOTOMETRIC = 32803
_PHOTOMETRIC_NAMES = {34892: "LinearRaw (already demosaiced)", 1: "greyscale", 2: "RGB", 6: "YCbCr"}
_CFA_LETTERS = {0: "R", 1: "G", 2: "B"}
_BAYER = ("RGGB", "GRBG", "GBRG", "BGGR")
# Colour temperatures of the DNG CalibrationIlluminant codes (EXIF LightSource) an AsShotWhiteXY is matched to.
_ILLUMINANT_CT = {17: 2856, 21: 6504, 23: 5003, 20: 5503, 22: 7504, 24: 3200, 1: 5500, 3: 2850, 18: 4874, 19: 6774}


@dataclass(frozen=True)
class DngImage:
    path: str
    raw: np.ndarray  # (h, w) uint16: the active area's default crop, widened to whole 2x2 CFA blocks
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
    baseline_exposure: float = 0.0  # EV, applied to the raw frame (white level, or the 16-bit data)
    crop: tuple[int, int, int, int] | None = None  # x, y, w, h to cut from the developed picture
    output_size: tuple[int, int] | None = None  # (w, h) after DefaultScale / DefaultUserCrop, if they change it
    warnings: tuple[str, ...] = ()
    tags: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def colour_gains(self) -> tuple[float, float] | None:
        """White-balance gains (R, B relative to G) that make the as-shot neutral grey."""
        n = self.as_shot_neutral
        if not n or min(n) <= 0:
            return None
        return n[1] / n[0], n[1] / n[2]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the picture a develop gives, after every crop and scale."""
        if self.output_size:
            return self.output_size
        return (self.crop[2], self.crop[3]) if self.crop else (self.raw.shape[1], self.raw.shape[0])

    def frame_info(self, lux: float = 400.0) -> FrameInfo:
        return FrameInfo(cfa=self.cfa, white_level=self.white_level, black_levels=self.black_levels,
                         colour_gains=self.colour_gains, lux=lux, analogue_gain=gain_for_iso(self.iso),
                         exposure_us=self.exposure_us or 10_000, noise=self.noise_profile)

    def finish(self, rgb: np.ndarray) -> np.ndarray:
        """The developed picture cut to the DNG's default crop and scaled to square pixels (DefaultScale)."""
        if self.crop:
            x, y, w, h = self.crop
            rgb = rgb[y:y + h, x:x + w]
        if self.output_size and self.output_size != (rgb.shape[1], rgb.shape[0]):
            import cv2

            shrink = self.output_size[0] * self.output_size[1] < rgb.shape[0] * rgb.shape[1]
            rgb = cv2.resize(rgb, self.output_size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
        return np.ascontiguousarray(rgb)


MAX_IFDS = 64  # more than any DNG has; bounds the work a malformed chain of IFDs can ask for


def _pages(tif):
    """Every IFD: the main chain and their SubIFDs (rpicam-still keeps the raw image in a SubIFD).

    ``len()`` first: it is what makes tifffile notice a chain that loops back on itself (iterating does not).
    """
    for i in range(min(len(tif.pages), MAX_IFDS)):
        page = tif.pages[i]
        yield page
        subs = getattr(page, "pages", None)
        for j in range(min(len(subs), MAX_IFDS) if subs is not None else 0):
            yield subs[j]


def _cfa_page(path, tif):
    pages = list(_pages(tif))
    cfa = [p for p in pages if int(p.photometric) == CFA_PHOTOMETRIC]
    if not cfa:
        kinds = sorted({_PHOTOMETRIC_NAMES.get(int(p.photometric), f"photometric {int(p.photometric)}")
                        for p in pages})
        raise DngError(f"{path}: no colour-filter-array image to develop (PhotometricInterpretation: "
                       f"{', '.join(kinds)})")
    main = [p for p in cfa if (Tags(path, p.tags).integers(254) or [0])[0] == 0]  # NewSubfileType 0: the image
    return (main or cfa)[0]


def _cfa_order(path, tags: Tags) -> str:
    dims = tags.integers(33421, count=2) or [2, 2]
    if dims != [2, 2]:
        raise tags.error(33421, f"is {dims[0]}x{dims[1]}; only 2x2 Bayer patterns are developed")
    pattern = tags.integers(33422, count=4)
    if pattern is None:
        raise DngError(f"{path}: no CFAPattern tag")
    order = "".join(_CFA_LETTERS.get(c, "?") for c in pattern)
    if order not in _BAYER:
        raise tags.error(33422, f"is {pattern}; an RGB Bayer pattern (RGGB, GRBG, GBRG, BGGR) is expected")
    for code, want, what in ((50710, [0, 1, 2], "planes other than R, G, B"), (50711, [1], "a non-rectangular layout"),
                             (50975, [1], "interleaved rows"), (52547, [1], "interleaved columns")):
        got = tags.integers(code)
        if got is not None and got != want:
            raise tags.error(code, f"is {got}: {what} are not supported")
    return order


def _neutral(cam: Tags, path, warn) -> tuple[float, float, float] | None:
    """AsShotNeutral, else AsShotWhiteXY through the colour matrix nearest its temperature, else None."""
    neutral = cam.numbers(50728, count=3)
    if neutral is not None:
        if min(neutral) <= 0:
            raise cam.error(50728, f"is {neutral}; positive values expected")
        return tuple(neutral)  # type: ignore[return-value]
    xy = cam.numbers(50729, count=2)
    matrices = [(cam.numbers(c, count=9), cam.number(i, 21)) for c, i in ((50721, 50778), (50722, 50779))]
    matrices = [(m, _ILLUMINANT_CT.get(int(i), 5000)) for m, i in matrices if m is not None]
    if xy is not None and matrices and 0 < xy[1] < 1:
        n = (xy[0] - 0.3320) / (0.1858 - xy[1])  # McCamy's correlated colour temperature
        ct = max(449 * n ** 3 + 3525 * n ** 2 + 6823.3 * n + 5520.33, 1000)
        matrix = min(matrices, key=lambda m: abs(1 / m[1] - 1 / ct))[0]
        cam_rgb = np.asarray(matrix).reshape(3, 3) @ np.array([xy[0] / xy[1], 1.0, (1 - xy[0] - xy[1]) / xy[1]])
        if np.all(cam_rgb > 0):
            return tuple(float(v) for v in cam_rgb / cam_rgb[1])  # type: ignore[return-value]
    warn(f"{path}: no AsShotNeutral tag; white balance from the tuning's AWB search (rpi.awb)")
    return None


def _baseline_exposure(cam: Tags, path, warn) -> float:
    """BaselineExposure in EV, applied as the DNG specification asks - except PiDNG's constant +1.

    PiDNG writes BaselineExposure 1 into every picamera2 DNG, for Adobe's renderer. The exposure the Pi's AGC
    chose is already right for the tuning's tone curve, which develops it here: the Pi's own JPEG of the
    frame has no such gain, and applying it blows out what the AGC kept below clipping (mean CIEDE2000 3.7
    instead of 0.97 on the mock's chart). LibRaw, dcraw and RawTherapee do not apply BaselineExposure either.
    """
    ev = cam.number(50730, 0.0)
    if not -10 <= ev <= 10:
        raise cam.error(50730, f"is {ev:g} EV; -10..10 expected")
    if ev and cam.text(305).startswith("PiDNG"):
        warn(f"{path}: BaselineExposure {ev:+g} EV not applied: PiDNG writes it into every picamera2 DNG, "
             f"and the Pi's exposure is already right for its tuning")
        return 0.0
    return ev


def _output_size(tags: Tags, crop: tuple[int, int, int, int]) -> tuple[tuple[int, int, int, int],
                                                                      tuple[int, int] | None]:
    """The crop after DefaultUserCrop, and the size DefaultScale gives it (None: unchanged)."""
    x, y, w, h = crop
    user = tags.numbers(51125, count=4)  # top, left, bottom, right as fractions of the default crop
    if user is not None:
        t, left, b, r = user
        if not (0 <= t < b <= 1 and 0 <= left < r <= 1):
            raise tags.error(51125, f"is {user}; fractions 0 <= top < bottom <= 1 expected")
        x, y = x + int(round(left * w)), y + int(round(t * h))
        w, h = max(int(round((r - left) * w)), 1), max(int(round((b - t) * h)), 1)
    scale = tags.numbers(50718, count=2) or [1.0, 1.0]
    if not all(0.1 <= s <= 10 for s in scale):
        raise tags.error(50718, f"is {scale}; 0.1..10 expected")
    size = (max(int(round(w * scale[0])), 1), max(int(round(h * scale[1])), 1))
    if size[0] * size[1] > pixel_limit():
        raise tags.error(50718, f"{scale} asks for a {size[0]}x{size[1]} picture, more than free memory holds")
    return (x, y, w, h), (size if size != (w, h) else None)


class _TifffileNotes(logging.Handler):
    """tifffile's own warnings about a file (a looping IFD chain, a bad tag) as our one-line warnings."""

    def __init__(self, path):
        super().__init__(logging.WARNING)
        self.path, self.lines = path, []

    def emit(self, record):
        self.lines.append(f"{self.path}: tifffile: {record.getMessage()}".splitlines()[0][:300])

    def __enter__(self):
        self.logger = logging.getLogger("tifffile")
        self.saved = self.logger.propagate
        self.logger.addHandler(self)
        self.logger.propagate = False
        return self

    def __exit__(self, *exc):
        self.logger.removeHandler(self)
        self.logger.propagate = self.saved


def read_dng(path: str | Path) -> DngImage:
    """The CFA image and colour facts of a DNG; ``DngError`` names what is missing, unsupported or broken."""
    import tifffile

    path = Path(path)
    with _TifffileNotes(path) as notes:
        dng = _open_and_read(path, tifffile)
    if notes.lines:
        for line in notes.lines:
            log.warning("%s", line)
        dng = dataclasses.replace(dng, warnings=tuple(notes.lines) + dng.warnings)
    return dng


def _open_and_read(path: Path, tifffile) -> DngImage:
    try:
        tif = tifffile.TiffFile(path)
    except FileNotFoundError:
        raise DngError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DngError(f"{path}: is a directory") from None
    except MemoryError:
        raise DngError(f"{path}: not enough memory to parse the TIFF structure") from None
    except Exception as exc:  # tifffile reports a malformed header or IFD in many ways
        raise DngError(f"{path}: not a readable TIFF/DNG file ({type(exc).__name__}: {exc})") from None
    with tif:
        try:
            return _read(path, tif)
        except DngError:
            raise
        except MemoryError:
            raise DngError(f"{path}: not enough memory to read the raw image") from None
        except Exception as exc:  # tifffile parses IFDs and tag values lazily: a corrupt one surfaces anywhere
            raise DngError(f"{path}: corrupt TIFF structure ({type(exc).__name__}: {exc})") from None


def _read(path: Path, tif) -> DngImage:
    if len(tif.pages) == 0:
        raise DngError(f"{path}: no IFD where the TIFF header points (its IFD0 offset is wrong)")
    ifd0 = tif.pages[0].tags
    if ifd0.get(50706) is None:
        raise DngError(f"{path}: not a DNG (no DNGVersion tag)")
    page = _cfa_page(path, tif)
    exif = exif_tags(ifd0)
    raw_tags = Tags(path, page.tags)
    cam = Tags(path, ifd0, page.tags, exif)
    warnings: list[str] = []
    cfa = _cfa_order(path, raw_tags)
    layout = Layout.of(path, page)
    samples = read_samples(path, tif.filehandle, page, tif.byteorder)
    bits = layout.bits
    ev = _baseline_exposure(cam, path, warnings.append)
    # camerad's own DNGs (Make camerad, its recipe in DNGPrivateData) carry the tuning's lens shading as GainMaps
    # for other developers; here the tuning's ALSC applies it, as in the camera - and a new tuning's replaces it.
    own = cam.text(271) == "camerad" or read_recipe(ifd0) is not None
    frame = build_raw(samples, raw_tags, cfa, bits, path, warnings.append, ev, shading_by_tuning=own)
    del samples
    neutral = _neutral(cam, path, warnings.append)
    noise = cam.numbers(51041)
    profile = None
    if noise is not None and len(noise) >= 2 and noise[0] > 0 and noise[1] >= 0:
        k = frame.exposure_scale  # variance S x + O of x; of k x it is k S (k x) + k^2 O
        profile = NoiseProfile(noise[0] * k, noise[1] * k * k)
    crop, output = _output_size(raw_tags, frame.crop)
    exposure, iso = cam.number(33434), cam.number(34855)
    f_number, focal = cam.number(33437), cam.number(37386)
    stamp = cam.text(36867) or cam.text(306)
    for line in warnings:
        log.warning("%s", line)
    return DngImage(
        path=str(path), raw=frame.raw, cfa=cfa, black_levels=frame.black, white_level=frame.white,
        as_shot_neutral=neutral, noise_profile=profile,
        make=cam.text(271), model=cam.text(272), unique_model=cam.text(50708),
        exposure_us=int(round(exposure * 1e6)) if exposure and 0 < exposure < 1e5 else 0,
        iso=int(iso) if iso and 0 < iso < 1e7 else 0,
        orientation=int(o) if (o := cam.number(274, 1)) in range(1, 9) else 1,
        f_number=f_number if f_number and f_number > 0 else None,
        focal_length_mm=focal if focal and focal > 0 else None,
        lens_model=cam.text(42036) or None,
        datetime=(stamp, cam.text(37521), cam.text(36881)) if stamp else None,
        baseline_exposure=float(np.log2(frame.exposure_scale)),
        crop=crop if crop != (0, 0, frame.raw.shape[1], frame.raw.shape[0]) else None,
        output_size=output, warnings=tuple(warnings),
        tags={"bits_per_sample": bits, "compression": layout.compression, "white_level": frame.stored_white,
              "black_level": frame.stored_black},
    )
