"""Tone curves in libcamera's ``rpi.contrast`` form: (input, output) pairs over 0..65535."""

from __future__ import annotations

import numpy as np

from .pwl import Pwl


def srgb_encode(x):
    """The sRGB transfer function (IEC 61966-2-1) on linear values in 0..1."""
    x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055)


def srgb_decode(v):
    v = np.clip(np.asarray(v, dtype=float), 0.0, 1.0)
    return np.where(v <= 0.04045, v / 12.92, np.power((v + 0.055) / 1.055, 2.4))


def srgb_gamma_curve(points: int = 33) -> Pwl:
    """The sRGB curve sampled like libcamera's gamma curves: dense in the shadows, where it bends most."""
    t = np.linspace(0.0, 1.0, points)
    xs = np.unique(np.round(65535.0 * t**2.2).astype(int))
    ys = np.round(65535.0 * srgb_encode(xs / 65535.0)).astype(int)
    return Pwl.from_points(xs.astype(float), ys.astype(float))
