"""Lens effects on a sensor mode: the lens's shading (``lens.py``) sampled where the mode's pixels are, and blur.

Positions are fractions of the pixel array, so a cropped or binned mode sees exactly the part of the shading
it reads out.
"""

from __future__ import annotations

import numpy as np

from ..protocol import SensorMode
from . import spectral
from .models import SensorModel


def array_coords(model: SensorModel, mode: SensorMode) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres of ``mode`` as fractions of the pixel array: (x of each column, y of each row)."""
    aw, ah = model.info.pixel_array_size
    cx, cy, cw, ch = mode.crop
    w, h = mode.size
    return (cx + (np.arange(w) + 0.5) * cw / w) / aw, (cy + (np.arange(h) + 0.5) * ch / h) / ah


def shading_at(model: SensorModel, lighting: spectral.Lighting, fx, fy) -> np.ndarray:
    """True per-channel transmission (..., 3) the optics apply at array fractions (fx, fy)."""
    return model.lens.gain(model.camera, lighting, fx, fy)


def shading_plane(model: SensorModel, mode: SensorMode, lighting: spectral.Lighting, channel: int) -> np.ndarray:
    """Transmission of one channel over the whole mode, (h, w) float32."""
    fx, fy = array_coords(model, mode)
    return np.ascontiguousarray(model.lens.gain(model.camera, lighting, fx[None, :], fy[:, None], channel))


def blur_sigma(model: SensorModel, mode: SensorMode) -> float:
    """The lens blur in the mode's pixels (binning shrinks it)."""
    scale = mode.size[0] / mode.crop[2]
    return model.blur_sigma_px * scale
