"""EXIF of a capture, built once for both files: the JPEG's APP1 block and the DNG's EXIF IFD.

The shot's facts (exposure, ISO, aperture, lens, time with sub-seconds and UTC offset, serial) live in the
EXIF IFD, where EXIF 2.32 puts them, never in IFD0. The JPEG adds what EXIF requires of a JPEG (resolution,
``YCbCrPositioning``, ``ComponentsConfiguration``, ``FlashpixVersion``, ``ColorSpace``, pixel dimensions)
and an IFD1 thumbnail, as cameras write them.

FNumber is the aperture the lens is set to (``[lens] f_number`` in the configuration, else the board
profile's lens, whose aperture is fixed or unknown); ``MaxApertureValue`` and ``LensSpecification`` carry the
lens's widest aperture.
"""

from __future__ import annotations

import math
import time
from typing import Any, Mapping

from ..frame import iso_speed
from .identity import CameraIdentity
from .tiff_ifd import ASCII, LONG, RATIONAL, SHORT, UNDEFINED, Ifd, rational, serialize

# EXIF tags by name (EXIF 2.32; TIFF 6 for IFD0/IFD1).
MAKE, MODEL, ORIENTATION, SOFTWARE, DATETIME = 271, 272, 274, 305, 306
X_RESOLUTION, Y_RESOLUTION, RESOLUTION_UNIT, YCBCR_POSITIONING = 282, 283, 296, 531
COMPRESSION, JPEG_OFFSET, JPEG_LENGTH = 259, 513, 514


def exif_datetime(wall_ns: int) -> tuple[str, str, str]:
    """EXIF DateTime, SubSecTime (ms) and OffsetTime for a wall-clock timestamp in local time."""
    secs, ns = divmod(int(wall_ns), 1_000_000_000)
    lt = time.localtime(secs)
    off = lt.tm_gmtoff or 0
    sign = "+" if off >= 0 else "-"
    offset = f"{sign}{abs(off) // 3600:02d}:{abs(off) % 3600 // 60:02d}"
    return time.strftime("%Y:%m:%d %H:%M:%S", lt), f"{ns // 1_000_000:03d}", offset



def exif_ifd(metadata: Mapping[str, Any], identity: CameraIdentity, when: tuple[str, str, str], *,
             manual_wb: bool = False) -> Ifd:
    """The EXIF IFD of a shot, as both the JPEG and the DNG carry it."""
    stamp, subsec, offset = when
    e = Ifd()
    exposure_us = float(metadata.get("ExposureTime", 0) or 0)
    if exposure_us > 0:
        e.set(0x829A, RATIONAL, rational(exposure_us / 1e6))
    if identity.f_number:
        e.set(0x829D, RATIONAL, rational(identity.f_number, 100))
    e.set(0x8827, SHORT, min(iso_speed(metadata), 65535))
    e.set(0x8830, SHORT, 3)  # SensitivityType: ISO speed
    e.set(0x9000, UNDEFINED, b"0232")
    e.set(0x9003, ASCII, stamp)
    e.set(0x9004, ASCII, stamp)
    if offset:
        for tag in (0x9010, 0x9011, 0x9012):
            e.set(tag, ASCII, offset)
    widest = identity.max_f_number or identity.f_number
    if widest:
        e.set(0x9205, RATIONAL, rational(2 * math.log2(widest), 1000))  # APEX
    if identity.focal_length_mm:
        e.set(0x920A, RATIONAL, rational(identity.focal_length_mm, 100))
    for tag in (0x9290, 0x9291, 0x9292):
        e.set(tag, ASCII, subsec)
    e.set(0xA403, SHORT, 1 if manual_wb else 0)
    if identity.serial:
        e.set(0xA431, ASCII, identity.serial)
    if identity.focal_length_mm and widest:
        f, n = identity.focal_length_mm, widest
        e.set(0xA432, RATIONAL, [rational(f, 100), rational(f, 100), rational(n, 100), rational(n, 100)])
    if identity.lens_model:
        e.set(0xA434, ASCII, identity.lens_model)
    return e


def _resolution(ifd: Ifd) -> None:
    ifd.set(X_RESOLUTION, RATIONAL, (72, 1)).set(Y_RESOLUTION, RATIONAL, (72, 1)).set(RESOLUTION_UNIT, SHORT, 2)


def exif_bytes(metadata: Mapping[str, Any], identity: CameraIdentity, wall_ns: int, *,
               size: tuple[int, int] | None = None, manual_wb: bool = False, orientation: int = 1,
               when: tuple[str, str, str] | None = None, thumbnail: bytes | None = None) -> bytes:
    """A JPEG's EXIF block (``Exif\\0\\0`` and a TIFF structure) for a capture.

    ``size``: the picture's (width, height); ``when`` = (DateTime, SubSec, Offset) overrides formatting
    ``wall_ns`` locally; ``thumbnail``: a small baseline JPEG for IFD1 (``formats.previews.thumbnail_jpeg``).
    """
    when = when or exif_datetime(wall_ns)
    ifd0 = Ifd()
    ifd0.set(MAKE, ASCII, identity.make).set(MODEL, ASCII, identity.model)
    ifd0.set(ORIENTATION, SHORT, int(orientation))
    _resolution(ifd0)
    ifd0.set(SOFTWARE, ASCII, identity.software).set(DATETIME, ASCII, when[0])
    ifd0.set(YCBCR_POSITIONING, SHORT, 1)  # centred, as JFIF and libjpeg's 4:2:0 sampling have it
    exif = exif_ifd(metadata, identity, when, manual_wb=manual_wb)
    exif.set(0x9101, UNDEFINED, b"\x01\x02\x03\x00")  # ComponentsConfiguration: Y Cb Cr
    exif.set(0xA000, UNDEFINED, b"0100")  # FlashpixVersion
    exif.set(0xA001, SHORT, 1)  # ColorSpace: sRGB
    if size:
        exif.set(0xA002, LONG, int(size[0])).set(0xA003, LONG, int(size[1]))
    ifd0.exif = exif
    if thumbnail:
        ifd1 = Ifd().set(COMPRESSION, SHORT, 6)
        _resolution(ifd1)
        ifd1.image([thumbnail])
        ifd1.segment_tags = (JPEG_OFFSET, JPEG_LENGTH)
        ifd0.next = ifd1
    return b"Exif\0\0" + serialize(ifd0)
