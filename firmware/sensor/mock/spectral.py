"""Colour from physics: reflectance x illuminant x measured camera sensitivities, on a 10 nm grid.

All spectral data comes from colour-science: the CIE daylight and Planckian illuminants at any colour
temperature, the F-series fluorescents, the ColorChecker's measured reflectances (BabelColor average), the
Mallett-Yuksel basis that turns linear sRGB into plausible reflectances, and the NPL measurement of a real
camera's spectral sensitivities (Nikon D5100; colour-science ships no IMX477 curves, and any real CMOS
sensitivities give matrices with real metamerism, which is what calibration needs).

Responses are normalised so that a perfect white under CIE D65 at 1000 lux gives green = 1.0 ("relative
response"); ``models.py`` turns that into electrons.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

WAVELENGTHS = np.arange(380.0, 781.0, 10.0)
STEP_NM = 10.0
# Luminous efficacy: 1 lux = 1 lumen/m^2 = 1 W/m^2 of 555 nm light / 683.
_KM = 683.0
FLUORESCENTS = {"FL12": 3000.0, "FL11": 4000.0, "FL2": 4230.0, "FL10": 5000.0, "FL7": 6500.0}
COLORCHECKER_SET = "BabelColor Average"
CAMERA_SET = "Nikon 5100 (NPL)"


def _colour():
    # Imported lazily: colour-science is a mock/test dependency, never needed on the device.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    return colour


def _align(sd) -> np.ndarray:
    """Resample a colour-science distribution onto our grid, holding end values beyond its range."""
    wl = np.asarray(sd.wavelengths, dtype=float)
    vals = np.asarray(sd.values, dtype=float)
    if vals.ndim == 1:
        return np.interp(WAVELENGTHS, wl, vals)
    return np.stack([np.interp(WAVELENGTHS, wl, vals[:, i]) for i in range(vals.shape[1])], axis=1)


@dataclass(frozen=True)
class Lighting:
    """The light falling on the scene: a colour temperature, a kind of source and an illuminance."""

    ct: float = 5000.0
    kind: str = "auto"  # auto | daylight | planckian | fluorescent
    lux: float = 800.0

    @property
    def source(self) -> str:
        """The concrete source: ``auto`` is Planckian (tungsten-like) below 4000 K and daylight above."""
        if self.kind == "auto":
            return "daylight" if self.ct >= 4000.0 else "planckian"
        return self.kind

    def key(self) -> tuple:
        return (round(self.ct, 1), self.source)


@functools.lru_cache(maxsize=64)
def illuminant(ct: float, source: str) -> np.ndarray:
    """Spectral power on ``WAVELENGTHS``, scaled so that it produces an illuminance of 1 lux."""
    colour = _colour()
    if source == "daylight":
        if not 4000.0 <= ct <= 25000.0:
            raise ValueError(f"daylight illuminant needs 4000..25000 K, got {ct:.0f} K")
        xy = colour.temperature.CCT_to_xy_CIE_D(ct * 1.4388 / 1.4380)
        spd = _align(colour.sd_CIE_illuminant_D_series(xy))
    elif source == "planckian":
        spd = _align(colour.sd_blackbody(ct))
    elif source == "fluorescent":
        name = min(FLUORESCENTS, key=lambda k: abs(FLUORESCENTS[k] - ct))
        spd = _align(colour.SDS_ILLUMINANTS[name])
    else:
        raise ValueError(f"unknown light source {source!r} (daylight, planckian, fluorescent)")
    lux = _KM * np.sum(spd * luminous_efficiency()) * STEP_NM
    return spd / lux


@functools.lru_cache(maxsize=1)
def luminous_efficiency() -> np.ndarray:
    colour = _colour()
    return _align(colour.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"])[:, 1]


@functools.lru_cache(maxsize=1)
def cmfs() -> np.ndarray:
    """CIE 1931 2-degree colour matching functions, (N, 3)."""
    colour = _colour()
    return _align(colour.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"])


# The NPL data is normalised per channel. A raw sensor's channels differ in efficiency (dye density, IR-cut),
# so daylight white balance needs red and blue gains well above 1 - about 2.7 and 1.6 here, close to what
# libcamera's IMX477 tuning reports. These factors restore that balance; they change no colour physics.
CHANNEL_EFFICIENCY = np.array([0.62, 1.0, 0.75])


@functools.lru_cache(maxsize=4)
def camera_sensitivities(name: str = CAMERA_SET) -> np.ndarray:
    """Measured R, G, B spectral sensitivities, (N, 3), green peaking at 1."""
    colour = _colour()
    sens = _align(colour.characterisation.MSDS_CAMERA_SENSITIVITIES[name])
    sens = np.clip(sens, 0.0, None)
    return sens / sens.max(axis=0) * CHANNEL_EFFICIENCY


@functools.lru_cache(maxsize=1)
def colorchecker_reflectances() -> tuple[tuple[str, ...], np.ndarray]:
    """The 24 patch names in chart order and their reflectances, (24, N)."""
    colour = _colour()
    sds = colour.SDS_COLOURCHECKERS[COLORCHECKER_SET]
    names = tuple(sds)
    return names, np.stack([_align(sds[n]) for n in names])


@functools.lru_cache(maxsize=1)
def srgb_basis() -> np.ndarray:
    """Mallett & Yuksel (2019) basis, (3, N): reflectance = r*B[0] + g*B[1] + b*B[2] for linear sRGB r, g, b."""
    colour = _colour()
    return _align(colour.recovery.MSDS_BASIS_FUNCTIONS_sRGB_MALLETT2019).T.copy()


# Red-end loss at oblique incidence. The camera's IR-cut filter is an interference coating whose edge moves
# to shorter wavelengths as the chief ray angle grows, so the frame's corners lose red (and a little green).
# w(lambda) rises smoothly over 600..660 nm; the loss at the frame edge is ``strength * w``.
IR_EDGE_NM = 630.0
IR_EDGE_WIDTH_NM = 15.0


def ir_edge_weight() -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(WAVELENGTHS - IR_EDGE_NM) / IR_EDGE_WIDTH_NM))


@functools.lru_cache(maxsize=8)
def _scale(camera: str) -> float:
    """Normalisation: perfect white under D65 (nominal 6500 K) at 1 lux has green response 1/1000."""
    g = np.sum(illuminant(6500.0, "daylight") * camera_sensitivities(camera)[:, 1]) * STEP_NM
    return 1.0 / (1000.0 * g)


def responses(reflectances: np.ndarray, lighting: Lighting, camera: str = CAMERA_SET) -> np.ndarray:
    """Relative camera response (K, 3) of K reflectances (K, N) at the lighting's illuminance."""
    e = illuminant(lighting.ct, lighting.source) * lighting.lux
    sens = camera_sensitivities(camera)
    return (np.asarray(reflectances) * e) @ sens * STEP_NM * _scale(camera)


def red_loss(lighting: Lighting, camera: str = CAMERA_SET) -> np.ndarray:
    """Fraction of each channel's white response that lies in the IR-edge band, (3,): how much it shades."""
    e = illuminant(lighting.ct, lighting.source)
    sens = camera_sensitivities(camera)
    full = e @ sens
    band = (e * ir_edge_weight()) @ sens
    return band / full


def xyz(reflectances: np.ndarray, ct: float = 6500.0, source: str = "daylight") -> np.ndarray:
    """CIE XYZ (K, 3) of reflectances under an illuminant, normalised so the perfect white has Y = 1."""
    e = illuminant(ct, source)
    w = e @ cmfs()
    return (np.asarray(reflectances) * e) @ cmfs() / w[1]
