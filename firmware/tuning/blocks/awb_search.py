"""``rpi.awb``'s search (libcamera ``awb.cpp``): the white balance of zone statistics, Bayesian or grey world.

The ISP (for frames that carry no gains) and the mock's IPA both call ``search`` with the mean R, G, B of the
ISP's AWB regions (16x12 on vc4 files, 32x32 on pisp), taken after lens shading correction as on the Pi. Then,
as ``Awb::awbBayes`` does: zone colours times ``sensitivity_r/_b``; the prior for
the frame's lux, scaled by the fraction of usable zones; a coarse walk from the mode's ``lo`` to ``hi`` in steps
of ``t / 10 * coarse_step`` along ``ct_curve`` (extended linearly past its ends), each colour temperature scored
by sum(min(|gain * zone - 1 - whitepoint|^2, delta_limit)) minus the prior; a parabola through the best point's
neighbours; then the fine search, which also steps across the curve up to ``transverse_pos/neg`` off it. The
gains found are divided back by the sensitivities.

Where we differ: zones darker than 1 % or brighter than 95 % of full scale are left out (the Pi's statistics
drop saturated pixels in hardware; our noise-free threshold is the same idea), and a curve extended past its
ends is not allowed to reach r or b <= 0.
"""

from __future__ import annotations

import numpy as np

from .awb import Awb

_DARK = 0.01  # zones darker than this (of full scale) carry mostly noise
_BRIGHT = 0.95  # zones this bright may hold clipped channels
_MAX_DELTAS = 12


def grey_world(zones: np.ndarray) -> tuple[float, float]:
    """``Awb::awbGrey``: gains from the middle half of the zones sorted by R/G and by B/G."""
    z = zones.reshape(-1, 3).astype(np.float64)
    z = z[z[:, 1] > 0]
    if not len(z):
        return 1.0, 1.0
    discard = len(z) // 4
    keep = slice(discard, len(z) - discard)
    by_r = z[np.argsort(z[:, 0] / z[:, 1])][keep].sum(axis=0)
    by_b = z[np.argsort(z[:, 2] / z[:, 1])][keep].sum(axis=0)
    return float(by_r[1] / max(by_r[0], 1e-6)), float(by_b[1] / max(by_b[2], 1e-6))


class _Scorer:
    """Cost of candidate (r, b) neutrals against the zones: ``computeDelta2Sum``."""

    def __init__(self, r_g: np.ndarray, b_g: np.ndarray, awb: Awb):
        self.r_g, self.b_g, self.awb = r_g, b_g, awb

    def __call__(self, r: np.ndarray, b: np.ndarray) -> np.ndarray:
        r = np.maximum(np.asarray(r, dtype=np.float64), 1e-3)[..., None]
        b = np.maximum(np.asarray(b, dtype=np.float64), 1e-3)[..., None]
        dr = self.r_g / r - 1.0 - self.awb.whitepoint_r
        db = self.b_g / b - 1.0 - self.awb.whitepoint_b
        return np.minimum(dr * dr + db * db, self.awb.delta_limit).sum(axis=-1)


def _parabola(p0, p1, p2) -> float:
    """``interpolateQuadatric``: the extremum of the parabola through three (x, y) points, kept in range."""
    (ax, ay), (bx, by), (cx, cy) = p0, p1, p2
    bax, bay, cax, cay = bx - ax, by - ay, cx - ax, cy - ay
    den = 2 * (bay * cax - cay * bax)
    if abs(den) > 1e-3:
        x = (bay * cax * cax - cay * bax * bax) / den + ax
        return max(ax, min(cx, x))
    return ax if ay < cy - 1e-3 else (cx if cy < ay - 1e-3 else bx)


def search(zones: np.ndarray, awb: Awb, lux: float, mode: str = "auto", full_scale: float = 65535.0
           ) -> tuple[float, tuple[float, float]] | None:
    """(colour temperature, (gain_r, gain_b)) for zone means (..., 3) on a ``full_scale`` scale, or None when
    grey world must do (no Bayesian configuration, or too few usable zones)."""
    curve = awb.curve
    if curve is None or not awb.bayes:
        return None
    z = zones.reshape(-1, 3)
    usable = (z[:, 1] > _DARK * full_scale) & (z.max(axis=1) < _BRIGHT * full_scale)
    if usable.sum() <= awb.min_regions:
        return None
    g = z[usable, 1]
    score = _Scorer(z[usable, 0] / g * awb.sensitivity_r, z[usable, 2] / g * awb.sensitivity_b, awb)
    share = usable.sum() / len(z)

    def prior(ct):
        return awb.prior(lux, ct) * share

    def rb(ct):
        return curve.rb_extended(ct)

    lo, hi = awb.mode(mode)
    cts = [lo]
    while cts[-1] < hi:
        cts.append(min(cts[-1] + cts[-1] / 10 * awb.coarse_step, hi))
    cts = np.asarray(cts)
    cost = score(*rb(cts)) - prior(cts)
    best = int(np.argmin(cost))
    t = float(cts[best])
    if len(cts) > 2:
        i = min(max(best, 1), len(cts) - 2)
        t = _parabola(*((cts[j], cost[j]) for j in (i - 1, i, i + 1)))
    t, r, b = _fine(t, rb, score, prior, awb)
    return t, (1.0 / r * awb.sensitivity_r, 1.0 / b * awb.sensitivity_b)


def _fine(t: float, rb, score, prior, awb: Awb) -> tuple[float, float, float]:
    """``Awb::fineSearch``: small steps along the curve, and across it within the transverse limits."""
    step = t / 10 * awb.coarse_step * 0.1
    n = 5
    r_diff = rb(t + n * step)[0] - rb(t - n * step)[0]
    b_diff = rb(t + n * step)[1] - rb(t - n * step)[1]
    normal = np.array([b_diff, -r_diff])
    length = float(np.hypot(*normal))
    r0, b0 = rb(t)
    if length * length < 1e-6:
        return t, float(r0), float(b0)
    normal /= length
    span = awb.transverse_neg + awb.transverse_pos
    deltas = int(np.clip(np.floor(span * 100 + 0.5) + 1, 3, _MAX_DELTAS))
    offsets = -awb.transverse_neg + span * np.arange(deltas) / (deltas - 1)
    tests = t + step * np.arange(-(n + deltas), n + deltas + 1)
    r_c, b_c = rb(tests)
    pri = prior(tests)
    grid = score(r_c[:, None] + normal[0] * offsets, b_c[:, None] + normal[1] * offsets) - pri[:, None]
    best = (np.inf, t, float(r0), float(b0))
    for k in range(len(tests)):
        j = int(np.clip(np.argmin(grid[k]), 1, deltas - 2))
        off = _parabola(*((offsets[m], grid[k, m]) for m in (j - 1, j, j + 1)))
        r, b = r_c[k] + normal[0] * off, b_c[k] + normal[1] * off
        final = float(score(r, b)) - pri[k]
        if final < best[0]:
            best = (final, float(tests[k]), float(r), float(b))
    return best[1], max(best[2], 1e-3), max(best[3], 1e-3)
