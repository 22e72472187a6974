"""16-bit TIFF of a developed picture (sRGB, with its ICC profile), for editing without 8-bit banding."""

from __future__ import annotations

import io

import numpy as np

from .jpeg import srgb_icc_profile

_ICC_TAG = 34675  # InterColorProfile


def encode_tiff16(rgb16: np.ndarray, *, make: str = "", model: str = "", software: str = "camerad",
                  orientation: int = 1) -> bytes:
    """An uncompressed 16-bit RGB TIFF of an (h, w, 3) uint16 sRGB image, ICC profile embedded."""
    import tifffile

    if rgb16.dtype != np.uint16 or rgb16.ndim != 3 or rgb16.shape[2] != 3:
        raise ValueError(f"a 16-bit TIFF needs (h, w, 3) uint16 RGB, got {rgb16.dtype} {rgb16.shape}")
    buf = io.BytesIO()
    icc = srgb_icc_profile()
    tags = [(_ICC_TAG, "B", len(icc), icc, True), (274, "H", 1, int(orientation), True)]
    if make:
        tags.append((271, "s", 0, make, True))
    if model:
        tags.append((272, "s", 0, model, True))
    tifffile.imwrite(buf, rgb16, photometric="rgb", software=software, extratags=tags, metadata=None)
    return buf.getvalue()
