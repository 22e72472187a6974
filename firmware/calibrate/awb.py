"""``rpi.awb`` ``ct_curve`` and transverse limits from the ColorChecker's grey patches.

Each ColorChecker capture gives one neutral, measured after the lens shading correction because that is where
libcamera's AWB looks: the camera's response to a perfect white, estimated from the whole chart
(``ccm.chart_neutral``), checked against the ratio of sums R/G and B/G over the four middle greys (neutral
8 .. 3.5), which the Raspberry Pi tool uses directly.

The Raspberry Pi tool then fits a smooth curve in "hat" space (r^ = R/(R+G+B), b^ = B/(R+G+B)) and moves
every point onto it. We keep the measured points on the curve instead: chart-wide neutrals are accurate to
about 0.1 %, while the Planckian and daylight loci do not join smoothly at 4000 K, so a fitted curve moves them
by up to 1 % - enough to cost 0.4 CIEDE2000 in the colour matrices fitted on that white balance. The smooth
fit still measures how far the real neutrals stray from a smooth locus: ``transverse_pos/neg`` are 1.1x the
largest distances on either side (at least 0.01), in libcamera's direction convention (positive: towards
larger r and b). A colour temperature whose point breaks the curve's monotonic order is dropped. Where the
lights did not reach the AWB modes' limits, the curve is extended along the neutrals' own trend (``beyond``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import TuningError

GREYS = (19, 20, 21, 22)


@dataclass
class AwbFit:
    cts: list[float]
    r: list[float]  # on the fitted curve
    b: list[float]
    measured: list[tuple[float, float, float]]  # (ct, r, b) as measured
    transverse_pos: float
    transverse_neg: float
    dropped: list[float] = field(default_factory=list)
    trend: tuple[np.ndarray, np.ndarray] | None = None  # log r and log b as straight lines in mired (1e6 / ct)

    def rb(self, ct: float) -> tuple[float, float]:
        return float(np.interp(ct, self.cts, self.r)), float(np.interp(ct, self.cts, self.b))

    def beyond(self, ct: float) -> tuple[float, float]:
        """(r, b) of a grey at ``ct`` outside the measured lights, from the neutrals' trend.

        By Wien's approximation to Planck's law a black body's ratio of any two channels is exp(a + k / T), so
        log r and log b are straight lines in mired; on the mock this extends a 2850-6500 K calibration to
        2600 and 7500 K within 1 % (a straight line in r and b, libcamera's own extension, is 4-9 % off).
        """
        pr, pb = self.trend
        return float(np.exp(np.polyval(pr, 1e6 / ct))), float(np.exp(np.polyval(pb, 1e6 / ct)))

    def curve(self, lo: float | None = None, hi: float | None = None) -> list[float]:
        """``ct_curve``: the measured points, extended to ``lo``..``hi`` K where the lights did not reach.

        libcamera's search walks the AWB mode's whole range and extends the curve's end segments in a straight
        line past the last point; the neutrals of real lights bend away from such a line, so points from their
        own trend (``beyond``) are added out to the modes' limits and the modes are kept as they are.
        """
        pts = list(zip(self.cts, self.r, self.b))
        extra = []
        if self.trend is not None and lo is not None and lo < self.cts[0] * 0.97:
            extra += [(ct, *self.beyond(ct)) for ct in np.geomspace(lo, self.cts[0], 3)[:-1]]
        if self.trend is not None and hi is not None and hi > self.cts[-1] * 1.03:
            extra += [(ct, *self.beyond(ct)) for ct in np.geomspace(self.cts[-1], hi, 3)[1:]]
        pts = sorted(pts + extra)
        return [v for ct, r, b in pts for v in (int(round(ct)), round(r, 5), round(b, 5))]


def neutral(corrected_means: np.ndarray) -> tuple[float, float]:
    """(R/G, B/G) of the grey patches of one capture's shading-corrected patch means (24, 3)."""
    g = corrected_means[list(GREYS)].sum(axis=0)
    return float(g[0] / g[1]), float(g[2] / g[1])


def _signed_distance(r: float, b: float, cr: np.ndarray, cb: np.ndarray) -> float:
    """Distance from (r, b) to the polyline (cr, cb), positive on libcamera's outward side."""
    best = (np.inf, 0.0)
    for i in range(len(cr) - 1):
        p0, p1 = np.array([cr[i], cb[i]]), np.array([cr[i + 1], cb[i + 1]])
        seg = p1 - p0
        t = float(np.clip(np.dot([r, b] - p0, seg) / max(np.dot(seg, seg), 1e-18), 0.0, 1.0))
        foot = p0 + t * seg
        d = float(np.hypot(*([r, b] - foot)))
        if d < best[0]:
            # awb_bayes.cpp: transverse = (dB, -dR) along increasing ct, i.e. towards larger r and b.
            normal = np.array([seg[1], -seg[0]]) / max(np.hypot(*seg), 1e-18)
            best = (d, float(np.dot([r, b] - foot, normal)))
    return best[1]


def fit_awb(points: list[tuple[float, float, float]]) -> AwbFit:
    """The curve through measured (ct, r, b) neutrals."""
    by_ct: dict[float, list[tuple[float, float]]] = {}
    for ct, r, b in points:
        by_ct.setdefault(ct, []).append((r, b))
    cts = sorted(by_ct)
    if len(cts) < 2:
        raise TuningError("AWB needs ColorChecker captures at two or more colour temperatures "
                          f"(got {', '.join(f'{c:g} K' for c in cts) or 'none'}); libcamera's ct_curve needs two points")
    rb = np.array([np.mean(by_ct[c], axis=0) for c in cts])
    keep, dropped = [0], []
    for i in range(1, len(cts)):
        # Warmer light is redder and less blue: r must fall and b rise with colour temperature.
        if rb[i, 0] < rb[keep[-1], 0] and rb[i, 1] > rb[keep[-1], 1]:
            keep.append(i)
        else:
            dropped.append(cts[i])
    if len(keep) < 2:
        raise TuningError("AWB: the neutrals' colour does not change monotonically with the colour "
                          "temperatures in the file names (are the names right?)")
    cr, cb = rb[keep, 0], rb[keep, 1]
    # A smooth locus through the points (quadratic in hat space), sampled densely: how far they stray from it.
    s = 1.0 + cr + cb
    rh, bh = cr / s, cb / s
    coef = np.polyfit(rh, bh, min(2, len(keep) - 1))
    grid = np.linspace(rh.min(), rh.max(), 400)
    g = 1.0 - grid - np.polyval(coef, grid)
    smooth_r, smooth_b = grid / g, np.polyval(coef, grid) / g
    dist = [_signed_distance(r, b, smooth_r[::-1], smooth_b[::-1]) for r, b in rb]
    pos = max(0.01, 1.1 * max(max(dist), 0.0))
    neg = max(0.01, 1.1 * max(-min(dist), 0.0))
    kept = np.array([cts[i] for i in keep])
    trend = (np.polyfit(1e6 / kept, np.log(cr), 1), np.polyfit(1e6 / kept, np.log(cb), 1))
    return AwbFit(list(map(float, kept)), list(map(float, cr)), list(map(float, cb)),
                  [(c, float(r), float(b)) for c, (r, b) in zip(cts, rb)], round(pos, 5), round(neg, 5), dropped,
                  trend)


def awb_block(fit: AwbFit, base: dict | None) -> dict:
    """The base's ``rpi.awb`` (priors, modes ...) with the fitted curve, extended to cover every mode."""
    p = dict(base or {})
    modes = p.get("modes") if isinstance(p.get("modes"), dict) else {}
    spans = [(float(m["lo"]), float(m["hi"])) for m in modes.values()] or [(2500.0, 8000.0)]
    lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
    p["ct_curve"] = fit.curve(lo, hi)
    p["transverse_pos"] = fit.transverse_pos
    p["transverse_neg"] = fit.transverse_neg
    p.setdefault("bayes", 1)
    return p
