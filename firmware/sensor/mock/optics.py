"""Lens effects: light fall-off, colour shading that follows the illuminant, and a mild blur.

Coordinates are normalised to the pixel array: ``r = 1`` at the array's corners, so a cropped or binned mode
sees exactly the part of the shading it reads out. The colour shading comes from the IR-cut filter's edge
shifting at oblique incidence (``spectral.red_loss``), so it is stronger under tungsten than daylight, as on
real modules; that is why libcamera keeps ALSC colour tables per colour temperature.
"""

from __future__ import annotations

import numpy as np

from ..protocol import SensorMode
from . import spectral
from .models import SensorModel


def array_coords(model: SensorModel, mode: SensorMode) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres of ``mode`` in normalised array coordinates: (u of each column, v of each row)."""
    aw, ah = model.info.pixel_array_size
    cx, cy, cw, ch = mode.crop
    w, h = mode.size
    half_diag = 0.5 * np.hypot(aw, ah)
    xs = cx + (np.arange(w) + 0.5) * cw / w
    ys = cy + (np.arange(h) + 0.5) * ch / h
    return (xs - aw / 2) / half_diag, (ys - ah / 2) / half_diag


def radius2(model: SensorModel, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    ou, ov = model.optical_centre
    return (np.asarray(u) - ou) ** 2 + (np.asarray(v) - ov) ** 2


def shading_at(model: SensorModel, lighting: spectral.Lighting, u, v) -> np.ndarray:
    """True per-channel gain (..., 3) the optics apply at array coordinates (u, v); 1 at the optical centre."""
    r2 = radius2(model, u, v)[..., None]
    falloff = 1.0 / (1.0 + model.vignetting * r2) ** 2
    loss = spectral.red_loss(lighting) * model.ir_shift_loss
    return (falloff * (1.0 - loss * r2)).astype(np.float32)


def shading_plane(model: SensorModel, mode: SensorMode, lighting: spectral.Lighting, channel: int) -> np.ndarray:
    """Gain of one channel over the whole mode, (h, w) float32."""
    u, v = array_coords(model, mode)
    r2 = radius2(model, u[None, :], v[:, None]).astype(np.float32)
    loss = np.float32(spectral.red_loss(lighting)[channel] * model.ir_shift_loss)
    return (1.0 - loss * r2) / (1.0 + np.float32(model.vignetting) * r2) ** 2


def blur_sigma(model: SensorModel, mode: SensorMode) -> float:
    """The lens blur in the mode's pixels (binning shrinks it)."""
    scale = mode.size[0] / mode.crop[2]
    return model.blur_sigma_px * scale
