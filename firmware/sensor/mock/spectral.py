"""Colour from physics: reflectance x illuminant x the camera's spectral sensitivities, on a 10 nm grid.

The spectral data (lights, observer, chart, measured cameras) is the ground floor's ``firmware.colour.spectra``.
Here live the mock's two kinds of camera:

* ``MeasuredCamera`` - a real camera's measured sensitivities (the NPL measurement of a Nikon D5100 by default:
  colour-science ships no IMX477 curves, and any real CMOS sensitivities give matrices with real metamerism,
  which is what calibration needs), with per-channel efficiencies;
* ``FittedCamera`` - sensitivities fitted to a tuning file (``like_fit.py``), one set per calibrated colour
  temperature, interpolated between them as libcamera interpolates the file's matrices.

Responses are normalised so that a perfect white under CIE D65 at 1000 lux gives green = 1.0 ("relative
response"); ``models.py`` turns that into electrons.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ...colour.spectra import (STEP_NM, WAVELENGTHS, auto_source, colorchecker_reflectances, illuminant,
                               measured_sensitivities, srgb_basis, xyz)
from ...tuning.interp import interpolate_ct

__all__ = ["WAVELENGTHS", "Lighting", "MeasuredCamera", "FittedCamera", "DEFAULT_CAMERA", "colorchecker_reflectances",
           "srgb_basis", "xyz", "responses", "red_loss"]


@dataclass(frozen=True)
class Lighting:
    """The light falling on the scene: a colour temperature, a kind of source and an illuminance."""

    ct: float = 5000.0
    kind: str = "auto"  # auto | daylight | planckian | fluorescent
    lux: float = 800.0

    @property
    def source(self) -> str:
        """The concrete source: ``auto`` is Planckian (tungsten-like) below 4000 K and daylight above."""
        return auto_source(self.ct) if self.kind == "auto" else self.kind

    def key(self) -> tuple:
        return (round(self.ct, 1), self.source)


class SpectralCamera:
    """A camera's spectral response; subclasses say what its sensitivities are under a light."""

    def sensitivities(self, lighting: Lighting) -> np.ndarray:
        """R, G, B spectral sensitivities (N, 3) in effect under ``lighting``."""
        raise NotImplementedError

    @functools.cached_property
    def _scale(self) -> float:
        # Perfect white under D65 (nominal 6500 K) at 1 lux has green response 1/1000.
        d65 = Lighting(6500.0, "daylight", 1.0)
        g = np.sum(illuminant(6500.0, "daylight") * self.sensitivities(d65)[:, 1]) * STEP_NM
        return 1.0 / (1000.0 * g)

    def responses(self, reflectances: np.ndarray, lighting: Lighting) -> np.ndarray:
        """Relative camera response (K, 3) of K reflectances (K, N) at the lighting's illuminance."""
        e = illuminant(lighting.ct, lighting.source) * lighting.lux
        return (np.asarray(reflectances) * e) @ self.sensitivities(lighting) * STEP_NM * self._scale


class MeasuredCamera(SpectralCamera):
    """A real camera's measured curves (colour-science's set ``name``), each channel scaled by an efficiency."""

    def __init__(self, name: str, efficiency=(1.0, 1.0, 1.0)):
        self.name = name
        self.efficiency = np.asarray(efficiency, dtype=float)

    @functools.cached_property
    def _sens(self) -> np.ndarray:
        return measured_sensitivities(self.name) * self.efficiency

    def sensitivities(self, lighting: Lighting) -> np.ndarray:
        return self._sens


class FittedCamera(SpectralCamera):
    """Sensitivities fitted per colour temperature ``cts`` (K, N, 3), interpolated linearly in kelvin between
    them and held beyond the ends - the rule libcamera applies to the matrices they were fitted to."""

    def __init__(self, cts, sens: np.ndarray):
        self.cts = tuple(float(c) for c in cts)
        self.sens = np.asarray(sens, dtype=float)
        if self.sens.shape != (len(self.cts), len(WAVELENGTHS), 3):
            raise ValueError(f"fitted sensitivities have shape {self.sens.shape}, expected "
                             f"({len(self.cts)}, {len(WAVELENGTHS)}, 3)")

    def sensitivities(self, lighting: Lighting) -> np.ndarray:
        return interpolate_ct(self.cts, self.sens, lighting.ct)


# The NPL data is normalised per channel. A raw sensor's channels differ in efficiency (dye density, IR-cut),
# so daylight white balance needs red and blue gains well above 1 - about 2.7 and 1.6 here, close to what
# libcamera's IMX477 tuning reports. These factors restore that balance; they change no colour physics.
DEFAULT_CAMERA = MeasuredCamera("Nikon 5100 (NPL)", (0.62, 1.0, 0.75))


def responses(reflectances: np.ndarray, lighting: Lighting, camera: SpectralCamera = DEFAULT_CAMERA) -> np.ndarray:
    """Relative camera response (K, 3) of K reflectances (K, N) at the lighting's illuminance."""
    return camera.responses(reflectances, lighting)


# Red-end loss at oblique incidence. The camera's IR-cut filter is an interference coating whose edge moves
# to shorter wavelengths as the chief ray angle grows, so the frame's corners lose red (and a little green).
# w(lambda) rises smoothly over 600..660 nm; the loss at the frame edge is ``strength * w``.
IR_EDGE_NM = 630.0
IR_EDGE_WIDTH_NM = 15.0


def ir_edge_weight() -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(WAVELENGTHS - IR_EDGE_NM) / IR_EDGE_WIDTH_NM))


def red_loss(lighting: Lighting, camera: SpectralCamera = DEFAULT_CAMERA) -> np.ndarray:
    """Fraction of each channel's white response that lies in the IR-edge band, (3,): how much it shades."""
    e = illuminant(lighting.ct, lighting.source)
    sens = camera.sensitivities(lighting)
    full = e @ sens
    band = (e * ir_edge_weight()) @ sens
    return band / full
