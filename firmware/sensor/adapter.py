"""What the libcamera-based backends share: controls checked against what the camera advertises, the CFA from
libcamera's ColorFilterArrangement, and sensor modes and black level in this firmware's terms.

Controls and metadata keep libcamera's names 1:1; checking here gives picamera2 and libcamera backends the same
clear errors as the mock ("AnalogueGain: 40.0 is out of range [1.0, 16.0]") instead of silent clamping.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..boards import SensorBackend
from ..errors import SensorUnavailable
from ..tuning import TuningFile
from . import controls as ctl
from .protocol import SensorInfo, SensorMode

# libcamera properties::draft::ColorFilterArrangement
CFA_NAMES = {0: "RGGB", 1: "GRBG", 2: "GBRG", 3: "BGGR"}

# Value types of the controls this firmware sends or reads; others are passed through as given.
_KINDS: dict[str, Any] = {
    "AeEnable": bool, "AwbEnable": bool, "ExposureTime": int, "AnalogueGain": float, "ExposureValue": float,
    "AeMeteringMode": int, "AeExposureMode": int, "AeConstraintMode": int, "AwbMode": int,
    "ColourGains": (float, float), "ColourTemperature": int, "FrameDurationLimits": (int, int),
    "NoiseReductionMode": int, "Brightness": float, "Contrast": float, "Saturation": float, "Sharpness": float,
    "AfMode": int, "AfTrigger": int, "LensPosition": float, "ExposureTimeMode": int, "AnalogueGainMode": int,
}


class ControlTable:
    """The controls a camera advertises (name -> (min, max, default)), with checking."""

    def __init__(self, advertised: Mapping[str, tuple[Any, Any, Any]]):
        self.advertised = dict(advertised)
        self._table: dict[str, ctl.ControlInfo] = {}
        for name, (lo, hi, default) in self.advertised.items():
            kind = _KINDS.get(name)
            if kind is None:
                continue
            if name in ("ExposureTime", "AnalogueGain"):
                # 0 hands the value back to the AGC (picamera2's convention); the real minimum is kept aside.
                self._table["_" + name + "Min"] = ctl.ControlInfo(name, kind, lo, hi, default)
                lo = kind(0)
            self._table[name] = ctl.ControlInfo(name, kind, _scalar(lo), _scalar(hi), default)

    def check(self, controls: Mapping[str, Any]) -> dict[str, Any]:
        known = {k: v for k, v in controls.items() if k in self._table}
        out = ctl.check_controls(self._table, known)
        for name, value in controls.items():
            if name in out:
                continue
            if name not in self.advertised:
                names = ", ".join(sorted(self.advertised))
                raise ctl.ControlError(f"{name}: not a control this camera advertises (controls: {names})")
            out[name] = value
        return out


def _scalar(v):
    # libcamera reports array controls' limits per element; a tuple here means a (min, max) of the whole.
    return v[0] if isinstance(v, (list, tuple)) and len(v) == 1 else v


def cfa_name(arrangement: int | None, model: str) -> str:
    if arrangement in CFA_NAMES:
        return CFA_NAMES[arrangement]
    kind = {4: "an RGB (non-Bayer)", 5: "a monochrome"}.get(arrangement, "an unknown")
    raise SensorUnavailable(f"{model} is {kind} sensor (ColorFilterArrangement={arrangement}); the raw pipeline "
                            f"needs a Bayer sensor")


def black_level_16(tuning: TuningFile | None) -> int:
    """The sensor's black level on libcamera's 16-bit scale, from the tuning (libcamera's default otherwise)."""
    block = tuning.block("rpi.black_level") if tuning is not None else None
    if block and "black_level" in block:
        return int(block["black_level"])
    return 4096


class BackendState:
    """The read-only half of the ``Sensor`` protocol, from the attributes every backend keeps.

    The libcamera-based backends are cameras (``is_mock`` False) whose lens software does not turn: focus is
    the lens ring's, or the AF controls' where the module has them (``lens`` None).
    """

    backend: SensorBackend
    is_mock = False
    lens = None
    tuning: TuningFile
    _info: SensorInfo
    _controls: ControlTable
    _streaming: bool
    _mode: SensorMode | None

    @property
    def info(self) -> SensorInfo:
        return self._info

    @property
    def camera_controls(self) -> dict[str, tuple[Any, Any, Any]]:
        return dict(self._controls.advertised)

    @property
    def is_streaming(self) -> bool:
        return self._streaming

    @property
    def mode(self) -> SensorMode | None:
        return self._mode
