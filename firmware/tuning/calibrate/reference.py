"""The ColorChecker's reference colours: BabelColor's average measured spectra, as colour-science ships them.

The spectra, illuminants and colour matching functions come through ``sensor.mock.spectral`` (colour-science's
data on one 10 nm grid), so the reference is exactly the chart the mock renders.

Two references, chosen with ``camtune calibrate --reference``:

* ``adapted`` (default): the chart as it looks under the capture's own light (Planckian below 4000 K, CIE
  daylight above), carried to D65 with the Bradford transform - what the chart looks like to an observer
  adapted to that light, and what a DNG reader assumes when it adapts ColorMatrix1 (Standard Light A) to
  D65. A 3x3 matrix can reach it at any colour temperature;
* ``d65``: the chart under D65 at every colour temperature (the Raspberry Pi tool's convention). Under
  tungsten no 3x3 matrix can get close to it: the chart's own colours shift between the two lights
  (its colour inconstancy), and a matrix cannot undo that.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

REFERENCES = ("adapted", "d65")


@functools.lru_cache(maxsize=1)
def _colour():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    return colour


def _source(ct: float) -> str:
    # Planckian below 4000 K, CIE daylight from 4000 K (nominal CCTs on the old c2: D65 is 6504 K).
    return "planckian" if ct < 4000.0 else "daylight"


def chart_xyz(ct: float) -> tuple[np.ndarray, np.ndarray]:
    """XYZ (24, 3) of the chart under the light at ``ct`` and the light's white, Y of white = 1."""
    from ...sensor.mock import spectral  # colour-science's spectral data on a 10 nm grid

    _, refl = spectral.colorchecker_reflectances()
    white = spectral.xyz(np.ones((1, refl.shape[1])), ct, _source(ct))[0]
    return spectral.xyz(refl, ct, _source(ct)), white


@functools.lru_cache(maxsize=1)
def _d65_xy() -> np.ndarray:
    return _colour().XYZ_to_xy(chart_xyz(6500.0)[1])


@functools.lru_cache(maxsize=32)
def reference_xyz(ct: float, reference: str = "adapted") -> np.ndarray:
    """The chart's reference XYZ (24, 3), seen by an observer adapted to D65."""
    if reference not in REFERENCES:
        raise ValueError(f"reference {reference!r}: choose {' or '.join(REFERENCES)}")
    xyz65, w65 = chart_xyz(6500.0)
    if reference == "d65":
        return xyz65
    xyz, w = chart_xyz(ct)
    colour = _colour()
    return colour.adaptation.chromatic_adaptation_VonKries(xyz, w, w65, transform="Bradford")


def xyz_to_lab(xyz: np.ndarray) -> np.ndarray:
    return _colour().XYZ_to_Lab(xyz, _d65_xy())


def reference_lab(ct: float, reference: str = "adapted") -> np.ndarray:
    return xyz_to_lab(reference_xyz(ct, reference))


def delta_e(lab_a: np.ndarray, lab_b: np.ndarray) -> np.ndarray:
    """CIEDE2000 per patch."""
    return np.asarray(_colour().delta_E(lab_a, lab_b, method="CIE 2000"))


# Linear sRGB (D65) <-> XYZ, IEC 61966-2-1.
SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
