"""The sensors the mock can pretend to be: modes, CFA, bit depth, black level and noise physics.

Modes, CFA order and bit depths are what libcamera reports for the real parts (rpicam-hello --list-cameras on
a Pi: ``imx477 [4056x3040 12-bit RGGB]``, ``imx708 [4608x2592 10-bit RGGB]``). Noise figures:

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


@dataclass(frozen=True)
class SensorModel:
    info: SensorInfo
    bit_depth: int
    noise: NoisePhysics
    gain_range: tuple[float, float]
    exposure_range_us: tuple[int, int]
    # Electrons collected by green from a perfect white under D65 at 1000 lux in 10 ms at the lens's
    # f-number: sets how bright the mock's scenes are for a given exposure.
    white_electrons_1000lux_10ms: float
    # Radius-squared coefficient of the natural and mechanical light fall-off, and the optical centre's
    # offset from the array centre (fractions of the half-diagonal): the lens shading ALSC must remove.
    vignetting: float
    optical_centre: tuple[float, float]
    # Fraction of a channel's IR-edge band lost at the frame corner (colour shading, see spectral.py).
    ir_shift_loss: float
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


def _imx477() -> SensorModel:
    w, h = 4056, 3040
    modes = (
        SensorMode((4056, 3040), 12, 10.0, (0, 0, w, h), 1),
        SensorMode((2028, 1520), 12, 40.0, (0, 0, w, h), 2),
        SensorMode((2028, 1080), 12, 50.0, (0, 440, w, 2160), 2),
        SensorMode((1332, 990), 10, 120.0, (696, 528, 2664, 1980), 2),
    )
    info = SensorInfo(model="imx477", pixel_array_size=(w, h), cfa="RGGB", modes=modes, black_level_16=4096,
                      unit_cell_size_nm=(1550, 1550))
    return SensorModel(
        info=info,
        bit_depth=12,
        noise=NoisePhysics(dn_per_electron=2.767**2 / 16.0, read_pre_dn=0.715, read_post_dn=1.40,
                           full_well_e=8200.0),
        gain_range=(1.0, 22.26),
        exposure_range_us=(114, 694_422_939),
        white_electrons_1000lux_10ms=4800.0,
        vignetting=0.42,
        optical_centre=(0.03, -0.02),
        ir_shift_loss=0.6,
        blur_sigma_px=0.6,
        temperature_c=(31.0, 44.0),
    )


def _imx708() -> SensorModel:
    w, h = 4608, 2592
    modes = (
        SensorMode((4608, 2592), 10, 14.35, (0, 0, w, h), 1),
        SensorMode((2304, 1296), 10, 56.03, (0, 0, w, h), 2),
        SensorMode((1536, 864), 10, 120.13, (768, 432, 3072, 1728), 2),
    )
    info = SensorInfo(model="imx708", pixel_array_size=(w, h), cfa="RGGB", modes=modes, black_level_16=4096,
                      unit_cell_size_nm=(1400, 1400))
    return SensorModel(
        info=info,
        bit_depth=10,
        noise=NoisePhysics(dn_per_electron=2.5**2 / 64.0, read_pre_dn=0.35, read_post_dn=0.9,
                           full_well_e=9800.0),
        gain_range=(1.112, 16.0),
        exposure_range_us=(26, 112_015_443),
        white_electrons_1000lux_10ms=5200.0,
        vignetting=0.55,
        optical_centre=(-0.02, 0.02),
        ir_shift_loss=0.7,
        blur_sigma_px=0.7,
        temperature_c=(33.0, 48.0),
    )


MODELS = {"imx477": _imx477, "imx708": _imx708}


def sensor_model(name: str) -> SensorModel:
    try:
        return MODELS[name]()
    except KeyError:
        raise ValueError(f"mock sensor model {name!r} is not known (models: {', '.join(MODELS)})") from None
