"""JPEG through libjpeg-turbo (Pillow's encoder), for stills and previews alike; EXIF built with piexif.

EXIF carries make, model, exposure, ISO, f-number and focal length (from the board profile), white balance,
and the capture time with sub-seconds and the UTC offset, so photo tools sort bursts correctly. Every JPEG
embeds an sRGB ICC profile (made by Pillow's LittleCMS binding), so colour-managed viewers need not guess.
Preview frames (the viewfinder, the MJPEG stream) are the same call without EXIF or profile:
``encode_jpeg(rgb, quality=80, icc_profile=None)``, a millisecond for 640x480.
"""

from __future__ import annotations

import functools
import io
from fractions import Fraction
from typing import Any, Mapping

import numpy as np
import piexif
from PIL import Image

from ..frame import iso_speed
from .dng import exif_datetime
from .identity import CameraIdentity


def _ratio(value: float, limit: int = 1_000_000) -> tuple[int, int]:
    f = Fraction(value).limit_denominator(limit)
    return f.numerator, f.denominator


@functools.cache
def srgb_icc_profile() -> bytes:
    """The ICC profile of sRGB IEC 61966-2.1, as LittleCMS builds it."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_bytes(metadata: Mapping[str, Any], identity: CameraIdentity, wall_ns: int, *,
               size: tuple[int, int] | None = None, manual_wb: bool = False, orientation: int = 1,
               when: tuple[str, str, str] | None = None) -> bytes:
    """EXIF for a capture; ``when`` = (DateTime, SubSec, Offset) overrides formatting ``wall_ns`` locally."""
    stamp, subsec, offset = when or exif_datetime(wall_ns)
    zeroth = {
        piexif.ImageIFD.Make: identity.make,
        piexif.ImageIFD.Model: identity.model,
        piexif.ImageIFD.Software: identity.software,
        piexif.ImageIFD.DateTime: stamp,
        piexif.ImageIFD.Orientation: int(orientation),
    }
    exif = {
        piexif.ExifIFD.DateTimeOriginal: stamp,
        piexif.ExifIFD.DateTimeDigitized: stamp,
        piexif.ExifIFD.SubSecTimeOriginal: subsec,
        piexif.ExifIFD.SubSecTimeDigitized: subsec,
        piexif.ExifIFD.ISOSpeedRatings: iso_speed(metadata),
        piexif.ExifIFD.WhiteBalance: 1 if manual_wb else 0,
        piexif.ExifIFD.ColorSpace: 1,
        piexif.ExifIFD.ExifVersion: b"0232",
    }
    if offset:
        exif[piexif.ExifIFD.OffsetTimeOriginal] = offset
        exif[piexif.ExifIFD.OffsetTime] = offset
    exposure_us = float(metadata.get("ExposureTime", 0))
    if exposure_us > 0:
        exif[piexif.ExifIFD.ExposureTime] = _ratio(exposure_us / 1e6)
    if identity.f_number:
        exif[piexif.ExifIFD.FNumber] = _ratio(identity.f_number, 100)
    if identity.focal_length_mm:
        exif[piexif.ExifIFD.FocalLength] = _ratio(identity.focal_length_mm, 100)
    if identity.lens_model:
        exif[piexif.ExifIFD.LensModel] = identity.lens_model
    if identity.serial:
        exif[piexif.ExifIFD.BodySerialNumber] = identity.serial
    if size:
        exif[piexif.ExifIFD.PixelXDimension], exif[piexif.ExifIFD.PixelYDimension] = size
    return piexif.dump({"0th": zeroth, "Exif": exif})


def encode_jpeg(rgb: np.ndarray, exif: bytes | None = None, quality: int = 93,
                icc_profile: bytes | None = b"srgb") -> bytes:
    """Encode an (h, w, 3) uint8 sRGB image; 4:2:0 chroma like rpicam-still's default.

    ``icc_profile`` defaults to the sRGB profile; pass None to leave it out or other bytes to embed those.
    """
    if icc_profile == b"srgb":
        icc_profile = srgb_icc_profile()
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"JPEG needs (h, w, 3) uint8 RGB, got {rgb.dtype} {rgb.shape}")
    buf = io.BytesIO()
    kwargs = {"quality": int(quality), "subsampling": 2, "optimize": False}
    if exif:
        kwargs["exif"] = exif
    if icc_profile:
        kwargs["icc_profile"] = icc_profile
    Image.fromarray(rgb, "RGB").save(buf, "JPEG", **kwargs)
    return buf.getvalue()
