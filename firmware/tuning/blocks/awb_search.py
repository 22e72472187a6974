"""``rpi.awb``'s statistics and search (libcamera ``awb.cpp``, ``awb_bayes.cpp``): the white balance of a frame.

``zone_stats`` makes the AWB regions as the Pi's statistics hardware does: the platform's grid (16x12 on vc4
files, 32x32 on pisp) over the frame, each region the sums of the 2x2 Bayer blocks whose R, G and B are all
below 98 % of full scale (``pisp.cpp`` ``setStatsAndDebin``: ``r_hi = g_hi = b_hi = 65535 * 0.98``) and how
many were counted. The ISP (for frames that carry no gains) and the mock's IPA both call ``search`` with the
region means (after lens shading correction, as on the Pi) and counts. Then, as libcamera does:

* ``generateStats``: a region is used when it ``counted >= min_pixels`` and its mean G (16-bit scale) is at
  least ``min_G``; ``bias_proportion`` adds that share of its count as a grey at ``bias_ct``;
* ``prepareStats``: R and B times ``sensitivity_r/_b``; ``awbBayes``: R / (G + 1), B / (G + 1);
* the prior for the frame's lux (``interpolatePrior``), scaled by the fraction of regions used;
* ``coarseSearch``: from the mode's ``lo`` to ``hi`` in steps of ``t / 10 * coarse_step`` along ``ct_curve``
  (extended linearly past its ends), each colour temperature scored by sum(min(|gain * zone - 1 -
  whitepoint|^2, delta_limit)) minus the prior; ``interpolateQuadatric`` through the best point's neighbours;
* ``fineSearch``: steps along the curve and across it up to ``transverse_pos/neg``; the gains found are
  divided back by the sensitivities.

Where we differ: a curve extended past its ends is not allowed to reach r or b <= 0 (libcamera does not guard);
the counts are those of the blocks sampled (every other block each way), scaled to the frame's.
"""

from __future__ import annotations

import numpy as np

from .awb import Awb

_SATURATED = 0.98  # of full scale: pisp.cpp's AWB statistics thresholds
_STRIDE = 2  # every other 2x2 block each way: plenty for region means
_MAX_DELTAS = 12


def zone_stats(bayer: np.ndarray, cfa: str, grid: tuple[int, int], full_scale: float = 65535.0
               ) -> tuple[np.ndarray, np.ndarray]:
    """AWB regions of a Bayer frame (black subtracted, ``full_scale`` white): (rows, cols, 3) mean R, G, B of
    the unsaturated 2x2 blocks of each region, and (rows, cols) how many blocks of the frame that is."""
    cols, rows = grid
    h, w = bayer.shape[0] // 2 * 2, bayer.shape[1] // 2 * 2
    step = 2 * _STRIDE
    sites = {"R": [], "G": [], "B": []}
    for i, colour in enumerate(cfa):
        dy, dx = divmod(i, 2)
        sites[colour].append(np.asarray(bayer[dy:h:step, dx:w:step], dtype=np.float32))
    n = min(a.shape[0] for v in sites.values() for a in v), min(a.shape[1] for v in sites.values() for a in v)
    rgb = np.stack([np.mean([a[:n[0], :n[1]] for a in sites[c]], axis=0) for c in "RGB"], axis=-1)
    ok = (rgb < np.float32(_SATURATED * full_scale)).all(axis=-1)
    zy = (np.arange(n[0]) * step * rows // h)[:, None]
    zx = (np.arange(n[1]) * step * cols // w)[None, :]
    zone = (zy * cols + zx)[ok]
    counts = np.bincount(zone, minlength=rows * cols).astype(np.float64)
    sums = np.stack([np.bincount(zone, weights=rgb[..., c][ok], minlength=rows * cols) for c in range(3)], -1)
    means = sums / np.maximum(counts, 1.0)[:, None]
    return means.reshape(rows, cols, 3), (counts * _STRIDE * _STRIDE).reshape(rows, cols)


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


def search(zones: np.ndarray, awb: Awb, lux: float, mode: str = "auto", full_scale: float = 65535.0,
           counts: np.ndarray | None = None) -> tuple[float, tuple[float, float]] | None:
    """(colour temperature, (gain_r, gain_b)) for region means (..., 3) on a ``full_scale`` scale and their
    counts (None: every region full), or None when grey world must do (no Bayesian configuration, or no more
    than ``min_regions`` usable regions)."""
    curve = awb.curve
    if curve is None or not awb.bayes:
        return None
    z = zones.reshape(-1, 3) * (65535.0 / full_scale)  # libcamera's statistics are on a 16-bit scale
    n = np.full(len(z), np.inf) if counts is None else np.asarray(counts, dtype=np.float64).ravel()
    usable = (n >= awb.min_pixels) & (z[:, 1] >= awb.min_g)
    if usable.sum() <= awb.min_regions:
        return None
    z = z[usable]
    if awb.bias_proportion and counts is not None:  # that many counted pixels' worth of grey at bias_ct
        bias_r, bias_b = curve.rb_extended(awb.bias_ct)
        extra = np.floor(awb.bias_proportion * n[usable])
        z = z + extra[:, None] * np.array([float(bias_r), 1.0, float(bias_b)])
    score = _Scorer(z[:, 0] * awb.sensitivity_r / (z[:, 1] + 1), z[:, 2] * awb.sensitivity_b / (z[:, 1] + 1), awb)
    share = usable.sum() / len(usable)

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
