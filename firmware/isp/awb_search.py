"""Automatic white balance for frames that carry no gains: libcamera's Bayesian search along ``ct_curve``.

Zone statistics (a 16x12 grid on vc4 files, 32x32 on pisp, as the ISP's AWB regions) are taken after lens
shading correction, as on the Pi. Each colour temperature along the curve between the mode's limits is scored
as ``awb.cpp`` does: the sum over zones of min(|zone / neutral(ct) - 1|^2, delta_limit), minus the prior's log
likelihood at the frame's lux; the best is refined with a parabola through its neighbours.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..tuning.blocks import Awb, AwbCurve

GRIDS = {"bcm2835": (16, 12), "pisp": (32, 32)}
MIN_ZONES = 10  # libcamera's min_regions default
_DARK = 0.01 * 65535  # zones darker than this carry mostly noise
_BRIGHT = 0.95 * 65535  # zones this bright may hold clipped channels


def zone_means(bayer16: np.ndarray, cfa: str, grid: tuple[int, int]) -> np.ndarray:
    """Mean R, G, B of each grid zone, (rows, cols, 3), from every other same-colour site (plenty for means)."""
    sums = {"R": [], "G": [], "B": []}
    for i, colour in enumerate(cfa):
        dy, dx = divmod(i, 2)
        plane = np.ascontiguousarray(bayer16[dy::4, dx::4], dtype=np.float32)
        sums[colour].append(cv2.resize(plane, grid, interpolation=cv2.INTER_AREA))
    return np.stack([np.mean(sums[c], axis=0) for c in "RGB"], axis=-1)


def grey_world(zones: np.ndarray) -> tuple[float, float]:
    r, g, b = zones.reshape(-1, 3).mean(axis=0)
    return float(g / max(r, 1e-6)), float(g / max(b, 1e-6))


def search(zones: np.ndarray, awb: Awb, lux: float, mode: str = "auto") -> tuple[float, tuple[float, float]] | None:
    """(colour temperature, (gain_r, gain_b)) for the zones, or None with too few usable zones."""
    curve: AwbCurve | None = awb.curve
    if curve is None:
        return None
    z = zones.reshape(-1, 3)
    usable = (z[:, 1] > _DARK) & (z.max(axis=1) < _BRIGHT)
    if usable.sum() < MIN_ZONES:
        return None
    r_g = z[usable, 0] / z[usable, 1]
    b_g = z[usable, 2] / z[usable, 1]
    lo, hi = awb.modes.get(mode, next(iter(awb.modes.values())))
    lo, hi = max(lo, curve.domain[0]), min(hi, curve.domain[1])
    cts = np.linspace(lo, hi, 201) if hi > lo else np.array([lo])
    r = np.interp(cts, curve.ct, curve.r)
    b = np.interp(cts, curve.ct, curve.b)
    dr = r_g[None, :] / r[:, None] - 1.0
    db = b_g[None, :] / b[:, None] - 1.0
    cost = np.minimum(dr * dr + db * db, awb.delta_limit).sum(axis=1) - awb.prior(lux, cts)
    i = int(np.argmin(cost))
    ct = float(cts[i])
    if 0 < i < len(cts) - 1:
        c0, c1, c2 = cost[i - 1: i + 2]
        bend = c0 - 2 * c1 + c2
        if bend > 0:
            ct += 0.5 * (c0 - c2) / bend * (cts[1] - cts[0])
    return ct, curve.gains(ct)
