"""DNG 1.4 from a raw Bayer frame, written with PiDNG.

The colour tags are what a raw developer needs to render our files right without our ISP:

* ``ColorMatrix1/2`` for Standard Light A and D65, each built from the tuning's CCM *at that illuminant's
  colour temperature* and the ``ct_curve``'s neutral there - not one matrix at whatever CT the shot had, which
  is what makes picamera2's and rpicam-apps' DNGs render with the wrong colours under other light;
* ``AsShotNeutral`` from the frame's colour gains; ``BlackLevel`` per CFA site; ``WhiteLevel``;
* ``NoiseProfile`` (variance = S x + O on the normalised signal): the frame's, i.e. the tuning's ``rpi.noise``
  at the frame's analogue gain (``firmware.develop.frame_facts``).

CFA order, black level per site, white level and noise profile come from the frame's ``FrameInfo``, derived
once by the caller and shared with the developer, so the DNG and the JPEG describe the same frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

import numpy as np
from pidng.core import RAW2DNG
from pidng.defs import PhotometricInterpretation
from pidng.dng import DNGTags, Tag, Type

from ..colour.matrices import ILLUMINANTS, SRGB_TO_XYZ, bradford
from ..frame import FrameInfo, iso_speed
from ..tuning import TuningFile
from ..tuning.blocks import Awb, Ccm
from .identity import CameraIdentity

CFA_CODES = {"R": 0, "G": 1, "B": 2}
# Tags PiDNG's table lacks.
_OFFSET_TIME_ORIGINAL = (36881, Type.Ascii)
_CAMERA_SERIAL = (50735, Type.Ascii)


@dataclass(frozen=True)
class DngColour:
    matrix_a: np.ndarray
    matrix_d65: np.ndarray
    as_shot_neutral: tuple[float, float, float]
    noise_profile: tuple[float, float] | None


def colour_matrix(tuning: TuningFile, illuminant: str) -> np.ndarray:
    """DNG ColorMatrix (XYZ under the illuminant -> camera RGB), normalised so its white maps to max 1."""
    code, xy, ct = ILLUMINANTS[illuminant]
    ccm = Ccm.read(tuning).at(ct)
    curve = Awb.read(tuning).curve
    r, b = curve.rb(ct) if curve is not None else (1.0, 1.0)
    camera_to_xyz = bradford(ILLUMINANTS["D65"][1], xy) @ SRGB_TO_XYZ @ ccm @ np.diag([1.0 / r, 1.0, 1.0 / b])
    cm = np.linalg.inv(camera_to_xyz)
    white = cm @ np.array([xy[0] / xy[1], 1.0, (1 - xy[0] - xy[1]) / xy[1]])
    return cm / white.max()


def colour_tags(tuning: TuningFile, metadata: Mapping[str, Any], frame: FrameInfo) -> DngColour:
    gains = metadata.get("ColourGains") or (1.0, 1.0)
    noise = frame.noise
    return DngColour(
        matrix_a=colour_matrix(tuning, "A"),
        matrix_d65=colour_matrix(tuning, "D65"),
        as_shot_neutral=(1.0 / gains[0], 1.0, 1.0 / gains[1]),
        noise_profile=None if noise is None else (noise.shot, noise.read),
    )


def _srational(values, den: int = 10000) -> list[list[int]]:
    return [[int(round(float(v) * den)), den] for v in np.ravel(values)]


def _rational(value: float) -> list[list[int]]:
    f = Fraction(value).limit_denominator(1_000_000)
    return [[f.numerator, f.denominator]]


def exif_datetime(wall_ns: int) -> tuple[str, str, str]:
    """EXIF DateTime, SubSecTime (ms) and OffsetTime for a wall-clock timestamp in local time."""
    secs, ns = divmod(wall_ns, 1_000_000_000)
    lt = time.localtime(secs)
    off = lt.tm_gmtoff or 0
    sign = "+" if off >= 0 else "-"
    offset = f"{sign}{abs(off) // 3600:02d}:{abs(off) % 3600 // 60:02d}"
    return time.strftime("%Y:%m:%d %H:%M:%S", lt), f"{ns // 1_000_000:03d}", offset


def encode_dng(raw: np.ndarray, metadata: Mapping[str, Any], frame: FrameInfo, *, tuning: TuningFile,
               identity: CameraIdentity, wall_ns: int, orientation: int = 1) -> bytes:
    """The DNG file for one raw frame (uint16, unpacked, black level included) that ``frame`` describes."""
    if raw.dtype != np.uint16 or raw.ndim != 2:
        raise ValueError(f"DNG needs a 2-D uint16 Bayer frame, got {raw.dtype} {raw.shape}")
    h, w = raw.shape
    colour = colour_tags(tuning, metadata, frame)
    cfa = frame.cfa
    black = [int(b) for b in frame.black_levels]

    t = DNGTags()
    t.set(Tag.ImageWidth, w)
    t.set(Tag.ImageLength, h)
    t.set(Tag.TileWidth, w)
    t.set(Tag.TileLength, h)
    t.set(Tag.Orientation, orientation)
    t.set(Tag.PhotometricInterpretation, PhotometricInterpretation.Color_Filter_Array)
    t.set(Tag.SamplesPerPixel, 1)
    t.set(Tag.BitsPerSample, 16)
    t.set(Tag.CFARepeatPatternDim, [2, 2])
    t.set(Tag.CFAPattern, [CFA_CODES[c] for c in cfa])
    t.set(Tag.BlackLevelRepeatDim, [2, 2])
    t.set(Tag.BlackLevel, black)
    t.set(Tag.WhiteLevel, frame.white_level)
    t.set(Tag.ColorMatrix1, _srational(colour.matrix_a))
    t.set(Tag.CalibrationIlluminant1, ILLUMINANTS["A"][0])
    t.set(Tag.ColorMatrix2, _srational(colour.matrix_d65))
    t.set(Tag.CalibrationIlluminant2, ILLUMINANTS["D65"][0])
    t.set(Tag.AsShotNeutral, [[int(round(v * 10000)), 10000] for v in colour.as_shot_neutral])
    t.set(Tag.BaselineExposure, [[0, 1]])
    if colour.noise_profile is not None:
        t.set(Tag.NoiseProfile, list(colour.noise_profile))
    t.set(Tag.Make, identity.make)
    t.set(Tag.Model, identity.model)
    t.set(Tag.UniqueCameraModel, f"{identity.make} {identity.model}")
    t.set(Tag.Software, identity.software)
    if identity.serial:
        t.set(_CAMERA_SERIAL, identity.serial)
    exposure_s = float(metadata.get("ExposureTime", 0)) / 1e6
    if exposure_s > 0:
        t.set(Tag.ExposureTime, _rational(exposure_s))
    t.set(Tag.PhotographicSensitivity, [iso_speed(metadata)])
    if identity.f_number:
        t.set(Tag.FNumber, _rational(identity.f_number))
    if identity.focal_length_mm:
        t.set(Tag.FocalLength, _rational(identity.focal_length_mm))
    stamp, subsec, offset = exif_datetime(wall_ns)
    t.set(Tag.DateTime, stamp)
    t.set(Tag.DateTimeOriginal, stamp)
    t.set(Tag.SubsecTimeOriginal, subsec)
    t.set(_OFFSET_TIME_ORIGINAL, offset)
    t.set(Tag.RawDataUniqueID, list(int(metadata.get("SensorTimestamp", 0)).to_bytes(16, "big")))
    conv = RAW2DNG()
    conv.options(t, path="", compress=False)
    return bytes(conv.convert(np.ascontiguousarray(raw), filename=""))


def exposure_fraction(us: float) -> str:
    return f"1/{round(1e6 / us)}" if 0 < us < 1e6 else f"{us / 1e6:g}"

