"""``camctl selftest``: is every part of the camera working? Sensor, tuning, storage, GPIO, denoiser.

Each check is ``ok``, ``warn`` (works, but something an operator should know) or ``fail``, with a detail line
saying what was found; the whole test fails if any check fails. The camera hands the checks a ``Subject``:
its status at the start of the test and the parts the checks look into.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass

from ..actions import DenoiseMode
from ..denoise import make_denoiser
from ..gpio import Controls
from ..storage.atomic import TMP_PREFIX
from ..tuning import TuningFile
from ..tuning.validate import errors, validate
from .status import CameraStatus


@dataclass(frozen=True)
class Subject:
    """What the self-test examines: the camera's status, its tuning, its GPIO controls (None: no GPIO)."""

    status: CameraStatus
    now_ns: int
    frame_timeout: float
    tuning: TuningFile
    controls: Controls | None = None
    board: str = ""


def _check(name: str, level: str, detail: str) -> dict:
    return {"name": name, "level": level, "detail": detail}


def sensor_check(s: Subject) -> dict:
    engine = s.status.engine
    if engine.fault:
        return _check("sensor", "fail", f"fault: {engine.fault}")
    last = engine.last_frame_ns
    if not engine.streaming or last is None:
        return _check("sensor", "fail", "not streaming (no frame yet)")
    age = (s.now_ns - last) / 1e9
    duration = engine.metadata.get("FrameDuration", 0) / 1e6
    if age > max(2.0, 3 * duration, s.frame_timeout):
        return _check("sensor", "fail", f"no frame for {age:.1f} s")
    fps = 1 / duration if duration else 0
    return _check("sensor", "ok", f"{s.status.model} {s.status.mode.name} streaming at {fps:.1f} fps, "
                                  f"last frame {age * 1e3:.0f} ms ago, {engine.frames_dropped} dropped")


def tuning_check(s: Subject) -> dict:
    issues = validate(s.tuning)
    bad = errors(issues)
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        return _check("tuning", "fail", f"{bad[0]}{more}")
    warnings = [i for i in issues if i.level == "warning"]
    return _check("tuning", "warn" if warnings else "ok",
                  f"{s.tuning.source}: valid for {s.tuning.target}" +
                  (f", {len(warnings)} warning(s): {warnings[0]}" if warnings else "") +
                  f"; look {s.status.settings.look}")


def storage_check(s: Subject) -> dict:
    status = s.status
    directory = status.directory
    probe = directory / f"{TMP_PREFIX}selftest-{uuid.uuid4().hex[:8]}"
    data = os.urandom(4096)
    try:
        t = time.perf_counter()
        with open(probe, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        back = probe.read_bytes()
        ms = (time.perf_counter() - t) * 1e3
    except OSError as exc:
        return _check("storage", "fail", f"{directory}: cannot write: {exc.strerror or exc}")
    finally:
        try:
            probe.unlink()
        except OSError:
            pass
    if back != data:
        return _check("storage", "fail", f"{directory}: read back differs from what was written")
    free = status.free_bytes or 0
    detail = f"{directory}: writable (4 KiB written, fsynced, read back in {ms:.1f} ms), {free / 1e9:.1f} GB free"
    if status.storage_low:
        return _check("storage", "warn", detail + f", below the {status.reserve_bytes / 1e6:.0f} MB reserve")
    return _check("storage", "ok", detail)


def gpio_check(s: Subject) -> dict:
    controls = s.controls
    if controls is None:
        return _check("gpio", "warn", "no GPIO board in use (camerad runs without buttons)")
    pins = {pin: name for name, pin in controls.pins.items()}
    try:
        levels = controls.levels()
    except Exception as exc:  # noqa: BLE001 - any failure to read a line is what this check reports
        return _check("gpio", "fail", f"reading an input line failed: {exc}")
    if not levels:
        return _check("gpio", "fail", "no input line could be read")
    wiring = ", ".join(f"{name} GPIO{pin}" for pin, name in sorted(pins.items()))
    return _check("gpio", "ok", f"{s.board}: {len(levels)} input line(s) read ({wiring})")


def denoiser_check(s: Subject) -> dict:
    """Both models load (and on which runtime), against the mode captures are developed with."""
    use = s.status.settings.denoise
    loaded, fallback, missing = [], [], []
    for mode in DenoiseMode:
        if mode is DenoiseMode.OFF:
            continue
        try:
            den = make_denoiser(mode)
        except Exception as exc:  # noqa: BLE001 - whatever stops it loading is the detail
            missing.append(f"{mode}: {exc}")
            continue
        runtime_name = getattr(den, "runtime_name", None)
        if runtime_name is None:  # no TFLite runtime: make_denoiser handed back the classical filter
            fallback.append(mode)
        else:
            loaded.append(f"{mode} on {runtime_name}")
    if missing:
        level = "fail" if use is not DenoiseMode.OFF else "warn"
        return _check("denoiser", level, f"not loaded ({'; '.join(missing)}); captures use denoise {use}")
    if fallback:
        return _check("denoiser", "warn", f"no TFLite runtime: {', '.join(fallback)} fall back to non-local "
                                          f"means; captures use denoise {use}")
    return _check("denoiser", "ok", f"loaded ({', '.join(loaded)}); captures use {use}")


CHECKS = (sensor_check, tuning_check, storage_check, gpio_check, denoiser_check)


def run(subject: Subject) -> dict:
    """Every check's outcome, and ``ok`` unless one of them failed."""
    results = []
    for check in CHECKS:
        try:
            results.append(check(subject))
        except Exception as exc:  # noqa: BLE001 - a check that crashes is a failed check
            results.append(_check(check.__name__.removesuffix("_check"), "fail", f"{type(exc).__name__}: {exc}"))
    return {"ok": all(r["level"] != "fail" for r in results), "checks": results}
