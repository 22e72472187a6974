"""``rpi.ccm``: colour matrices per colour temperature, minimising mean CIEDE2000 on the ColorChecker.

First, ``chart_neutral``: the camera's response to a perfect white, estimated from all 24 patches - a free
3x3 matrix from raw patch means to the reference is fitted, and the neutral is the camera colour it maps to
white. The chart's grey patches are not quite neutral (BabelColor's neutral 8..3.5 lean about 1 % towards
green-cyan), so this lands closer to the true neutral than their ratio; it becomes the AWB curve's point.

Then per ColorChecker capture: the shading-corrected patch means are white-balanced with the capture's point
on the fitted AWB curve (what the camera will do), and a 3x3 matrix to linear sRGB is fitted with each row
summing to 1 - so any grey stays grey, whatever the colour temperature. The fit starts from the least-squares matrix
and then minimises the mean CIEDE2000 over the 24 patches (patches that clipped are left out) with an exposure
scale as a seventh free parameter, since a capture's brightness is arbitrary. Matrices at the same colour
temperature are averaged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import reference as ref


def white_preserving_lstsq(camera_wb: np.ndarray, target: np.ndarray) -> np.ndarray:
    """3x3 M minimising |camera_wb @ M.T - target| with every row summing to 1 (greys stay grey)."""
    m = np.zeros((3, 3))
    # Row i: m_i0 (r - b) + m_i1 (g - b) = t_i - b, with m_i2 = 1 - m_i0 - m_i1.
    a = np.stack([camera_wb[:, 0] - camera_wb[:, 2], camera_wb[:, 1] - camera_wb[:, 2]], axis=1)
    for i in range(3):
        sol, *_ = np.linalg.lstsq(a, target[:, i] - camera_wb[:, 2], rcond=None)
        m[i] = [sol[0], sol[1], 1.0 - sol.sum()]
    return m


def _matrix(p: np.ndarray) -> np.ndarray:
    return np.array([[p[0], p[1], 1.0 - p[0] - p[1]], [p[2], p[3], 1.0 - p[2] - p[3]],
                     [p[4], p[5], 1.0 - p[4] - p[5]]])


def lab_of(linear_srgb: np.ndarray) -> np.ndarray:
    return ref.xyz_to_lab(linear_srgb @ ref.SRGB_TO_XYZ.T)


def best_scale(camera_wb: np.ndarray, m: np.ndarray, lab_ref: np.ndarray) -> float:
    """The exposure scale that minimises mean CIEDE2000 of ``camera_wb`` through ``m``."""
    from scipy.optimize import minimize_scalar

    out = camera_wb @ m.T
    res = minimize_scalar(lambda s: ref.delta_e(lab_of(out * np.exp(s)), lab_ref).mean(), bounds=(-3, 3),
                          method="bounded", options={"xatol": 1e-5})
    return float(np.exp(res.x))


def chart_neutral(camera: np.ndarray, ct: float, reference: str = "adapted",
                  used: np.ndarray | None = None) -> tuple[float, float]:
    """(R/G, B/G) of a perfect white, from raw shading-corrected patch means (24, 3) of one capture."""
    from scipy.optimize import minimize

    used = np.ones(len(camera), bool) if used is None else np.asarray(used, bool)
    lab_ref = ref.reference_lab(ct, reference)[used]
    target = ref.reference_xyz(ct, reference)[used] @ np.linalg.inv(ref.SRGB_TO_XYZ).T
    cam = camera[used] / camera[used, 1].max()
    m0 = np.linalg.lstsq(cam, target, rcond=None)[0].T

    def cost(p):
        return ref.delta_e(lab_of(cam @ p.reshape(3, 3).T), lab_ref).mean()

    res = minimize(cost, m0.ravel(), method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-8, "maxiter": 9000})
    res = minimize(cost, res.x, method="Powell", options={"xtol": 1e-7, "ftol": 1e-9})
    n = np.linalg.solve(res.x.reshape(3, 3), np.ones(3))
    return float(n[0] / n[1]), float(n[2] / n[1])


@dataclass
class CcmFit:
    ct: float
    matrix: np.ndarray
    scale: float
    delta_e: np.ndarray  # per patch, with the fitted matrix
    delta_e_wb_only: np.ndarray  # per patch, white balance alone (identity matrix): the "before"
    used: np.ndarray  # bool (24,): patches that took part (not clipped)

    @property
    def mean_delta_e(self) -> float:
        return float(self.delta_e[self.used].mean())


def fit_ccm(camera_wb: np.ndarray, ct: float, reference: str = "adapted",
            used: np.ndarray | None = None) -> CcmFit:
    """Fit one capture's matrix; ``camera_wb`` (24, 3) are white-balanced, shading-corrected patch means."""
    from scipy.optimize import minimize

    used = np.ones(len(camera_wb), bool) if used is None else np.asarray(used, bool)
    lab_ref = ref.reference_lab(ct, reference)
    xyz_ref = ref.reference_xyz(ct, reference)
    target = xyz_ref @ np.linalg.inv(ref.SRGB_TO_XYZ).T
    cam = camera_wb[used]
    # Expose like the reference on the greys, so the least-squares start is in the right place.
    greys = [i for i in range(18, 24) if used[i]]
    k = target[greys, 1].sum() / camera_wb[greys, 1].sum()
    m0 = white_preserving_lstsq(cam * k, target[used])
    p0 = np.array([m0[0, 0], m0[0, 1], m0[1, 0], m0[1, 1], m0[2, 0], m0[2, 1], np.log(k)])

    def cost(p):
        return ref.delta_e(lab_of(cam @ _matrix(p).T * np.exp(p[6])), lab_ref[used]).mean()

    res = minimize(cost, p0, method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-7, "maxiter": 6000})
    res = minimize(cost, res.x, method="Powell", options={"xtol": 1e-6, "ftol": 1e-9})
    m = _matrix(res.x)
    scale = float(np.exp(res.x[6]))
    de = ref.delta_e(lab_of(camera_wb @ m.T * scale), lab_ref)
    de0 = ref.delta_e(lab_of(camera_wb * k * best_scale(camera_wb * k, np.eye(3), lab_ref)), lab_ref)
    return CcmFit(ct, m, scale, de, de0, used)


def ccm_block(fits: list[CcmFit], base: dict | None) -> dict:
    """``rpi.ccm`` with one matrix per colour temperature (averaged where several captures share one)."""
    by_ct: dict[float, list[np.ndarray]] = {}
    for f in fits:
        by_ct.setdefault(f.ct, []).append(f.matrix)
    p = dict(base or {})
    p["ccms"] = [{"ct": int(round(ct)), "ccm": _rounded(np.mean(by_ct[ct], axis=0))} for ct in sorted(by_ct)]
    return p


def _rounded(m: np.ndarray) -> list[float]:
    # Round to 5 places and put the rounding error on the diagonal, so each row still sums to exactly 1.
    r = np.round(m, 5)
    for i in range(3):
        r[i, i] = round(1.0 - (r[i].sum() - r[i, i]), 5)
    return [float(v) for v in r.ravel()]
