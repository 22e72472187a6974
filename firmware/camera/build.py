"""How the camera's parts are made from the configuration: the sensor's mode and buffers, the engine's settings,
the writer (and its develop recipe), the identity that goes into EXIF, where state is kept.

The camera builds with these at start and again on a reload, so both paths make the same parts the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..actions import DriveMode
from ..board_profile import BoardProfile, lens_for
from ..capture import budget
from ..capture.state import EngineSettings
from ..capture.writer import CaptureWriter
from ..config import Config
from ..develop import Recipe, pipeline_for
from ..errors import ConfigError
from ..formats.identity import CameraIdentity
from ..frame import crop_fractions
from ..sensor.protocol import Sensor, SensorMode
from ..tuning import TuningFile
from ..tuning.looks import list_looks
from .settings import CameraSettings


def initial_settings(config: Config) -> CameraSettings:
    """The settings captures start with: ``[capture]`` look, raw and drive mode, ``[denoise]`` mode."""
    return CameraSettings(look=check_look(config.capture.look, config), denoise=config.denoise.mode,
                          raw=config.capture.raw, drive_mode=DriveMode(config.capture.drive_mode))


def check_look(name: str, config: Config | None = None) -> str:
    """``name`` if it is a look the camera has; ``ConfigError`` naming the looks there are otherwise."""
    names = list_looks()
    if name not in names:
        where = f"{config.source}: [capture] look: " if config is not None else ""
        raise ConfigError(f"{where}look {name!r} is not a look here (looks: {', '.join(names)})")
    return name


def configured(sensor: Sensor, config: Config) -> tuple[Sensor, SensorMode, budget.BufferPlan]:
    """``sensor`` configured in ``config``'s mode with the buffers its budget gives (closed if that fails)."""
    try:
        mode = sensor.info.mode(config.sensor.mode)
        plan = buffer_plan(sensor, mode, config)
        sensor.configure(mode, plan.buffer_count)
    except BaseException:
        sensor.close()
        raise
    return sensor, mode, plan


def buffer_plan(sensor: Sensor, mode: SensorMode, config: Config) -> budget.BufferPlan:
    # The mock renders a buffer only when it is read, so its buffers cost nothing while frames wait.
    return budget.plan(config.capture.memory_budget_mb, budget.request_bytes(sensor, mode), zsl=config.capture.zsl,
                       queue_size=config.capture.queue_size, fixed_buffers=config.sensor.buffer_count,
                       lazy_buffers=sensor.is_mock, per_capture=budget.capture_bytes(mode))


def engine_settings(config: Config, mode: SensorMode, plan: budget.BufferPlan) -> EngineSettings:
    c = config.capture
    # The queue the budget holds: capture.queue_size, or fewer where full-resolution frames would not fit.
    return EngineSettings(zsl=c.zsl, ring_size=plan.ring, queue_size=plan.queue,
                          frame_timeout=config.sensor.frame_timeout, backoff_max=config.sensor.reopen_backoff_max,
                          mode=mode, buffer_count=plan.buffer_count)


def identity(sensor: Sensor, profile: BoardProfile, config: Config) -> CameraIdentity:
    """Make, model and lens for EXIF and the DNG: the lens actually fitted (``[lens]``) where it is named, else
    the board profile's lens where it names this sensor."""
    model = sensor.info.model
    lens, fitted = lens_for(profile, model), config.lens
    focal, fnum, name = (lens.focal_length_mm, lens.f_number, lens.model) if lens else (None, None, None)
    return CameraIdentity(make="camerad", model=f"{model} (mock)" if sensor.is_mock else model,
                          focal_length_mm=fitted.focal_length_mm or focal, f_number=fitted.f_number or fnum,
                          max_f_number=fitted.max_f_number or fnum, lens_model=fitted.model or name)


def recipe(tuning: TuningFile, settings: CameraSettings, config: Config) -> Recipe:
    """The still recipe for ``settings``, checked: its pipeline (and denoiser) are built now, so a look or a
    denoiser that cannot run fails here, before anything changes (``ConfigError``, ``DenoiserUnavailable``)."""
    r = Recipe(tuning, look=check_look(settings.look), denoise=settings.denoise, threads=config.denoise.threads)
    pipeline_for(r)
    return r


def writer(config: Config, sensor: Sensor, mode: SensorMode, tuning: TuningFile, settings: CameraSettings,
           profile: BoardProfile, *, directory: Path | None = None, clean: bool = True) -> CaptureWriter:
    """The writer for captures made with ``settings`` (``directory``: the captures directory override)."""
    c = config.capture
    return CaptureWriter(directory or c.directory, recipe(tuning, settings, config), cfa=sensor.info.cfa,
                         bit_depth=mode.bit_depth, binning=mode.binning, identity=identity(sensor, profile, config),
                         raw=settings.raw, jpeg_quality=c.jpeg_quality, sidecar=c.sidecar, clean=clean,
                         crop=crop_fractions(mode.crop, sensor.info.pixel_array_size),
                         dng_compression=c.dng_compression)


def state_dir(config: Config, explicit: str | Path | None = None) -> Path:
    """Where state that must survive a restart lives (see ``[storage] state_directory``)."""
    if explicit:
        return Path(explicit)
    if config.storage.state_directory:
        return Path(config.storage.state_directory)
    env = os.environ.get("STATE_DIRECTORY")
    if env:
        return Path(env.split(":")[0])
    system = Path("/var/lib/camerad")
    if system.is_dir() and os.access(system, os.W_OK):
        return system
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "camerad"
