"""Control methods for the camera itself: hello, status, capture, shutter, get/set, timelapse, selftest, mock."""

from __future__ import annotations

import time
from concurrent.futures import Future, TimeoutError as FutureTimeout
from .. import __version__
from ..capture.writer import CaptureResult
from ..denoise import MODES as DENOISE_MODES
from ..errors import CaptureRefused, ConfigError, ControlError
from . import settings
from .dispatch import Context, Method
from .params import Param
from .protocol import VERSION, RequestError
from .selftest import selftest


def hello(ctx: Context, p: dict) -> dict:
    from .dispatch import all_methods

    return {"protocol": VERSION, "daemon": f"camerad {__version__}", "methods": sorted(all_methods())}


def status(ctx: Context, p: dict) -> dict:
    from ..daemon.status import led_state, status_line

    app = ctx.app
    engine = app.engine
    md = dict(engine.last_metadata)
    space = app.space
    try:
        free = space.free_bytes() if space is not None else None
    except OSError:
        free = None
    duration = md.get("FrameDuration")
    tl = app.timelapse.progress
    return {
        "state": led_state(app).value,
        "line": status_line(app),
        "sensor": {"model": app.sensor.info.model, "mode": app.mode.name, "bit_depth": app.mode.bit_depth,
                   "backend": _backend(app.sensor), "mock": _backend(app.sensor) == "mock"},
        "fps": round(1e6 / duration, 2) if duration else None,
        "exposure_us": md.get("ExposureTime"),
        "analogue_gain": md.get("AnalogueGain"),
        "digital_gain": md.get("DigitalGain"),
        "colour_gains": md.get("ColourGains"),
        "colour_temperature": md.get("ColourTemperature"),
        "lux": md.get("Lux"),
        "sensor_temperature": md.get("SensorTemperature"),
        "ae_locked": engine.locked,
        "look": app.look,
        "denoise": app.denoise,
        "drive_mode": app.drive_mode.value,
        "raw": app.writer.raw,
        "captures_written": engine.written,
        "queue": {"used": engine.queue_used, "size": engine.queue_size},
        "storage": {"directory": str(app.writer.directory), "free_bytes": free,
                    "reserve_bytes": space.reserve_bytes if space is not None else None},
        "frames": engine.frames,
        "frames_dropped": engine.frames_dropped,
        "last_error": engine.fault or engine.storage_error or engine.last_error,
        "last_refusal": engine.last_refusal,
        "refusals": engine.refusals,
        "last_capture": last_capture(list(app.captures)),
        "lens": {"f_number": app.writer.identity.f_number},
        "timelapse": {"active": app.timelapse.active, "next": tl[0] if tl else None, "count": tl[1] if tl else None},
        "uptime_s": round((app.clock.monotonic_ns() - app.started_ns) / 1e9, 1),
    }


def last_capture(recent: list[Future]) -> dict | None:
    """The newest capture written: its stem, when (wall clock), and what developing it cost."""
    for fut in reversed(recent):
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            r = fut.result()
            return {"stem": r.stem, "develop_s": round(r.develop_s, 3),
                    "denoise_s": round(r.timings.get("denoise", 0.0), 3)}
    return None


def _backend(sensor) -> str:
    module = type(sensor).__module__
    if module.startswith("firmware.sensor.mock"):
        return "mock"
    return module.rsplit(".", 1)[-1].removesuffix("_backend")


def describe(result: CaptureResult) -> dict:
    out = {"stem": result.stem, "files": [p.name for p in result.files], "lag_ms": round(result.lag_ns / 1e6, 2),
           "develop_s": round(result.develop_s, 3)}
    for key in ("kind", "index", "count", "ev"):
        if key in result.info:
            out[key] = result.info[key]
    return out


def collect(futures: list[Future], wait: bool, timeout: float) -> dict:
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


