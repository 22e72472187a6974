"""The operator's settings (``camctl get``/``set``): names, JSON values, ranges from the sensor, how each applies.

============  ==========================================  ==============================================
key           value                                       applies as
============  ==========================================  ==============================================
exposure      microseconds (integer) or "auto"            ExposureTime (0 = automatic)
gain          analogue gain (number) or "auto"            AnalogueGain (0 = automatic)
ev            exposure compensation in stops              ExposureValue
awb           AWB mode: auto, incandescent, daylight, …   AwbMode (and AwbEnable on)
colour_gains  [red, blue] gains or "auto"                 ColourGains with AwbEnable off
look          a look from tuning/looks                    the JPEG developer's look
denoise       off, fast or hq                             the raw denoiser
drive_mode    single, burst, bracket or timelapse         what the shutter button does
raw           true or false                               DNG beside the JPEG
============  ==========================================  ==============================================

Sensor controls set here are the operator's (``CaptureEngine.set_operator_controls``): they survive camera
restarts, half-press releases and brackets until set back to ``auto``. A ``set`` with several keys is checked
as a whole before anything changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..actions import DriveMode
from ..capture.looks import look_names
from ..denoise import MODES as DENOISE_MODES
from ..errors import ConfigError, ControlError
from ..sensor.controls import AWB_MODES
from .params import Param, check_value
from .protocol import SETTING_KEYS as KEYS, RequestError

if TYPE_CHECKING:  # pragma: no cover
    from ..daemon.app import Camerad

DRIVE_MODES = tuple(m.value for m in DriveMode)
_MAX_COLOUR_GAIN = 32.0


def _limits(app: "Camerad", control: str, lo, hi):
    info = app.engine.advertised().get(control)
    if info is None:
        return None
    a, b, _ = info
    return (a or lo), (b or hi)


def ranges(app: "Camerad") -> dict[str, dict[str, Any]]:
    """What each key accepts on this camera (the sensor's own limits for exposure and gain)."""
    out: dict[str, dict[str, Any]] = {}
    exp = _limits(app, "ExposureTime", 1, 10_000_000)
    if exp:
        out["exposure"] = {"type": "integer", "unit": "us", "min": int(exp[0]), "max": int(exp[1]), "auto": True}
    gain = _limits(app, "AnalogueGain", 1.0, 16.0)
    if gain:
        out["gain"] = {"type": "number", "min": float(gain[0]), "max": float(gain[1]), "auto": True}
    adv = app.engine.advertised()
    if "ExposureValue" in adv:
        out["ev"] = {"type": "number", "unit": "EV", "min": float(adv["ExposureValue"][0]),
                     "max": float(adv["ExposureValue"][1])}
    if "AwbMode" in adv:
        out["awb"] = {"type": "string", "choices": list(AWB_MODES)}
    if "ColourGains" in adv:
        out["colour_gains"] = {"type": "[number, number]", "min": 0.0, "max": _MAX_COLOUR_GAIN, "auto": True,
                               "note": "red and blue gains (green is 1); > 0"}
    out["look"] = {"type": "string", "choices": list(look_names())}
    out["denoise"] = {"type": "string", "choices": list(DENOISE_MODES)}
    out["drive_mode"] = {"type": "string", "choices": list(DRIVE_MODES)}
    out["raw"] = {"type": "boolean"}
    return out


def current(app: "Camerad") -> dict[str, Any]:
    """Every setting's value as the operator set it (``auto`` where the camera's loops decide)."""
    op = app.engine.operator
    gains = op.get("ColourGains")
    awb = op.get("AwbMode")
    return {
        "exposure": int(op["ExposureTime"]) if op.get("ExposureTime") else "auto",
        "gain": float(op["AnalogueGain"]) if op.get("AnalogueGain") else "auto",
        "ev": float(op.get("ExposureValue", 0.0)),
        "awb": AWB_MODES[int(awb)] if awb is not None else "auto",
        "colour_gains": [float(gains[0]), float(gains[1])] if gains and op.get("AwbEnable") is False else "auto",
        "look": app.look,
        "denoise": app.denoise,
        "drive_mode": app.drive_mode.value,
        "raw": app.writer.raw,
    }


def get(app: "Camerad", keys: list[str] | None = None) -> dict[str, Any]:
    values = current(app)
    for key in keys or []:
        if key not in values:
            raise RequestError("not_found", f"get: {key!r} is not a setting (settings: {', '.join(KEYS)})")
    return {k: values[k] for k in (keys or KEYS)}


def check(app: "Camerad", values: dict[str, Any]) -> dict[str, Any]:
    """Every value checked and converted (``RequestError`` naming the first bad one); nothing is applied."""
    if not values:
        raise RequestError("invalid_params", "set: give at least one KEY=VALUE")
    allowed = ranges(app)
    out = {}
    for key, value in values.items():
        if key not in KEYS:
            raise RequestError("not_found", f"set: {key!r} is not a setting (settings: {', '.join(KEYS)})")
        if key not in allowed:
            raise RequestError("unavailable", f"set: {key}: this camera has no control for it")
        out[key] = _check_one(key, value, allowed[key])
    return out


def _check_one(key: str, value: Any, r: dict[str, Any]) -> Any:
    where = f"set: {key}"
    if r.get("auto") and value == "auto":
        return "auto"
    if key in ("exposure", "gain", "ev"):
        kind = int if key == "exposure" else float
        return check_value(where, Param(kind, lo=r["min"], hi=r["max"]), value)
    if key == "colour_gains":
        gains = check_value(where, Param(list, item=float, lo=0.0, hi=r["max"], max_items=2), value)
        if len(gains) != 2:
            raise RequestError("invalid_params", f"{where}: expected [red, blue] (two numbers) or \"auto\", "
                                                 f"got {value!r}")
        if min(gains) <= 0:
            raise RequestError("out_of_range", f"{where}: gains must be above 0, got {gains}")
        return gains
    if key == "raw":
        return check_value(where, Param(bool), value)
    return check_value(where, Param(str, choices=tuple(r["choices"])), value)


def apply(app: "Camerad", values: dict[str, Any]) -> dict[str, Any]:
    """Apply checked ``values``; camera settings first, then the sensor's controls in one go."""
    manual: dict[str, Any] = {}
    automatic: dict[str, Any] = {}
    for key, value in values.items():
        if key == "exposure":
            (automatic if value == "auto" else manual)["ExposureTime"] = 0 if value == "auto" else int(value)
        elif key == "gain":
            (automatic if value == "auto" else manual)["AnalogueGain"] = 0.0 if value == "auto" else float(value)
        elif key == "ev":
            manual["ExposureValue"] = float(value)
        elif key == "awb":
            manual["AwbMode"] = AWB_MODES.index(value)
            if "colour_gains" not in values:  # choosing a mode hands white balance back to AWB
                automatic.update(AwbEnable=True, ColourGains=(0.0, 0.0))
        elif key == "colour_gains":
            if value == "auto":
                automatic.update(AwbEnable=True, ColourGains=(0.0, 0.0))
            else:
                manual.update(AwbEnable=False, ColourGains=(float(value[0]), float(value[1])))
    if "denoise" in values:  # first: the one setting that can fail on a valid value (no denoiser here)
        try:
            app.set_denoise(values["denoise"])
        except ControlError as exc:
            raise RequestError("unavailable", f"set: {exc}") from exc
    try:
        if "look" in values:
            app.set_look(values["look"])
        if manual or automatic:
            app.engine.set_operator_controls(manual, automatic)
    except ControlError as exc:
        raise RequestError("out_of_range", f"set: {exc}") from exc
    except ConfigError as exc:
        raise RequestError("not_found", f"set: {exc}") from exc
    if "raw" in values:
        app.set_raw(values["raw"])
    if "drive_mode" in values:
        app.set_drive_mode(DriveMode(values["drive_mode"]))
    return get(app, list(values))
