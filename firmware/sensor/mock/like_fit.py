"""Spectral sensitivities fitted to a libcamera tuning file: the camera its ``rpi.ccm`` and ``ct_curve`` describe.

At each *anchor* - every colour temperature the file calibrates (its ``ct_curve`` points and ``ccms``, and
4000 K where the mock's light turns from Planckian to CIE daylight) - the camera must satisfy two things for
a chart under that light:

* its white lies on the ``ct_curve``: R/G and B/G of a perfect white are the curve's r and b there;
* white-balanced with those gains and put through the file's matrix at that CT (libcamera's interpolation),
  the 24 ColorChecker patches land on the reference the matrices were made for. The Raspberry Pi tuning
  tool fits every matrix to the chart's fixed sRGB values (``firmware.colour.chart``'s ``d65`` reference),
  so that is the reference here.

Both are linear in the sensitivities once the target camera responses are taken as ``D M^-1 ref`` (D the
white's gains, M the matrix), so each anchor is one non-negative least-squares problem (``scipy.optimize.nnls``)
with rows weighted by how much an error shows in CIE Lab, a smoothness penalty, and a pull towards a measured
camera's curves so the result stays camera-like. A first fit over all anchors at once gives a common base;
each anchor's own fit is then pulled gently towards it, so the camera changes smoothly with the light.

Why one set per anchor: the stock files' matrices and curves come from real lamps, not from CIE's ideal
lights, and no single set of sensitivities reproduces them. The best single camera for the IMX477 file leaves
about 4 mean CIEDE2000 at 2850 K and 6 at 7600 K (one camera fitted to all six matrices), and its ``ct_curve`` moves b by
10 % between 2848 and 2903 K, where a Planckian light moves it by 2 %. Per-anchor sensitivities are the
camera as seen through the lamp the file was made under; they give 0.2-1.5 mean CIEDE2000 in between anchors.
Beyond the first and last anchor the camera is held, and the light alone changes, as on a real sensor.
"""

from __future__ import annotations

import functools

import numpy as np

from ...colour import chart, spectra
from ...errors import TuningError
from ...tuning import TuningFile
from ...tuning.blocks import Awb, AwbCurve, Ccm
from .spectral import FittedCamera

REFERENCE = "d65"
PRIOR_CAMERA = "Nikon 5100 (NPL)"
SMOOTHNESS = 0.03  # weight of the second differences of each curve
PRIOR_WEIGHT = 0.01  # pull of the common base towards the measured camera
COUPLING = 0.01  # pull of each anchor's curves towards the common base
WHITE_WEIGHT = 30.0  # the white's rows count like thirty patches: AWB lives on it
MIN_ANCHOR_GAP_K = 15.0  # closer calibration points are one anchor

_N = len(spectra.WAVELENGTHS)


def calibration(tuning: TuningFile) -> tuple[AwbCurve, Ccm]:
    """The file's ``ct_curve`` and matrices; a ``TuningError`` when it has none to take a truth from."""
    awb = Awb.read(tuning)
    p = tuning.block("rpi.ccm")
    missing = [name for name, absent in (("rpi.awb ct_curve", awb.curve is None),
                                         ("rpi.ccm ccms", p is None or not p.get("ccms"))) if absent]
    if missing:
        raise TuningError(f"{tuning.source}: describes no calibrated sensor (no {' and no '.join(missing)}), so a "
                          "mock cannot be like it; libcamera's uncalibrated.json is such a file")
    return awb.curve, Ccm.read(tuning)


def anchor_cts(curve: AwbCurve, ccm: Ccm) -> list[float]:
    cts = sorted({float(c) for c in curve.ct} | {float(c) for c in ccm.cts})
    if cts[0] < 4000.0 < cts[-1]:
        cts = sorted(cts + [4000.0])
    out: list[float] = []
    for c in cts:
        if not out or c - out[-1] >= MIN_ANCHOR_GAP_K:
            out.append(c)
    return out


def _unit_light(ct: float) -> np.ndarray:
    """The light at ``ct`` (Planckian below 4000 K, daylight above) scaled to unit luminance on our grid."""
    return spectra.illuminant(ct, spectra.auto_source(ct)) * spectra.KM * spectra.STEP_NM


