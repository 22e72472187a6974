"""SIGHUP: apply a new configuration and re-read the tuning file, or keep everything as it was.

Everything that can be checked without touching the camera is checked first: the configuration file, the
tuning file (parsed and built into the ISP pipeline), the captures directory. Only then is anything changed.
Settings the writer alone uses (JPEG quality, raw, sidecar, directory) take effect for the next capture;
a new tuning, sensor mode, backend or buffer budget restarts the camera with them (picamera2 reads a tuning
only when the camera opens). If the camera will not start with the new settings, it is started again with
the old ones and the error is raised for the caller to log.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..capture.looks import look_names
from ..capture.ring import RequestRing
from ..config import Config
from ..errors import CaptureError, ConfigError, SensorError, TuningError
from ..storage.space import MB, FreeSpace
from ..tuning import TuningFile

if TYPE_CHECKING:  # pragma: no cover
    from .app import Camerad

log = logging.getLogger(__name__)


def tuning_path(app: "Camerad", config: Config) -> str | None:
    """The file the tuning comes from: the configured one, or the one the sensor loaded by default."""
    if config.sensor.tuning:
        return config.sensor.tuning
    source = app.tuning.source
    return None if source.startswith("<") else source


def reconfigure(app: "Camerad", config: Config) -> None:
    old = app.config
    path = tuning_path(app, config)
    tuning = app.tuning
    if path:
        tuning = TuningFile.load(path)
    # A look named in the new configuration wins; otherwise the one the operator chose stays.
    look = config.capture.look if config.capture.look != app.config.capture.look else app.look
    if look not in look_names():
        raise ConfigError(f"{config.source}: [capture] look: {look!r} is not a look here "
                          f"(looks: {', '.join(look_names())})")
    try:
        app.pipeline_for(tuning, look)
    except Exception as exc:  # noqa: BLE001 - any error building the ISP means the file is unusable
        raise TuningError(f"{path or tuning.source}: {exc}") from exc
    restart = (config.sensor != old.sensor or config.mock != old.mock or tuning.to_dict() != app.tuning.to_dict()
               or _engine_settings(config) != _engine_settings(old))
    if restart:
        _restart_camera(app, config)
    sensor, mode = app.sensor, app.mode
    raw = config.capture.raw if config.capture.raw != old.capture.raw else app.writer.raw
    writer = app.make_writer(sensor, mode, config, tuning, look=look, raw=raw, clean=False)
    engine = app.engine
    engine.writer = app.writer = writer
    engine.space = app.space = FreeSpace(writer.directory, config.storage.reserve_mb * MB)
    engine.frame_timeout = config.sensor.frame_timeout
    engine.backoff_max = config.sensor.reopen_backoff_max
    app.tuning, app.look = tuning, look
    if config.capture.drive_mode != old.capture.drive_mode:
        from ..actions import DriveMode

        app.drive_mode = DriveMode(config.capture.drive_mode)
    app.config = config
    log.info("configuration reloaded from %s (tuning %s)%s", config.source, tuning.source,
             "; camera restarted" if restart else "")


def _engine_settings(config: Config) -> tuple:
    c = config.capture
    return c.zsl, c.memory_budget_mb, c.queue_size


def _restart_camera(app: "Camerad", config: Config) -> None:
    engine = app.engine
    engine.stop_streaming(CaptureError("camera restarting for a new configuration before the frame was taken"))
    engine.developer.wait_staged(timeout=30)
    app.sensor.close()
    try:
        _open(app, config)
    except Exception as exc:
        log.error("camera would not start with the new configuration (%s); restarting it with the old one", exc)
        if engine.streaming:
            engine.stop_streaming(CaptureError("camera restarting with the old configuration"))
            app.sensor.close()
        try:
            _open(app, app.config)
        except Exception as again:  # noqa: BLE001 - the recovery loop takes over from here
            log.error("camera would not restart with the old configuration either: %s", again)
            engine.restart_streaming()
        if isinstance(exc, (SensorError, ConfigError, ValueError)):
            raise
        raise SensorError(str(exc)) from exc


def _open(app: "Camerad", config: Config) -> None:
    sensor = app.sensor_factory(config)
    try:
        mode = sensor.info.mode(config.sensor.mode)
        plan = app.buffer_plan(sensor, mode, config)
        sensor.configure(mode, plan.buffer_count)
    except BaseException:
        sensor.close()
        raise
    engine = app.engine
    engine.keeper.replace(sensor, mode=mode, buffer_count=plan.buffer_count)
    engine.ring = RequestRing(plan.ring)
    engine.zsl = config.capture.zsl
    engine.queue_size = plan.queue
    app.mode, app.plan = mode, plan
    engine.restart_streaming()
    if not engine.wait_for_frame(max(5.0, 3 * config.sensor.frame_timeout)):
        raise SensorError(f"no frame within {max(5.0, 3 * config.sensor.frame_timeout):.0f} s of restarting "
                          f"the camera")

