"""libcamera's controls: names, types and ranges, checked before they reach a backend.

Names and enum values follow libcamera's ``control_ids_core.yaml`` as picamera2 exposes them. Checking here
gives every backend the same clear error ("AnalogueGain: 40.0 is out of range [1.0, 22.26]") instead of
libcamera's silent clamping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import ControlError

AWB_MODES = ("auto", "incandescent", "tungsten", "fluorescent", "indoor", "daylight", "cloudy", "custom")
METERING_MODES = ("centre-weighted", "spot", "matrix", "custom")
EXPOSURE_MODES = ("normal", "short", "long", "custom")
CONSTRAINT_MODES = ("normal", "highlight", "shadows", "custom")
NOISE_REDUCTION_MODES = ("off", "fast", "high_quality", "minimal", "zsl")


@dataclass(frozen=True)
class ControlInfo:
    """One control: its value type (``int``, ``float``, ``bool``, or a tuple of those), range and default."""

    name: str
    kind: type | tuple[type, ...]
    min: Any
    max: Any
    default: Any

    def check(self, value: Any) -> Any:
        """Return ``value`` converted to the control's type, or raise ``ControlError`` saying why not."""
        if isinstance(self.kind, tuple):
            if not isinstance(value, (list, tuple)) or len(value) != len(self.kind):
                raise ControlError(f"{self.name}: expected {len(self.kind)} values, got {value!r}")
            lo = self.min if isinstance(self.min, tuple) else (self.min,) * len(self.kind)
            hi = self.max if isinstance(self.max, tuple) else (self.max,) * len(self.kind)
            return tuple(_scalar(self.name, t, v, a, b) for t, v, a, b in zip(self.kind, value, lo, hi))
        return _scalar(self.name, self.kind, value, self.min, self.max)


def _scalar(name: str, kind: type, value: Any, lo: Any, hi: Any) -> Any:
    if kind is bool:
        if not isinstance(value, (bool, int)) or value not in (0, 1):
            raise ControlError(f"{name}: expected a boolean, got {value!r}")
        return bool(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ControlError(f"{name}: expected a number, got {value!r}")
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ControlError(f"{name}: expected an integer, got {value!r}")
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            raise ControlError(f"{name}: must be finite, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ControlError(f"{name}: {value!r} is out of range [{lo}, {hi}]")
    return value


def standard_controls(*, exposure_us: tuple[int, int], gain: tuple[float, float],
                      frame_duration_us: tuple[int, int]) -> dict[str, ControlInfo]:
    """The controls every backend of ours supports, with the sensor's own limits filled in.

    ``ExposureTime`` and ``AnalogueGain`` accept 0, which (as in picamera2) hands them back to the AGC.
    """
    c = [
        ControlInfo("AeEnable", bool, False, True, True),
        ControlInfo("ExposureTime", int, 0, exposure_us[1], 0),
        ControlInfo("AnalogueGain", float, 0.0, gain[1], 0.0),
        ControlInfo("ExposureValue", float, -8.0, 8.0, 0.0),
        ControlInfo("AeMeteringMode", int, 0, len(METERING_MODES) - 1, 0),
        ControlInfo("AeExposureMode", int, 0, len(EXPOSURE_MODES) - 1, 0),
        ControlInfo("AeConstraintMode", int, 0, len(CONSTRAINT_MODES) - 1, 0),
        # libcamera's FlickerOff (0) and FlickerManual (1): exposures in whole periods of AeFlickerPeriod (us).
        ControlInfo("AeFlickerMode", int, 0, 1, 0),
        ControlInfo("AeFlickerPeriod", int, 100, 1_000_000, 10000),
        ControlInfo("AwbEnable", bool, False, True, True),
        ControlInfo("AwbMode", int, 0, len(AWB_MODES) - 1, 0),
        ControlInfo("ColourGains", (float, float), 0.0, 32.0, (0.0, 0.0)),
        ControlInfo("ColourTemperature", int, 100, 100000, 5000),
        ControlInfo("FrameDurationLimits", (int, int), frame_duration_us[0], frame_duration_us[1],
                    (frame_duration_us[0], frame_duration_us[1])),
        ControlInfo("NoiseReductionMode", int, 0, len(NOISE_REDUCTION_MODES) - 1, 2),
        ControlInfo("Brightness", float, -1.0, 1.0, 0.0),
        ControlInfo("Contrast", float, 0.0, 32.0, 1.0),
        ControlInfo("Saturation", float, 0.0, 32.0, 1.0),
        ControlInfo("Sharpness", float, 0.0, 16.0, 1.0),
    ]
    controls = {ci.name: ci for ci in c}
    # The real lower limits: 0 means "auto", anything else must be a reachable exposure/gain.
    controls["_ExposureTimeMin"] = ControlInfo("ExposureTime", int, exposure_us[0], exposure_us[1], 0)
    controls["_AnalogueGainMin"] = ControlInfo("AnalogueGain", float, gain[0], gain[1], 0.0)
    return controls


def check_controls(table: Mapping[str, ControlInfo], controls: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a whole control list; unknown names and bad values raise ``ControlError``."""
    out = {}
    for name, value in controls.items():
        info = table.get(name)
        if info is None or name.startswith("_"):
            known = ", ".join(sorted(n for n in table if not n.startswith("_")))
            raise ControlError(f"{name}: not a control this camera advertises (controls: {known})")
        value = info.check(value)
        if name in ("ExposureTime", "AnalogueGain") and value != 0:
            value = table["_" + name + "Min"].check(value)
        if name == "FrameDurationLimits" and value[0] > value[1]:
            raise ControlError(f"FrameDurationLimits: minimum {value[0]} exceeds maximum {value[1]}")
        out[name] = value
    return out


def advertised(table: Mapping[str, ControlInfo]) -> dict[str, tuple[Any, Any, Any]]:
    """``camera_controls`` as picamera2 shows it: name -> (min, max, default)."""
    out = {}
    for name, ci in table.items():
        if name.startswith("_"):
            continue
        lo = table.get("_" + name + "Min", ci).min
        out[name] = (lo, ci.max, ci.default)
    return out