def _block(values: np.ndarray, channel: int) -> np.ndarray:
    """Rows acting on one channel's curve inside the unknown vector [R curve, G curve, B curve]."""
    out = np.zeros((values.shape[0], 3 * _N))
    out[:, channel * _N:(channel + 1) * _N] = values
    return out


def _anchor_rows(ct: float, rb: tuple[float, float], matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _, refl = spectra.colorchecker_reflectances()
    light = _unit_light(ct)
    gains = np.array([rb[0], 1.0, rb[1]])  # camera white = gains * green
    target = (chart.reference_srgb_linear(ct, REFERENCE) @ np.linalg.inv(matrix).T) * gains
    # An error in a dark patch shows more in L*: weight by dL*/dY ~ Y^(-2/3), and undo each channel's gain.
    weight = 1.0 / np.maximum(chart.reference_xyz(ct, REFERENCE)[:, 1], 0.03) ** (2.0 / 3.0)
    rows, rhs = [], []
    for c in range(3):
        w = weight / gains[c]
        rows.append(_block(refl * light * w[:, None], c))
        rhs.append(target[:, c] * w)
        rows.append(_block(light[None, :] * WHITE_WEIGHT / gains[c], c))
        rhs.append(np.array([WHITE_WEIGHT]))
    return np.vstack(rows), np.concatenate(rhs)


def _smoothness() -> np.ndarray:
    d2 = np.diff(np.eye(_N), 2, axis=0) * SMOOTHNESS
    return np.vstack([_block(d2, c) for c in range(3)])


def _prior(cts: list[float], curve: AwbCurve) -> np.ndarray:
    """The measured camera, each channel scaled to the curve's white balance (least squares over anchors)."""
    sens = spectra.measured_sensitivities(PRIOR_CAMERA)
    lights = np.stack([_unit_light(ct) for ct in cts])
    white = lights @ sens
    want = np.array([[curve.rb(ct)[0], 1.0, curve.rb(ct)[1]] for ct in cts]) * white[:, 1:2]
    scale = (white * want).sum(axis=0) / (white * white).sum(axis=0)
    return (sens * scale).T.ravel()


def _nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.optimize import nnls

    return nnls(a, b, maxiter=50 * a.shape[1])[0]


def _fit(curve: AwbCurve, ccm: Ccm) -> FittedCamera:
    cts = anchor_cts(curve, ccm)
    per = [_anchor_rows(ct, curve.rb(ct), ccm.at(ct)) for ct in cts]
    smooth = _smoothness()
    eye = np.eye(3 * _N)
    prior_w = PRIOR_WEIGHT * np.sqrt(len(cts))
    base = _nnls(np.vstack([a for a, _ in per] + [smooth, prior_w * eye]),
                 np.concatenate([b for _, b in per] + [np.zeros(len(smooth)), prior_w * _prior(cts, curve)]))
    sens = [_nnls(np.vstack([a, smooth, COUPLING * eye]),
                  np.concatenate([b, np.zeros(len(smooth)), COUPLING * base])).reshape(3, _N).T for a, b in per]
    return FittedCamera(cts, np.stack(sens))


@functools.lru_cache(maxsize=32)
def _cached(curve_flat: tuple, ccms: tuple) -> FittedCamera:
    curve = AwbCurve.from_flat(curve_flat)
    ccm = Ccm(tuple(c for c, _ in ccms), tuple(np.asarray(m, float).reshape(3, 3) for _, m in ccms))
    return _fit(curve, ccm)


def fitted_camera(tuning: TuningFile) -> FittedCamera:
    """The ``FittedCamera`` whose calibration under the mock's lights gives back the file's matrices and
    curve; remembered per calibration (each fit takes a few tenths of a second)."""
    curve, ccm = calibration(tuning)
    flat = tuple(float(v) for i in range(len(curve.ct)) for v in (curve.ct[i], curve.r[i], curve.b[i]))
    ccms = tuple((c, tuple(m.ravel())) for c, m in zip(ccm.cts, ccm.matrices))
    return _cached(flat, ccms)
