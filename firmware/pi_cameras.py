"""The Raspberry Pi cameras' sensors and their readout modes, as ``rpicam-hello --list-cameras`` lists them.

One table for everything that needs a mode's size or crop: the mock sensor's parts (``sensor/mock/parts.py``),
choosing the tuning of a DNG by its size and placing a cropped mode's lens shading (``camtune/dng_tuning.py``),
and calibration's binning factor (``calibrate/images.py``). On the ground floor: it imports nothing of
ours, so the sensor, tuning and camtune layers all stand on it.

Each mode is the kernel driver's (2023-2025): size, bit depth of the packed format picamera2 chooses by
default (the IMX219's 8-bit twins are left out), the fastest frame rate, the crop of the pixel array it reads
out (x, y, width, height, before binning) and the binning factor. Sensors the mock does not model list only
the sizes we know they read out (``crop`` None: not known here, so no crop is inferred for them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENSOR = re.compile(r"(?<![a-z0-9])((?:imx|ov|ar|gc|s5k|se)\d+[a-z0-9]*(?:_[a-z0-9]+)*)")


@dataclass(frozen=True)
class Mode:
    size: tuple[int, int]
    crop: tuple[int, int, int, int] | None = None
    bit_depth: int | None = None
    max_fps: float | None = None
    binning: int = 1


@dataclass(frozen=True)
class PiSensor:
    pixel_array: tuple[int, int]
    modes: tuple[Mode, ...]

    def mode(self, size: tuple[int, int]) -> Mode | None:
        return next((m for m in self.modes if m.size == tuple(size)), None)

    def is_cropped(self, mode: Mode) -> bool:
        """True when the mode reads out less than the whole pixel array (its field of view is narrower)."""
        return mode.crop is not None and mode.crop != (0, 0) + self.pixel_array


def _m(w, h, bits, fps, crop, binning=1) -> Mode:
    return Mode((w, h), crop, bits, fps, binning)


def _sizes(*sizes) -> tuple[Mode, ...]:
    return tuple(Mode(s) for s in sizes)


# The most common sensor first where two share a size (a DNG that names no sensor is matched by size).
SENSORS: dict[str, PiSensor] = {
    # HQ camera. 'SRGGB10_CSI2P' 1332x990; 'SRGGB12_CSI2P' 2028x1080, 2028x1520, 4056x3040.
    "imx477": PiSensor((4056, 3040), (_m(4056, 3040, 12, 10.0, (0, 0, 4056, 3040)),
                                      _m(2028, 1520, 12, 40.0, (0, 0, 4056, 3040), 2),
                                      _m(2028, 1080, 12, 50.0, (0, 440, 4056, 2160), 2),
                                      _m(1332, 990, 10, 120.0, (696, 528, 2664, 1980), 2))),
    # Camera Module 3 (wide and NoIR variants read out alike).
    "imx708": PiSensor((4608, 2592), (_m(4608, 2592, 10, 14.35, (0, 0, 4608, 2592)),
                                      _m(2304, 1296, 10, 56.03, (0, 0, 4608, 2592), 2),
                                      _m(1536, 864, 10, 120.13, (768, 432, 3072, 1728), 2))),
    # Camera Module 2.
    "imx219": PiSensor((3280, 2464), (_m(3280, 2464, 10, 21.19, (0, 0, 3280, 2464)),
                                      _m(1920, 1080, 10, 47.57, (680, 692, 1920, 1080)),
                                      _m(1640, 1232, 10, 41.85, (0, 0, 3280, 2464), 2),
                                      _m(640, 480, 10, 206.65, (1000, 752, 1280, 960), 2))),
    # Camera Module 1 (OmniVision). Its 640x480 mode bins and skips 4:1 from a 2560x1920 window.
    "ov5647": PiSensor((2592, 1944), (_m(2592, 1944, 10, 15.63, (0, 0, 2592, 1944)),
                                      _m(1920, 1080, 10, 30.62, (348, 434, 1928, 1080)),
                                      _m(1296, 972, 10, 43.25, (0, 0, 2592, 1944), 2),
                                      _m(640, 480, 10, 58.92, (16, 0, 2560, 1920), 2))),
    # Global Shutter camera: one mode.
    "imx296": PiSensor((1456, 1088), (_m(1456, 1088, 10, 60.38, (0, 0, 1456, 1088)),)),
    # AI camera (the HQ camera's pixel array).
    "imx500": PiSensor((4056, 3040), _sizes((4056, 3040), (2028, 1520))),
    "imx519": PiSensor((4656, 3496), _sizes((4656, 3496), (2328, 1748), (1920, 1080), (1280, 720))),
    "imx283": PiSensor((5472, 3648), _sizes((5472, 3648), (2736, 1824))),
    "imx290": PiSensor((1920, 1080), _sizes((1920, 1080), (1280, 720))),
    "imx378": PiSensor((4056, 3040), ()),
    "ov64a40": PiSensor((9248, 6944), ()),
}


def sensor_names(text: str) -> list[str]:
    """Sensor names in a Model text, each variant before its base: ``imx708_wide_noir``, ``imx708_wide``, ``imx708``."""
    m = _SENSOR.search(text.lower())
    if not m:
        return []
    parts = m.group(1).split("_")
    return ["_".join(parts[:n]) for n in range(len(parts), 0, -1)]
