"""The lens's shading: how much light reaches each photosite, per colour channel, relative to the best spot.

Two lenses, behind one method ``gain(camera, lighting, fx, fy, channel=None)`` that gives the transmission
(..., 3), or of one channel (...), at positions given as fractions of the pixel array (0..1 across, 0..1 down):

* ``RadialLens`` - the hand-made mocks' physics: cos^4-like fall-off about an optical centre, and colour
  shading from the IR-cut filter's edge moving to shorter wavelengths at oblique incidence
  (``spectral.red_loss``), so it is stronger under tungsten than daylight, as on real modules;
* ``TableLens`` - the lens a libcamera tuning file describes: the exact inverse of the gains libcamera's
  ``rpi.alsc`` programs at full luminance strength. The luminance table is the fall-off (``1 / lut``); the
  red and blue colour tables, interpolated in kelvin at the light's colour temperature (``getCalTable``)
  and each divided by its own minimum (``compensateLambdasForCal``), are the colour shading on top of it.
  Between cell centres the gain is bilinear and beyond the outermost centres it is held, exactly as
  libcamera resamples the tables (``resampleCalTable``) and the Pi's ISP spreads them over the pixels
  (``resampleTable``, corner-sampled tables whose indices are clamped to the grid): correcting a flat field
  with the file's own tables then leaves it flat to the last pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...tuning.interp import interpolate_ct
from . import spectral


@dataclass(frozen=True, eq=False)
class RadialLens:
    # Radius-squared coefficient of the natural and mechanical light fall-off, and the optical centre's
    # offset from the array centre (fractions of the half-diagonal).
    vignetting: float
    optical_centre: tuple[float, float]
    # Fraction of a channel's IR-edge band lost at the frame corner (colour shading, see spectral.py).
    ir_shift_loss: float
    array_size: tuple[int, int]

    def _radius2(self, fx, fy) -> np.ndarray:
        # r = 1 at the array's corners.
        aw, ah = self.array_size
        half_diag = 0.5 * np.hypot(aw, ah)
        u = (np.asarray(fx) - 0.5) * aw / half_diag - self.optical_centre[0]
        v = (np.asarray(fy) - 0.5) * ah / half_diag - self.optical_centre[1]
        return (u * u + v * v).astype(np.float32)

    def gain(self, camera, lighting: spectral.Lighting, fx, fy, channel: int | None = None) -> np.ndarray:
        r2 = self._radius2(fx, fy)
        loss = (spectral.red_loss(lighting, camera) * self.ir_shift_loss).astype(np.float32)
        if channel is None:
            r2 = r2[..., None]
        else:
            loss = loss[channel]
        return (1.0 - loss * r2) / (1.0 + np.float32(self.vignetting) * r2) ** 2


def _weights(pos: np.ndarray, n: int) -> np.ndarray:
    """(len(pos), n) linear-interpolation weights at grid positions ``pos`` (cell centres at 0..n-1), the end
    values held beyond the ends."""
    pos = np.clip(pos, 0, n - 1)
    lo = np.clip(np.floor(pos).astype(int), 0, n - 2)
    f = pos - lo
    w = np.zeros((len(pos), n))
    rows = np.arange(len(pos))
    w[rows, lo] = 1.0 - f
    w[rows, lo + 1] = f
    return w


@dataclass(frozen=True, eq=False)
class TableLens:
    luminance: np.ndarray  # (rows, cols) libcamera's luminance_lut: the gain that undoes the fall-off
    cts_r: tuple[float, ...]
    tables_r: tuple[np.ndarray, ...]  # calibrations_Cr, as the file holds them
    cts_b: tuple[float, ...]
    tables_b: tuple[np.ndarray, ...]

    def gains(self, ct: float) -> np.ndarray:
        """(rows, cols, 3): the gains libcamera programs at ``ct`` and luminance strength 1."""
        def colour(cts, tables):
            if not cts:
                return np.ones_like(self.luminance)
            t = interpolate_ct(cts, tables, ct)
            return t / t.min()

        lum = self.luminance
        return np.stack([colour(self.cts_r, self.tables_r) * lum, lum, colour(self.cts_b, self.tables_b) * lum],
                        axis=-1)

    def gain(self, camera, lighting: spectral.Lighting, fx, fy, channel: int | None = None) -> np.ndarray:
        """Transmission at (fx, fy): 1 / the bilinearly interpolated gain. ``fx``, ``fy`` are a row of columns
        and a column of rows (a whole mode: separable, cheap), or arrays that broadcast together."""
        rows, cols = self.luminance.shape
        fx, fy = np.asarray(fx, dtype=float), np.asarray(fy, dtype=float)
        g = self.gains(lighting.ct)
        channels = range(3) if channel is None else (channel,)
        if fx.ndim == 2 and fy.ndim == 2 and fx.shape[0] == 1 and fy.shape[1] == 1:
            wx = _weights(fx[0] * cols - 0.5, cols)
            wy = _weights(fy[:, 0] * rows - 0.5, rows)
            out = np.stack([wy @ g[..., c] @ wx.T for c in channels], axis=-1)
        else:
            fx, fy = np.broadcast_arrays(fx, fy)
            wx = _weights(fx.ravel() * cols - 0.5, cols)
            wy = _weights(fy.ravel() * rows - 0.5, rows)
            out = np.stack([np.einsum("ki,ij,kj->k", wy, g[..., c], wx) for c in channels], axis=-1)
            out = out.reshape(fx.shape + (len(channels),))
        out = (1.0 / out).astype(np.float32)
        return out if channel is None else out[..., 0]
