"""The Raspberry Pi camera sensors as libcamera and picamera2 report them: modes, CFA, bit depth, ranges.

Modes are ``rpicam-hello --list-cameras`` on a Pi (kernel drivers of 2023-2025): size, bit depth, the
fastest frame rate and the crop of the pixel array each reads out. Only the packed modes picamera2 chooses by
default are listed (the IMX219's 8-bit twins of its 10-bit modes are left out). Analogue gain and exposure
ranges are the advertised ``AnalogueGain`` and ``ExposureTime`` limits where published (IMX296: its list
above; IMX477, IMX708: picamera2's ``camera_controls``); the rest are the drivers' register limits, rounded.

Read noise (DN at the sensor's bit depth, gain 1, before and after the analogue gain) and full well: the
IMX477 from strollswithmydog.com's measurements ("Pi HQ Cam Sensor Performance"); the others are estimates
from pixel size, since libcamera's ``rpi.noise`` files all give ``reference_constant`` 0.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _info(model, size, cfa, black16, cell_nm, *modes) -> SensorInfo:
    return SensorInfo(model=model, pixel_array_size=size, cfa=cfa, black_level_16=black16,
                      unit_cell_size_nm=(cell_nm, cell_nm), modes=tuple(SensorMode(*m) for m in modes))


PARTS = {
    # HQ camera. 'SRGGB10_CSI2P' 1332x990; 'SRGGB12_CSI2P' 2028x1080, 2028x1520, 4056x3040.
    "imx477": Part(_info("imx477", (4056, 3040), "RGGB", 4096, 1550,
                         ((4056, 3040), 12, 10.0, (0, 0, 4056, 3040), 1),
                         ((2028, 1520), 12, 40.0, (0, 0, 4056, 3040), 2),
                         ((2028, 1080), 12, 50.0, (0, 440, 4056, 2160), 2),
                         ((1332, 990), 10, 120.0, (696, 528, 2664, 1980), 2)),
                   12, (1.0, 22.26), (114, 694_422_939), 0.715, 1.40, 8200.0),
    # Camera Module 3 (wide and NoIR variants read out alike).
    "imx708": Part(_info("imx708", (4608, 2592), "RGGB", 4096, 1400,
                         ((4608, 2592), 10, 14.35, (0, 0, 4608, 2592), 1),
                         ((2304, 1296), 10, 56.03, (0, 0, 4608, 2592), 2),
                         ((1536, 864), 10, 120.13, (768, 432, 3072, 1728), 2)),
                   10, (1.112, 16.0), (26, 112_015_443), 0.35, 0.9, 9800.0, (33.0, 48.0)),
    # Camera Module 2.
    "imx219": Part(_info("imx219", (3280, 2464), "RGGB", 4096, 1120,
                         ((3280, 2464), 10, 21.19, (0, 0, 3280, 2464), 1),
                         ((1920, 1080), 10, 47.57, (680, 692, 1920, 1080), 1),
                         ((1640, 1232), 10, 41.85, (0, 0, 3280, 2464), 2),
                         ((640, 480), 10, 206.65, (1000, 752, 1280, 960), 2)),
                   10, (1.0, 10.67), (75, 11_766_829), 0.5, 1.0, 4500.0),
    # Global Shutter camera: one mode.
    "imx296": Part(_info("imx296", (1456, 1088), "RGGB", 3840, 3450,
                         ((1456, 1088), 10, 60.38, (0, 0, 1456, 1088), 1)),
                   10, (1.0, 251.19), (29, 15_534_444), 0.4, 0.8, 10000.0),
    # Camera Module 1 (OmniVision), GBRG. Its 640x480 mode bins and skips 4:1 from a 2560x1920 window.
    "ov5647": Part(_info("ov5647", (2592, 1944), "GBRG", 1024, 1400,
                         ((2592, 1944), 10, 15.63, (0, 0, 2592, 1944), 1),
                         ((1920, 1080), 10, 30.62, (348, 434, 1928, 1080), 1),
                         ((1296, 972), 10, 43.25, (0, 0, 2592, 1944), 2),
                         ((640, 480), 10, 58.92, (16, 0, 2560, 1920), 2)),
                   10, (1.0, 63.94), (130, 3_066_985), 0.6, 1.2, 5000.0),
}


def part(name: str) -> Part:
    try:
        return PARTS[name]
    except KeyError:
        raise ValueError(f"sensor {name!r} is not one the mock knows (sensors: {', '.join(PARTS)})") from None
