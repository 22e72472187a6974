"""``rpi.alsc`` from flat fields: colour shading tables per colour temperature and one luminance table.

For each flat field, every CFA plane is median-filtered (hot pixels, dust) and averaged over the ISP's grid
cells (16x12 on vc4, 32x32 on pisp, cells dividing the frame evenly as libcamera's resampling assumes). Then,
as libcamera applies them: ``Cr = G/R`` and ``Cb = G/B`` (the red and blue gains that make the flat grey
everywhere), ``L = 1/G`` (the luminance gain), each normalised so its smallest value is 1, the luminance gain
capped at ``max_gain``. Flats at the same colour temperature are averaged; the luminance table is averaged over
all of them (libcamera keeps one).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import TuningError
from .images import Capture

MAX_GAIN = 8.0


@dataclass
class AlscFit:
    grid: tuple[int, int]  # (columns, rows)
    cts: list[float]
    cr: dict[float, np.ndarray]  # (rows, cols) red gain relative to green, min 1
    cb: dict[float, np.ndarray]
    luminance: np.ndarray  # (rows, cols) min 1
    sigma_cr: float
    sigma_cb: float
    measured: dict[float, np.ndarray]  # (rows, cols, 3) cell means of the flats, normalised to green's peak

    def gains(self, ct: float) -> np.ndarray:
        """(rows, cols, 3) full-strength correction gains at ``ct`` (linear in kelvin, clamped), like the IPA."""
        from ..tuning.interp import interpolate_ct

        cts = self.cts
        cr = interpolate_ct(cts, [self.cr[c] for c in cts], ct)
        cb = interpolate_ct(cts, [self.cb[c] for c in cts], ct)
        return np.dstack([cr * self.luminance, self.luminance, cb * self.luminance])


def cell_means(cap: Capture, grid: tuple[int, int]) -> np.ndarray:
    """(rows, cols, 3) mean R, G, B over each grid cell of a flat field, above black."""
    planes = cap.planes()
    limit = cap.white - max(cap.black)
    out = []
    for names in (("R",), ("Gr", "Gb"), ("B",)):
        acc = None
        for n in names:
            p = planes[n]
            if float(np.mean(p >= limit - 1)) > 0.001:
                raise TuningError(f"{cap.path.name}: flat field clips on {n} (over 0.1 % at white): expose it less")
            smooth = cv2.medianBlur(p, 3)
            cells = cv2.resize(smooth, grid, interpolation=cv2.INTER_AREA).astype(np.float64)
            acc = cells if acc is None else acc + cells
        out.append(acc / len(names))
    cells = np.dstack(out)
    if cells[..., 1].max() < 0.1 * limit:
        raise TuningError(f"{cap.path.name}: flat field is too dark (peak green {cells[..., 1].max():.0f} of "
                          f"{limit:.0f} DN): expose it to about half of full scale")
    return cells


def _sigma(tables: list[np.ndarray]) -> float:
    # How much the colour shading changes between neighbouring colour temperatures, cell to cell: libcamera's
    # adaptive ALSC must not smooth away real differences smaller than this.
    if len(tables) < 2:
        return 0.005
    worst = 0.0
    for a, b in zip(tables, tables[1:]):
        ratio = a / b
        ratio /= ratio.mean()
        worst = max(worst, float(np.percentile(np.abs(np.diff(ratio, axis=0)), 90)),
                    float(np.percentile(np.abs(np.diff(ratio, axis=1)), 90)))
    return float(np.clip(round(worst, 4), 0.001, 0.05))


def fit_alsc(flats: list[Capture], grid: tuple[int, int], progress=lambda msg: None) -> AlscFit:
    if not flats:
        raise TuningError("no ALSC flat fields (alsc_<ct>k_<n>.dng) to calibrate lens shading from")
    by_ct: dict[float, list[np.ndarray]] = {}
    for i, cap in enumerate(flats, 1):
        progress(f"lens shading: {cap.path.name} ({i}/{len(flats)})")
        by_ct.setdefault(cap.ct, []).append(cell_means(cap, grid))
        cap.release()
    cts = sorted(by_ct)
    cr, cb, measured, lum = {}, {}, {}, []
    for ct in cts:
        m = np.mean(by_ct[ct], axis=0)
        measured[ct] = m / m[..., 1].max()
        r_gain = m[..., 1] / m[..., 0]
        b_gain = m[..., 1] / m[..., 2]
        cr[ct] = r_gain / r_gain.min()
        cb[ct] = b_gain / b_gain.min()
        lum.append(m[..., 1].max() / m[..., 1])
    luminance = np.minimum(np.mean(lum, axis=0), MAX_GAIN)
    luminance /= luminance.min()
    return AlscFit(grid, cts, cr, cb, luminance, _sigma([cr[c] for c in cts]), _sigma([cb[c] for c in cts]),
                   measured)


def alsc_block(fit: AlscFit, base: dict | None) -> dict:
    """The ``rpi.alsc`` block: the base's settings (strength, omega ...) with the fitted tables."""
    p = dict(base or {})
    p.setdefault("omega", 1.3)
    p.setdefault("n_iter", 100)
    p.setdefault("luminance_strength", 0.5)
    p["calibrations_Cr"] = [{"ct": int(round(ct)), "table": [round(float(v), 3) for v in fit.cr[ct].ravel()]}
                            for ct in fit.cts]
    p["calibrations_Cb"] = [{"ct": int(round(ct)), "table": [round(float(v), 3) for v in fit.cb[ct].ravel()]}
                            for ct in fit.cts]
    p["luminance_lut"] = [round(float(v), 3) for v in fit.luminance.ravel()]
    p.pop("corner_strength", None)
    p.pop("asymmetry", None)
    p["sigma"] = p["sigma_Cr"] = round(fit.sigma_cr, 4)
    p["sigma_Cb"] = round(fit.sigma_cb, 4)
    return p
