"""Spectral data from colour-science on one 10 nm grid (380..780 nm): lights, observer, chart, cameras.

* illuminants at any colour temperature - CIE daylight (4000..25000 K), Planckian, or the nearest F-series
  fluorescent - each scaled to an illuminance of 1 lux;
* the CIE 1931 2-degree colour matching functions;
* the ColorChecker's measured reflectances (BabelColor's average of many charts);
* measured spectral sensitivities of real cameras (colour-science ships the NPL and Jiang et al. sets);
* the Mallett & Yuksel (2019) basis that turns linear sRGB into plausible reflectances.

colour-science is imported on first use: it is a host-side dependency, never needed on the device.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

WAVELENGTHS = np.arange(380.0, 781.0, 10.0)
STEP_NM = 10.0
# Luminous efficacy: 1 lux = 1 lumen/m^2 = 1 W/m^2 of 555 nm light / 683.
KM = 683.0
FLUORESCENTS = {"FL12": 3000.0, "FL11": 4000.0, "FL2": 4230.0, "FL10": 5000.0, "FL7": 6500.0}
SOURCES = ("daylight", "planckian", "fluorescent")
COLORCHECKER_SET = "BabelColor Average"
OBSERVER = "CIE 1931 2 Degree Standard Observer"


@functools.lru_cache(maxsize=1)
def colour_science():
    """The ``colour`` package, imported quietly (it warns about optional packages it does not need here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    return colour


def align(sd) -> np.ndarray:
    """A colour-science distribution on our grid, holding its end values beyond its range: (N,) or (N, k)."""
    wl = np.asarray(sd.wavelengths, dtype=float)
    vals = np.asarray(sd.values, dtype=float)
    if vals.ndim == 1:
        return np.interp(WAVELENGTHS, wl, vals)
    return np.stack([np.interp(WAVELENGTHS, wl, vals[:, i]) for i in range(vals.shape[1])], axis=1)


def auto_source(ct: float) -> str:
    """The light an unspecified colour temperature stands for: Planckian (tungsten-like) below 4000 K,
    CIE daylight from 4000 K (the D series is defined from 4000 K up)."""
    return "daylight" if ct >= 4000.0 else "planckian"


@functools.lru_cache(maxsize=64)
def illuminant(ct: float, source: str) -> np.ndarray:
    """Spectral power on ``WAVELENGTHS``, scaled so that it produces an illuminance of 1 lux."""
    colour = colour_science()
    if source == "daylight":
        if not 4000.0 <= ct <= 25000.0:
            raise ValueError(f"daylight illuminant needs 4000..25000 K, got {ct:.0f} K")
        # Nominal CCTs on the old second radiation constant (D65 is 6504 K), as the CIE defines the series.
        xy = colour.temperature.CCT_to_xy_CIE_D(ct * 1.4388 / 1.4380)
        spd = align(colour.sd_CIE_illuminant_D_series(xy))
    elif source == "planckian":
        spd = align(colour.sd_blackbody(ct))
    elif source == "fluorescent":
        name = min(FLUORESCENTS, key=lambda k: abs(FLUORESCENTS[k] - ct))
        spd = align(colour.SDS_ILLUMINANTS[name])
    else:
        raise ValueError(f"unknown light source {source!r} ({', '.join(SOURCES)})")
    lux = KM * np.sum(spd * luminous_efficiency()) * STEP_NM
    return spd / lux


@functools.lru_cache(maxsize=1)
def cmfs() -> np.ndarray:
    """CIE 1931 2-degree colour matching functions, (N, 3)."""
    return align(colour_science().MSDS_CMFS[OBSERVER])


def luminous_efficiency() -> np.ndarray:
    return cmfs()[:, 1]


@functools.lru_cache(maxsize=1)
def colorchecker_reflectances() -> tuple[tuple[str, ...], np.ndarray]:
    """The 24 patch names in chart order and their reflectances, (24, N)."""
    sds = colour_science().SDS_COLOURCHECKERS[COLORCHECKER_SET]
    names = tuple(sds)
    return names, np.stack([align(sds[n]) for n in names])


@functools.lru_cache(maxsize=1)
def srgb_basis() -> np.ndarray:
    """Mallett & Yuksel (2019) basis, (3, N): reflectance = r*B[0] + g*B[1] + b*B[2] for linear sRGB r, g, b."""
    return align(colour_science().recovery.MSDS_BASIS_FUNCTIONS_sRGB_MALLETT2019).T.copy()


@functools.lru_cache(maxsize=8)
def measured_sensitivities(name: str) -> np.ndarray:
    """A real camera's measured R, G, B spectral sensitivities, (N, 3), each channel peaking at 1."""
    sens = np.clip(align(colour_science().characterisation.MSDS_CAMERA_SENSITIVITIES[name]), 0.0, None)
    return sens / sens.max(axis=0)


def xyz(reflectances: np.ndarray, ct: float = 6500.0, source: str = "daylight") -> np.ndarray:
    """CIE XYZ (K, 3) of reflectances under an illuminant, normalised so the perfect white has Y = 1."""
    e = illuminant(ct, source)
    w = e @ cmfs()
    return (np.asarray(reflectances) * e) @ cmfs() / w[1]