def capture(ctx: Context, p: dict) -> dict:
    app = ctx.app
    try:
        writer = app.writer_for(raw=p["raw"], look=p["look"], denoise=p["denoise"])
    except ControlError as exc:
        raise RequestError("unavailable", f"capture: {exc}") from exc
    except ConfigError as exc:
        raise RequestError("not_found", f"capture: {exc}") from exc
    if p["note"]:
        if any(ord(c) < 32 or ord(c) == 127 for c in p["note"]):
            raise RequestError("invalid_params", "capture: note: one line of text, without control characters")
        writer = (writer or app.writer).replace(note=p["note"])
    if p["bracket"] is not None:
        if len(p["bracket"]) < 2:
            raise RequestError("out_of_range", "capture: bracket: give 2 to 9 EV offsets, e.g. [-2, 0, 2]")
        if p["count"] != 1:
            raise RequestError("invalid_params", "capture: count and bracket cannot be combined (a bracket takes "
                                                 "one frame per EV offset)")
        # The 0 EV (or nearest) frame first: it is the zero-lag one; then outwards, as the drive mode does.
        evs = sorted(p["bracket"], key=lambda ev: (abs(ev), ev))
        futures = list(app.engine.bracket(None, evs, writer=writer).futures)
    elif p["count"] > 1:
        futures = list(app.engine.burst(None, p["count"], writer=writer).futures)
    else:
        futures = [app.engine.capture(writer=writer)]
    app.captures.extend(futures)
    app.refresh()
    return collect(futures, p["wait"], p["timeout"])


def shutter(ctx: Context, p: dict) -> dict:
    app = ctx.app
    futures = app.shutter(app.clock.monotonic_ns())
    if not futures:  # timelapse drive mode: the press started or stopped one
        return {"drive_mode": app.drive_mode.value, "timelapse": timelapse_status(ctx, {}), "captures": []}
    return {"drive_mode": app.drive_mode.value, **collect(futures, p["wait"], p["timeout"])}


def get(ctx: Context, p: dict) -> dict:
    return {"values": settings.get(ctx.app, p["keys"]), "ranges": settings.ranges(ctx.app)}


def set_(ctx: Context, p: dict) -> dict:
    values = settings.check(ctx.app, p["values"])
    return {"values": settings.apply(ctx.app, values)}


def timelapse_start(ctx: Context, p: dict) -> dict:
    c = ctx.app.config.capture
    ctx.app.timelapse.start(p["interval"] or c.timelapse_interval, p["count"] or c.timelapse_count)
    ctx.app.refresh()
    return timelapse_status(ctx, {})


def timelapse_stop(ctx: Context, p: dict) -> dict:
    was = ctx.app.timelapse.active
    ctx.app.timelapse.stop()
    ctx.app.refresh()
    return {**timelapse_status(ctx, {}), "stopped": was}


def timelapse_status(ctx: Context, p: dict) -> dict:
    tl = ctx.app.timelapse
    state = tl.schedule
    return {"active": tl.active, "next": state["next_index"] if state else None,
            "count": state["count"] if state else None, "interval": state["interval_s"] if state else None,
            "missed": tl.missed}


def mock_focus(ctx: Context, p: dict) -> dict:
    sensor = ctx.app.sensor
    if not hasattr(sensor, "set_focus"):
        raise RequestError("unavailable", "mock.focus: the sensor is not the mock (a real lens is turned by hand)")
    sensor.set_focus(p["position"])
    return {"position": sensor.focus_position, "sharp_at": sensor.focus_sharp, "defocus_px": sensor.defocus_px}


_WAIT = {"wait": Param(bool, default=True), "timeout": Param(float, default=120.0, lo=0.1, hi=3600.0)}

METHODS = [
    Method("hello", hello, {}, "protocol version, daemon version, methods"),
    Method("status", status, {}, "the camera's state and the latest frame's exposure"),
    Method("capture", capture, {
        "count": Param(int, default=1, lo=1, hi=256),
        "bracket": Param(list, default=None, item=float, lo=-8.0, hi=8.0, max_items=9),
        "raw": Param(bool, default=None),
        "denoise": Param(str, default=None, choices=DENOISE_MODES),
        "look": Param(str, default=None, max_len=200),
        "note": Param(str, default=None, max_len=1000),
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
    Method("selftest", lambda ctx, p: selftest(ctx.app), {}, "check sensor, tuning, storage, GPIO, denoiser"),
    Method("mock.focus", mock_focus, {"position": Param(float, lo=0.0, hi=1.0)},
           "turn the mock lens's focus ring", changes_state=True),
]
