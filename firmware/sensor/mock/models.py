"""The sensors the mock can pretend to be: a part (modes, CFA, bit depth, black level), noise physics, a
spectral camera and a lens.

Two hand-made models carry the project's own physics (``MODELS``: measured Nikon D5100 sensitivities, a
radial lens); ``like.py`` builds a model from any stock libcamera tuning file instead. Noise figures of the
hand-made models:

* IMX477: 0.479 DN(12-bit) per electron at analogue gain 1, from libcamera's ``rpi.noise``
  ``reference_slope`` 2.767 on the 16-bit scale (2.767^2 / 16 = 0.479); read noise 1.53 DN at gain 1 and
  11.5 DN at gain 16 (strollswithmydog.com, "Pi HQ Cam Sensor Performance"), modelled as a pre-gain and a
  post-gain source added in quadrature.
* IMX708: ``reference_slope`` 2.5 (0.098 DN(10-bit)/e-); read noise is an estimate (no published figure).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..protocol import SensorInfo, SensorMode
from .lens import RadialLens
from .parts import Part, part
from .spectral import DEFAULT_CAMERA


@dataclass(frozen=True)
class NoisePhysics:
    """Photon-transfer parameters at analogue gain 1, in the sensor's own bit depth."""

    dn_per_electron: float
    read_pre_dn: float  # read noise before the analogue gain (scales with gain)
    read_post_dn: float  # read noise after it (ADC, constant)
    full_well_e: float

    def read_noise_dn(self, gain: float) -> float:
        return math.hypot(self.read_pre_dn * gain, self.read_post_dn)

    def variance_dn(self, signal_dn: float, gain: float) -> float:
        """Expected variance (DN^2) of a pixel whose mean signal above black is ``signal_dn``."""
        return self.dn_per_electron * gain * signal_dn + self.read_noise_dn(gain) ** 2


@dataclass(frozen=True, eq=False)
class SensorModel:
    info: SensorInfo
    bit_depth: int
    noise: NoisePhysics
    gain_range: tuple[float, float]
    exposure_range_us: tuple[int, int]
    # Electrons collected by green from a perfect white under D65 at 1000 lux in 10 ms at the lens's
    # f-number: sets how bright the mock's scenes are for a given exposure.
    white_electrons_1000lux_10ms: float
    lens: object  # lens.RadialLens or lens.TableLens: the shading ALSC must remove
    camera: object  # spectral.MeasuredCamera or spectral.FittedCamera
    blur_sigma_px: float
    temperature_c: tuple[float, float]  # at start, and after warming up

    @property
    def white_level(self) -> int:
        return (1 << self.bit_depth) - 1

    @property
    def black_level(self) -> int:
        return self.info.black_level_16 >> (16 - self.bit_depth)

    def mode_bit_depth(self, mode: SensorMode) -> int:
        return mode.bit_depth


def _hand_made(p: Part, slope: float, white_electrons: float, vignetting: float, centre: tuple[float, float],
               ir_shift_loss: float, blur: float) -> SensorModel:
    noise = NoisePhysics(dn_per_electron=slope**2 / 2 ** (16 - p.bit_depth), read_pre_dn=p.read_pre_dn,
                         read_post_dn=p.read_post_dn, full_well_e=p.full_well_e)
    lens = RadialLens(vignetting, centre, ir_shift_loss, p.info.pixel_array_size)
    return SensorModel(info=p.info, bit_depth=p.bit_depth, noise=noise, gain_range=p.gain_range,
                       exposure_range_us=p.exposure_range_us, white_electrons_1000lux_10ms=white_electrons,
                       lens=lens, camera=DEFAULT_CAMERA, blur_sigma_px=blur, temperature_c=p.temperature_c)


def _imx477() -> SensorModel:
    return _hand_made(part("imx477"), 2.767, 4800.0, 0.42, (0.03, -0.02), 0.6, 0.6)


def _imx708() -> SensorModel:
    return _hand_made(part("imx708"), 2.5, 5200.0, 0.55, (-0.02, 0.02), 0.7, 0.7)


MODELS = {"imx477": _imx477, "imx708": _imx708}


def sensor_model(name: str) -> SensorModel:
    try:
        return MODELS[name]()
    except KeyError:
        raise ValueError(f"mock sensor model {name!r} is not known (models: {', '.join(MODELS)})") from None
