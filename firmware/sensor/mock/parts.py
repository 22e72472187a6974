"""The Raspberry Pi camera sensors as libcamera and picamera2 report them: modes, CFA, bit depth, ranges.

Modes come from ``firmware/pi_cameras.py`` (``rpicam-hello --list-cameras`` on a Pi). Analogue gain and exposure
ranges are the advertised ``AnalogueGain`` and ``ExposureTime`` limits where published (IMX296: rpicam-hello's
listing; IMX477, IMX708: picamera2's ``camera_controls``); the rest are the drivers' register limits, rounded.

Read noise (DN at the sensor's bit depth, gain 1, before and after the analogue gain) and full well: the
IMX477 from strollswithmydog.com's measurements ("Pi HQ Cam Sensor Performance"); the others are estimates
from pixel size, since libcamera's ``rpi.noise`` files all give ``reference_constant`` 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...pi_cameras import SENSORS
from ..protocol import SensorInfo, SensorMode


@dataclass(frozen=True)
class Part:
    info: SensorInfo
    bit_depth: int
    gain_range: tuple[float, float]
    exposure_range_us: tuple[int, int]
    read_pre_dn: float
    read_post_dn: float
    full_well_e: float
    temperature_c: tuple[float, float] = (31.0, 44.0)  # at start, and after warming up


def _info(model, cfa, black16, cell_nm) -> SensorInfo:
    pi = SENSORS[model]
    return SensorInfo(model=model, pixel_array_size=pi.pixel_array, cfa=cfa, black_level_16=black16,
                      unit_cell_size_nm=(cell_nm, cell_nm),
                      modes=tuple(SensorMode(m.size, m.bit_depth, m.max_fps, m.crop, m.binning) for m in pi.modes))


# Modes: ``firmware/pi_cameras.py`` (the one table of the Pi sensors' readout modes).
PARTS = {
    "imx477": Part(_info("imx477", "RGGB", 4096, 1550), 12, (1.0, 22.26), (114, 694_422_939), 0.715, 1.40, 8200.0),
    "imx708": Part(_info("imx708", "RGGB", 4096, 1400), 10, (1.112, 16.0), (26, 112_015_443), 0.35, 0.9, 9800.0,
                   (33.0, 48.0)),
    "imx219": Part(_info("imx219", "RGGB", 4096, 1120), 10, (1.0, 10.67), (75, 11_766_829), 0.5, 1.0, 4500.0),
    "imx296": Part(_info("imx296", "RGGB", 3840, 3450), 10, (1.0, 251.19), (29, 15_534_444), 0.4, 0.8, 10000.0),
    # OmniVision: GBRG.
    "ov5647": Part(_info("ov5647", "GBRG", 1024, 1400), 10, (1.0, 63.94), (130, 3_066_985), 0.6, 1.2, 5000.0),
}


def part(name: str) -> Part:
    try:
        return PARTS[name]
    except KeyError:
        raise ValueError(f"sensor {name!r} is not one the mock knows (sensors: {', '.join(PARTS)})") from None
