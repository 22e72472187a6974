"""The ColorChecker's reference colours, CIE Lab and CIEDE2000 - the yardstick of calibration and of the tests.

Two references for a chart shot under a light at colour temperature ``ct``:

* ``adapted``: the chart as it looks under that light (Planckian below 4000 K, CIE daylight above), carried
  to D65 with the Bradford transform - what an observer adapted to the light sees, and what a DNG reader
  assumes when it adapts ColorMatrix1 (Standard Light A) to D65. A 3x3 matrix can reach it at any CT;
* ``d65``: the chart under D65 whatever the light (the Raspberry Pi tuning tool's convention: its reference
  is the chart's fixed sRGB values). Under tungsten even a perfect camera misses it by about 2 CIEDE2000:
  the pigments are not colour constant.
"""

from __future__ import annotations

import functools

import numpy as np

from . import spectra
from .matrices import XYZ_TO_SRGB

REFERENCES = ("adapted", "d65")


def chart_xyz(ct: float, source: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """XYZ (24, 3) of the chart under the light at ``ct`` and the light's white, Y of white = 1."""
    source = source or spectra.auto_source(ct)
    _, refl = spectra.colorchecker_reflectances()
    white = spectra.xyz(np.ones((1, refl.shape[1])), ct, source)[0]
    return spectra.xyz(refl, ct, source), white


@functools.lru_cache(maxsize=1)
def d65_xy() -> np.ndarray:
    """Chromaticity of D65 on our grid (the Lab white point of every figure here)."""
    return spectra.colour_science().XYZ_to_xy(chart_xyz(6500.0)[1])


@functools.lru_cache(maxsize=64)
def reference_xyz(ct: float, reference: str = "adapted", source: str | None = None) -> np.ndarray:
    """The chart's reference XYZ (24, 3) for a shot at ``ct``, seen by an observer adapted to D65."""
    if reference not in REFERENCES:
        raise ValueError(f"reference {reference!r}: choose {' or '.join(REFERENCES)}")
    xyz65, w65 = chart_xyz(6500.0)
    if reference == "d65":
        return xyz65
    xyz, w = chart_xyz(ct, source)
    return spectra.colour_science().adaptation.chromatic_adaptation_VonKries(xyz, w, w65, transform="Bradford")


def reference_srgb_linear(ct: float = 6500.0, reference: str = "adapted", source: str | None = None) -> np.ndarray:
    """The reference in linear sRGB (24, 3): what a perfect camera and colour matrix would output."""
    return reference_xyz(ct, reference, source) @ XYZ_TO_SRGB.T


def reference_srgb(ct: float = 6500.0, reference: str = "adapted", source: str | None = None) -> np.ndarray:
    """The reference as an sRGB file can hold it (24, 3): clipped to the gamut.

    The cyan patch lies just outside sRGB (linear red about -0.03); no sRGB image can show it, and the chart's
    published sRGB values are clipped the same way. The target for developed JPEGs and TIFFs.
    """
    return np.clip(reference_srgb_linear(ct, reference, source), 0.0, 1.0)


def xyz_to_lab(xyz: np.ndarray) -> np.ndarray:
    """CIE L*a*b* of XYZ (white Y = 1) relative to D65."""
    return spectra.colour_science().XYZ_to_Lab(xyz, d65_xy())


def delta_e(lab_a: np.ndarray, lab_b: np.ndarray) -> np.ndarray:
    """CIEDE2000 per patch."""
    return np.asarray(spectra.colour_science().delta_E(lab_a, lab_b, method="CIE 2000"))
