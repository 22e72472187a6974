"""JPEG through libjpeg-turbo (Pillow's encoder), for stills and previews alike; EXIF is built by ``formats.exif``.

EXIF carries make, model, exposure, ISO, aperture, lens, white balance and the capture time with sub-seconds
and the UTC offset (so photo tools sort bursts correctly), and a thumbnail in IFD1. Every JPEG
embeds an sRGB ICC profile (made by Pillow's LittleCMS binding), so colour-managed viewers need not guess.
Preview frames (the viewfinder, the MJPEG stream, a DNG's preview and the thumbnails) are the same call
without EXIF or profile: ``encode_jpeg(rgb, quality=80, icc_profile=None)``, a millisecond for 640x480.
"""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image

from .exif import exif_bytes  # noqa: F401  (the JPEG's EXIF block: built in formats.exif)


@functools.cache
def srgb_icc_profile() -> bytes:
    """The ICC profile of sRGB IEC 61966-2.1, as LittleCMS builds it."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def encode_jpeg(rgb: np.ndarray, exif: bytes | None = None, quality: int = 93,
                icc_profile: bytes | None = b"srgb", xmp: bytes | None = None) -> bytes:
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
    if xmp:
        kwargs["xmp"] = xmp
    Image.fromarray(rgb, "RGB").save(buf, "JPEG", **kwargs)
    return buf.getvalue()
