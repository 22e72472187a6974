"""The operator's settings: what each accepts on this camera, its value now, and how it applies.

============  ==========================================  ==============================================
setting       value                                       applies as
============  ==========================================  ==============================================
exposure      microseconds (integer) or "auto"            ExposureTime (0 = automatic)
gain          analogue gain (number) or "auto"            AnalogueGain (0 = automatic)
ev            exposure compensation in stops              ExposureValue
awb           AWB mode: auto, incandescent, daylight, …   AwbMode (and AwbEnable on)
colour_gains  [red, blue] gains or "auto"                 ColourGains with AwbEnable off
look          a look from tuning/looks                    the JPEG's develop recipe
denoise       off, fast or hq                             the raw denoiser in the develop recipe
drive_mode    single, burst, bracket or timelapse         what the shutter button does
raw           true or false                               DNG beside the JPEG
============  ==========================================  ==============================================

Sensor controls set here are the operator's (kept by the capture engine): they survive camera restarts,
half-press releases and brackets until set back to ``auto``. ``Camerad.apply_settings`` takes values already
checked against ``ranges`` (the control socket does that) and changes the camera settings first, then the
sensor's controls (``to_controls``) in one go. The camera's own settings (look, denoise, raw, drive mode) are
one frozen ``CameraSettings``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from ..actions import DenoiseMode, DriveMode, Setting
from ..sensor.controls import AWB_MODES
from ..tuning.looks import list_looks

MAX_COLOUR_GAIN = 32.0


@dataclass(frozen=True)
class CameraSettings:
    """How captures are made now: the look and denoiser of the develop recipe, raw on or off, the drive mode."""

    look: str
    denoise: DenoiseMode
    raw: bool
    drive_mode: DriveMode

    def replace(self, **changes) -> "CameraSettings":
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _limits(advertised, control: str, lo, hi):
    info = advertised.get(control)
    if info is None:
        return None
    a, b, _ = info
    return (a or lo), (b or hi)


def ranges(adv: Mapping[str, tuple[Any, Any, Any]]) -> dict[str, dict[str, Any]]:
    """What each setting accepts on a camera advertising controls ``adv`` (its limits for exposure and gain)."""
    out: dict[str, dict[str, Any]] = {}
    exp = _limits(adv, "ExposureTime", 1, 10_000_000)
    if exp:
        out[Setting.EXPOSURE] = {"type": "integer", "unit": "us", "min": int(exp[0]), "max": int(exp[1]),
                                 "auto": True}
    gain = _limits(adv, "AnalogueGain", 1.0, 16.0)
    if gain:
        out[Setting.GAIN] = {"type": "number", "min": float(gain[0]), "max": float(gain[1]), "auto": True}
    if "ExposureValue" in adv:
        out[Setting.EV] = {"type": "number", "unit": "EV", "min": float(adv["ExposureValue"][0]),
                           "max": float(adv["ExposureValue"][1])}
    if "AwbMode" in adv:
        out[Setting.AWB] = {"type": "string", "choices": list(AWB_MODES)}
    if "ColourGains" in adv:
        out[Setting.COLOUR_GAINS] = {"type": "[number, number]", "min": 0.0, "max": MAX_COLOUR_GAIN, "auto": True,
                                     "note": "red and blue gains (green is 1); > 0"}
    out[Setting.LOOK] = {"type": "string", "choices": list_looks()}
    out[Setting.DENOISE] = {"type": "string", "choices": [m.value for m in DenoiseMode]}
    out[Setting.DRIVE_MODE] = {"type": "string", "choices": [m.value for m in DriveMode]}
    out[Setting.RAW] = {"type": "boolean"}
    return {str(k): v for k, v in out.items()}


def current(op: Mapping[str, Any], s: CameraSettings) -> dict[str, Any]:
    """Every setting's value as the operator set it (``op``: the sensor controls set by hand; ``auto`` where
    the camera's loops decide) with the camera's settings ``s``."""
    gains = op.get("ColourGains")
    awb = op.get("AwbMode")
    return {
        Setting.EXPOSURE: int(op["ExposureTime"]) if op.get("ExposureTime") else "auto",
        Setting.GAIN: float(op["AnalogueGain"]) if op.get("AnalogueGain") else "auto",
        Setting.EV: float(op.get("ExposureValue", 0.0)),
        Setting.AWB: AWB_MODES[int(awb)] if awb is not None else "auto",
        Setting.COLOUR_GAINS: [float(gains[0]), float(gains[1])] if gains and op.get("AwbEnable") is False
        else "auto",
        Setting.LOOK: s.look,
        Setting.DENOISE: s.denoise.value,
        Setting.DRIVE_MODE: s.drive_mode.value,
        Setting.RAW: s.raw,
    }


def to_controls(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The libcamera controls for the sensor settings in ``values``: (manual ones, ones handed back to auto).

    >>> to_controls({"exposure": 4000, "gain": "auto"})
    ({'ExposureTime': 4000}, {'AnalogueGain': 0.0})
    """
    manual: dict[str, Any] = {}
    automatic: dict[str, Any] = {}
    for key, value in values.items():
        if key == Setting.EXPOSURE:
            (automatic if value == "auto" else manual)["ExposureTime"] = 0 if value == "auto" else int(value)
        elif key == Setting.GAIN:
            (automatic if value == "auto" else manual)["AnalogueGain"] = 0.0 if value == "auto" else float(value)
        elif key == Setting.EV:
            manual["ExposureValue"] = float(value)
        elif key == Setting.AWB:
            manual["AwbMode"] = AWB_MODES.index(value)
            if Setting.COLOUR_GAINS not in values:  # choosing a mode hands white balance back to AWB
                automatic.update(AwbEnable=True, ColourGains=(0.0, 0.0))
        elif key == Setting.COLOUR_GAINS:
            if value == "auto":
                automatic.update(AwbEnable=True, ColourGains=(0.0, 0.0))
            else:
                manual.update(AwbEnable=False, ColourGains=(float(value[0]), float(value[1])))
    return manual, automatic
