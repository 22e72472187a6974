"""Control methods for the camera itself: hello, status, capture, shutter, get/set, timelapse, selftest, mock.

Each is a thin call into the camera (``firmware.camera``): ``capture`` and ``shutter`` are its one
``trigger``, ``status`` renders its ``snapshot()``; what is left here is the wire: parameters, error codes.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, TimeoutError as FutureTimeout

from .. import __version__
from ..actions import CaptureRequest, DenoiseMode, DriveMode
from ..camera import Triggered
from ..capture.writer import CaptureResult
from ..errors import CaptureRefused, ConfigError, ControlError, DenoiserUnavailable
from . import settings
from .method import Context, Method
from .params import Param
from .protocol import VERSION, RequestError


def hello(ctx: Context, p: dict) -> dict:
    return {"protocol": VERSION, "daemon": f"camerad {__version__}", "methods": sorted(ctx.methods)}


def status(ctx: Context, p: dict) -> dict:
    s = ctx.camera.snapshot()
    e = s.engine
    md = e.metadata
    duration = md.get("FrameDuration")
    tl = s.timelapse
    return {
        "state": s.state.value,
        "line": s.line(),
        "sensor": {"model": s.model, "mode": s.mode.name, "bit_depth": s.mode.bit_depth, "backend": s.backend.value,
                   "mock": s.is_mock},
        "fps": round(1e6 / duration, 2) if duration else None,
        "exposure_us": md.get("ExposureTime"),
        "analogue_gain": md.get("AnalogueGain"),
        "digital_gain": md.get("DigitalGain"),
        "colour_gains": md.get("ColourGains"),
        "colour_temperature": md.get("ColourTemperature"),
        "lux": md.get("Lux"),
        "sensor_temperature": md.get("SensorTemperature"),
        "ae_locked": e.locked,
        "look": s.settings.look,
        "denoise": s.settings.denoise.value,
        "drive_mode": s.settings.drive_mode.value,
        "raw": s.settings.raw,
        "captures_written": e.written,
        "queue": {"used": e.queue_used, "size": e.queue_size},
        "storage": {"directory": str(s.directory), "free_bytes": s.free_bytes, "reserve_bytes": s.reserve_bytes},
        "frames": e.frames,
        "frames_dropped": e.frames_dropped,
        "last_error": e.fault or e.storage_error or e.last_error,
        "last_refusal": e.last_refusal,
        "timelapse": {"active": tl.active, "next": tl.next_index, "count": tl.count},
        "uptime_s": round(s.uptime_s, 1),
    }


def describe(result: CaptureResult) -> dict:
    out = {"stem": result.stem, "files": [p.name for p in result.files], "lag_ms": round(result.lag_ns / 1e6, 2),
           "develop_s": round(result.develop_s, 3)}
    for key in ("kind", "index", "count", "ev"):
        if key in result.info:
            out[key] = result.info[key]
    return out


def collect(futures: tuple[Future, ...], wait: bool, timeout: float) -> dict:
    """Each capture's files (waiting up to ``timeout`` s); a trigger refused as a whole is an error."""
    first = futures[0]
    if first.done() and isinstance(first.exception(), CaptureRefused):
        raise RequestError("refused", f"capture refused: {first.exception().reason}")
    if not wait:
        return {"taken": len(futures), "captures": [], "errors": []}
    deadline = time.monotonic() + timeout
    done, errors = [], []
    for fut in futures:
        try:
            exc = fut.exception(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            errors.append(f"not written within {timeout:g} s (it will still be written)")
            continue
        if exc is not None:
            errors.append(str(exc))
        else:
            done.append(describe(fut.result()))
    if not done:
        code = "timeout" if all("within" in e for e in errors) else "failed"
        raise RequestError(code, "capture failed: " + "; ".join(errors))
    return {"taken": len(futures), "captures": done, "errors": errors}


def trigger(ctx: Context, method: str, request: CaptureRequest) -> Triggered:
    """``camera.trigger``, its refusals of a look or denoiser as this protocol's error codes."""
    try:
        return ctx.camera.trigger(request)
    except ControlError as exc:  # the denoiser asked for cannot run here
        raise RequestError("unavailable", f"{method}: {exc}") from exc
    except ConfigError as exc:  # no such look
        raise RequestError("not_found", f"{method}: {exc}") from exc


def capture(ctx: Context, p: dict) -> dict:
    develop = dict(raw=p["raw"], look=p["look"], denoise=DenoiseMode(p["denoise"]) if p["denoise"] else None)
    if p["bracket"] is not None:
        if len(p["bracket"]) < 2:
            raise RequestError("out_of_range", "capture: bracket: give 2 to 9 EV offsets, e.g. [-2, 0, 2]")
        if p["count"] != 1:
            raise RequestError("invalid_params", "capture: count and bracket cannot be combined (a bracket takes "
                                                 "one frame per EV offset)")
        request = CaptureRequest(drive=DriveMode.BRACKET, evs=tuple(p["bracket"]), **develop)
    elif p["count"] > 1:
        request = CaptureRequest(drive=DriveMode.BURST, count=p["count"], **develop)
    else:
        request = CaptureRequest(drive=DriveMode.SINGLE, **develop)
    return collect(trigger(ctx, "capture", request).futures, p["wait"], p["timeout"])


def shutter(ctx: Context, p: dict) -> dict:
    done = trigger(ctx, "shutter", CaptureRequest())
    if not done.futures:  # timelapse drive mode: the press started or stopped one
        return {"drive_mode": done.drive.value, "timelapse": timelapse_status(ctx, {}), "captures": []}
    return {"drive_mode": done.drive.value, **collect(done.futures, p["wait"], p["timeout"])}


def get(ctx: Context, p: dict) -> dict:
    return {"values": settings.get(ctx.camera, p["keys"]), "ranges": ctx.camera.setting_ranges()}


def set_(ctx: Context, p: dict) -> dict:
    values = settings.check(ctx.camera, p["values"])
    try:
        return {"values": ctx.camera.apply_settings(values)}
    except DenoiserUnavailable as exc:
        raise RequestError("unavailable", f"set: {exc}") from exc
    except ControlError as exc:
        raise RequestError("out_of_range", f"set: {exc}") from exc
    except ConfigError as exc:
        raise RequestError("not_found", f"set: {exc}") from exc


def timelapse_start(ctx: Context, p: dict) -> dict:
    ctx.camera.start_timelapse(p["interval"], p["count"])
    return timelapse_status(ctx, {})


def timelapse_stop(ctx: Context, p: dict) -> dict:
    was = ctx.camera.stop_timelapse()
    return {**timelapse_status(ctx, {}), "stopped": was}


def timelapse_status(ctx: Context, p: dict) -> dict:
    tl = ctx.camera.snapshot().timelapse
    return {"active": tl.active, "next": tl.next_index, "count": tl.count, "interval": tl.interval_s,
            "missed": tl.missed}


def mock_focus(ctx: Context, p: dict) -> dict:
    lens = ctx.camera.sensor.lens
    if lens is None:
        raise RequestError("unavailable", "mock.focus: the sensor is not the mock (a real lens is turned by hand)")
    lens.set_focus(p["position"])
    return {"position": lens.focus_position, "sharp_at": lens.focus_sharp, "defocus_px": lens.defocus_px}


_WAIT = {"wait": Param(bool, default=True), "timeout": Param(float, default=120.0, lo=0.1, hi=3600.0)}

METHODS = [
    Method("hello", hello, {}, "protocol version, daemon version, methods"),
    Method("status", status, {}, "the camera's state and the latest frame's exposure"),
    Method("capture", capture, {
        "count": Param(int, default=1, lo=1, hi=256),
        "bracket": Param(list, default=None, item=float, lo=-8.0, hi=8.0, max_items=9),
        "raw": Param(bool, default=None),
        "denoise": Param(str, default=None, choices=tuple(m.value for m in DenoiseMode)),
        "look": Param(str, default=None, max_len=200),
        **_WAIT}, "take frames now, whatever the drive mode; returns the files", changes_state=True),
    Method("shutter", shutter, dict(_WAIT), "press the shutter in the current drive mode", changes_state=True),
    Method("get", get, {"keys": Param(list, default=None, item=str, max_items=len(settings.KEYS))},
           "settings and their ranges"),
    Method("set", set_, {"values": Param(dict)}, "change settings (all or none)", changes_state=True),
    Method("timelapse.start", timelapse_start, {"interval": Param(float, default=None, lo=0.1, hi=86400.0),
                                                "count": Param(int, default=None, lo=1, hi=1_000_000)},
           "start a timelapse", changes_state=True),
    Method("timelapse.stop", timelapse_stop, {}, "stop the timelapse", changes_state=True),
    Method("timelapse.status", timelapse_status, {}, "the timelapse's progress"),
    Method("selftest", lambda ctx, p: ctx.camera.selftest(), {}, "check sensor, tuning, storage, GPIO, denoiser"),
    Method("mock.focus", mock_focus, {"position": Param(float, lo=0.0, hi=1.0)},
           "turn the mock lens's focus ring", changes_state=True),
]
