"""SIGHUP: apply a new configuration and re-read the tuning file, or keep everything as it was.

Everything that can be checked without touching the camera is checked first (``check``): the configuration
file, the tuning file (parsed and built into the ISP pipeline), the look. Only then is anything changed.
Settings the writer alone uses (JPEG quality, raw, sidecar, directory) take effect for the next capture;
a new tuning, sensor mode, backend or buffer budget restarts the camera with them (``restart_camera``:
picamera2 reads a tuning only when the camera opens). If the camera will not start with the new settings, it
is started again with the old ones and the error is raised for the caller to log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from ..capture import budget
from ..capture.engine import CaptureEngine
from ..config import Config
from ..errors import CaptureError, ConfigError, SensorError, TuningError
from ..sensor.protocol import Sensor, SensorMode
from ..tuning import TuningFile
from . import build
from .settings import CameraSettings

log = logging.getLogger(__name__)

# Opens the sensor a configuration names, configured in its mode: (sensor, mode, buffer plan).
Opener = Callable[[Config], "tuple[Sensor, SensorMode, budget.BufferPlan]"]


@dataclass(frozen=True)
class Reload:
    """What a new configuration changes, checked: the tuning, the camera's settings, whether to restart."""

    config: Config
    tuning: TuningFile
    settings: CameraSettings
    restart: bool


def tuning_path(current: TuningFile, config: Config) -> str | None:
    """The file the tuning comes from: the configured one, or the one the sensor loaded by default."""
    if config.sensor.tuning:
        return config.sensor.tuning
    return None if current.source.startswith("<") else current.source


def check(config: Config, old: Config, now: CameraSettings, running: TuningFile) -> Reload:
    """Read and check everything ``config`` names, against the camera running ``old`` with settings ``now`` and
    tuning ``running``; raises (changing nothing) when any of it is unusable."""
    path = tuning_path(running, config)
    tuning = TuningFile.load(path) if path else running
    # A setting named anew in the configuration wins; otherwise what the operator chose since stays.
    c, oc = config.capture, old.capture
    settings = now.replace(look=build.check_look(c.look if c.look != oc.look else now.look, config),
                           raw=c.raw if c.raw != oc.raw else now.raw,
                           drive_mode=c.drive_mode if c.drive_mode != oc.drive_mode else now.drive_mode)
    try:
        build.recipe(tuning, settings, config)
    except Exception as exc:  # noqa: BLE001 - any error building the ISP means the file is unusable
        raise TuningError(f"{path or tuning.source}: {exc}") from exc
    restart = (config.sensor != old.sensor or config.mock != old.mock or tuning.to_dict() != running.to_dict()
               or _engine_keys(config) != _engine_keys(old))
    return Reload(config, tuning, settings, restart)


def _engine_keys(config: Config) -> tuple:
    c = config.capture
    return c.zsl, c.memory_budget_mb, c.queue_size


def restart_camera(engine: CaptureEngine, open_sensor: Opener, config: Config,
                   old: Config) -> tuple[SensorMode, budget.BufferPlan]:
    """Restart streaming on a camera opened for ``config``; the mode and buffer plan it runs in. When that
    fails, the camera is started again as ``old`` configured it and the error raised."""
    engine.stop_streaming(CaptureError("camera restarting for a new configuration before the frame was taken"))
    engine.sensor.close()
    try:
        return _open(engine, open_sensor, config)
    except Exception as exc:
        log.error("camera would not start with the new configuration (%s); restarting it with the old one", exc)
        if engine.streaming:
            engine.stop_streaming(CaptureError("camera restarting with the old configuration"))
            engine.sensor.close()
        try:
            _open(engine, open_sensor, old)
        except Exception as again:  # noqa: BLE001 - the recovery loop takes over from here
            log.error("camera would not restart with the old configuration either: %s", again)
            engine.restart_streaming()
        if isinstance(exc, (SensorError, ConfigError, ValueError)):
            raise
        raise SensorError(str(exc)) from exc


def _open(engine: CaptureEngine, open_sensor: Opener, config: Config) -> tuple[SensorMode, budget.BufferPlan]:
    sensor, mode, plan = open_sensor(config)
    engine.reconfigure(build.engine_settings(config, mode, plan), sensor=sensor)
    engine.restart_streaming()
    wait = max(5.0, 3 * config.sensor.frame_timeout)
    if not engine.wait_for_frame(wait):
        raise SensorError(f"no frame within {wait:.0f} s of restarting the camera")
    return mode, plan
