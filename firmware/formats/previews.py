"""Small pictures inside the big files, as cameras write them.

* the DNG's IFD0 thumbnail: 256 pixels on the long side, uncompressed 8-bit RGB (what file browsers and
  ``exiftool -ThumbnailImage`` read without a JPEG decoder);
* the DNG's preview: a 1024-pixel baseline JPEG of the camera's own rendering (Adobe's "medium" preview),
  in a sub-IFD with ``PreviewColorSpace`` sRGB, which raw browsers show before developing anything;
* the JPEG's EXIF thumbnail: at most 160 x 120 (the EXIF/DCF size), a baseline JPEG in IFD1.

All are made from the developed 8-bit sRGB picture by area averaging (OpenCV's INTER_AREA).
"""

from __future__ import annotations

import cv2
import numpy as np

from .jpeg import encode_jpeg

THUMBNAIL_LONG_SIDE = 256
PREVIEW_LONG_SIDE = 1024
EXIF_THUMBNAIL_BOX = (160, 120)


def fit(rgb: np.ndarray, box: tuple[int, int]) -> np.ndarray:
    """``rgb`` scaled down to fit in ``box`` (width, height) keeping its aspect; never scaled up."""
    h, w = rgb.shape[:2]
    scale = min(box[0] / w, box[1] / h, 1.0)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if size == (w, h):
        return np.ascontiguousarray(rgb)
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def long_side(rgb: np.ndarray, n: int) -> np.ndarray:
    return fit(rgb, (n, n))


def baseline_jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    """A plain baseline JPEG (4:2:0, no EXIF, no profile): what a preview or a thumbnail holds."""
    return encode_jpeg(np.ascontiguousarray(rgb), quality=quality, icc_profile=None)


def thumbnail_jpeg(rgb: np.ndarray) -> bytes:
    """The JPEG's EXIF thumbnail (at most 160 x 120), small enough for the 64 KB APP1 segment."""
    return baseline_jpeg(fit(rgb, EXIF_THUMBNAIL_BOX), quality=80)
