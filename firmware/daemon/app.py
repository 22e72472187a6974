"""The daemon's parts wired together: sensor, capture engine, writer, timelapse, status, GPIO controls.

``Camerad`` is also the camera's ``CameraActions``: the controls layer (buttons, the control socket) calls
``half_press``/``shutter``/``burst``/``cycle_*``/``toggle_raw`` on it, and registers ``StatusListener``s
(LEDs, buzzer) with ``add_status_listener``. Wiring a controls layer is one call each way::

    controls = attach_controls(profile, board, app, config, clock)   # the controls call the camera
    app.add_status_listener(controls.status)                         # the camera tells them its state
"""

from __future__ import annotations

import collections
import logging
import os
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Callable

from ..actions import DriveMode, LedState, StatusListener
from ..capture import budget
from ..capture.engine import CaptureEngine
from ..capture.exposure import bracket_evs
from ..capture.job import Job
from ..capture.looks import look_names, tuning_for_look
from ..capture.timelapse import Timelapse
from ..capture.writer import CaptureResult, CaptureWriter
from ..clock import Clock, SystemClock
from ..config import Config
from ..denoise import MODES as DENOISE_MODES, make_denoiser
from ..errors import ConfigError, ControlError, SensorError
from ..formats.identity import CameraIdentity
from ..gpio import BoardProfile, attach_controls, drive_modes, load_profile, next_drive_mode, open_board
from ..gpio.board import GpioBoard
from ..isp.frame import crop_fractions
from ..isp import build_pipeline
from ..sensor.protocol import Sensor
from ..sensor.select import open_sensor
from ..storage.space import MB, FreeSpace
from ..tuning import TuningFile
from .reconfigure import reconfigure
from .status import StatusBoard, led_state, status_line

log = logging.getLogger(__name__)

# Lens figures for EXIF when no board profile names the lens on this sensor: the official 6 mm CS-mount lens
# on the HQ camera and Camera Module 3's fixed lens.
_LENSES = {"imx477": (6.0, 1.2, "6mm CS-mount"), "imx708": (4.74, 1.8, "Camera Module 3")}

SensorFactory = Callable[[Config], Sensor]


class Camerad:
    def __init__(self, config: Config, *, sensor: Sensor | None = None, sensor_factory: SensorFactory | None = None,
                 board: GpioBoard | None = None, clock: Clock | None = None, captures: str | Path | None = None,
                 state_dir: str | Path | None = None, gpio: bool = True):
        self.config = config
        self.clock = clock or SystemClock()
        # The board profile names the control pins and the lens; without GPIO (tests) there is none.
        self.profile: BoardProfile | None = (load_profile(config.gpio.board, backend=config.gpio.backend)
                                             if gpio or board is not None else None)
        self.captures_override = Path(captures) if captures else None
        self.sensor_factory: SensorFactory = sensor_factory or (lambda cfg: open_sensor(cfg, self.clock))
        self.status = StatusBoard()
        sensor = sensor or self.sensor_factory(config)
        self.mode = sensor.info.mode(config.sensor.mode)
        self.tuning = self.tuning_for(sensor, config)
        self.plan = self.buffer_plan(sensor, self.mode, config)
        sensor.configure(self.mode, self.plan.buffer_count)
        self.look = initial_look(config)
        # The raw denoiser's mode (firmware.denoise.MODES): [denoise] mode at start, camctl changes it. Each
        # mode's denoiser (its model loaded once) is kept, so switching back and forth costs nothing.
        self.denoise = config.denoise.mode
        self._denoisers: dict[str, object] = {}
        self._settings_lock = threading.RLock()
        self.started_ns = self.clock.monotonic_ns()
        self.viewfinder = None  # firmware.daemon.viewfinder.Viewfinder, made on first use
        self.writer = self.make_writer(sensor, self.mode, config, self.tuning, look=self.look)
        self.space = FreeSpace(self.writer.directory, config.storage.reserve_mb * MB)
        c = config.capture
        self.engine = CaptureEngine(sensor, self.writer, zsl=c.zsl, ring_size=self.plan.ring, queue_size=self.plan.queue,
                                    frame_timeout=config.sensor.frame_timeout, clock=self.clock, space=self.space,
                                    mode=self.mode, buffer_count=self.plan.buffer_count,
                                    reopen=lambda: self.sensor_factory(self.config),
                                    backoff_max=config.sensor.reopen_backoff_max)
        self.engine.on_change = self.refresh
        self.engine.on_frame_taken = self.status.frame_taken
        self.drive_mode = DriveMode(c.drive_mode)
        self._drive_modes = drive_modes(config.controls.drive_modes)
        self.state_dir = resolve_state_dir(config, state_dir)
        self.timelapse = Timelapse(self.state_dir / "timelapse.json", self._timelapse_frame, clock=self.clock)
        self.active_burst: Job | None = None
        # The most recent captures' futures (the demo and tests read them); bounded, so a storm of presses
        # cannot grow memory.
        self.captures: collections.deque[Future] = collections.deque(maxlen=256)
        self.control_sockets: dict = {}  # sockets systemd activated for us (the control socket's server is camctl's)
        self.board = board if board is not None else (
            open_board(config.gpio.backend, profile=self.profile, clock=self.clock) if gpio else None)
        self.controls = None
        if self.board is not None:
            self.controls = attach_controls(self.profile, self.board, self, config, self.clock)
            self.add_status_listener(self.controls.status)

    # -- construction helpers (also used by reconfigure) ---------------------------------------------------
    @staticmethod
    def tuning_for(sensor: Sensor, config: Config) -> TuningFile:
        tuning = getattr(sensor, "tuning", None)
        if tuning is None and config.sensor.tuning:
            tuning = TuningFile.load(config.sensor.tuning)
        if tuning is None:
            raise ConfigError(f"{config.source}: [sensor] tuning: no tuning file for {sensor.info.model}; set one")
        return tuning

    @staticmethod
    def buffer_plan(sensor: Sensor, mode, config: Config) -> budget.BufferPlan:
        lazy = type(sensor).__module__.startswith("firmware.sensor.mock")
        return budget.plan(config.capture.memory_budget_mb, budget.request_bytes(sensor, mode), zsl=config.capture.zsl,
                           queue_size=config.capture.queue_size, fixed_buffers=config.sensor.buffer_count,
                           lazy_buffers=lazy, per_capture=budget.capture_bytes(mode))

    def make_writer(self, sensor: Sensor, mode, config: Config, tuning: TuningFile, *, look: str,
                    raw: bool | None = None, clean: bool = True) -> CaptureWriter:
        c = config.capture
        return CaptureWriter(self.captures_override or c.directory, tuning, cfa=sensor.info.cfa,
                             bit_depth=mode.bit_depth, binning=mode.binning, identity=self.identity(sensor),
                             raw=c.raw if raw is None else raw, jpeg_quality=c.jpeg_quality, sidecar=c.sidecar,
                             look=look, pipeline=self.pipeline_for(tuning, look), clean=clean,
                             crop=crop_fractions(mode.crop, sensor.info.pixel_array_size),
                             dng_compression=c.dng_compression)

    def pipeline_for(self, tuning: TuningFile, look: str, denoise: str | None = None):
        """The ISP the writer develops with: the tuning with the look applied and the raw denoiser for
        ``denoise`` (default: the camera's current mode). Raises ``ControlError`` for a mode the denoiser
        cannot run here (e.g. it is not built yet)."""
        return build_pipeline(tuning_for_look(tuning, look), denoiser=self.denoiser(denoise or self.denoise))

    def denoiser(self, mode: str):
        """The denoiser for ``mode`` (None for ``off``), made once; its failures as one clear error."""
        if mode not in DENOISE_MODES:
            raise ControlError(f"denoise: {mode!r} is not one of {', '.join(DENOISE_MODES)}")
        if mode not in self._denoisers:
            try:
                self._denoisers[mode] = make_denoiser(mode, self.config.denoise.threads)
            except (NotImplementedError, ImportError, OSError, ValueError, RuntimeError) as exc:
                raise ControlError(f"denoise {mode}: the denoiser cannot run here: {exc}") from exc
        return self._denoisers[mode]

    def identity(self, sensor: Sensor) -> CameraIdentity:
        model = sensor.info.model
        focal, fnum, lens = _LENSES.get(model, (None, None, None))
        if self.profile is not None and self.profile.sensor.model == model:
            lens_ = self.profile.lens
            focal, fnum, lens = lens_.focal_length_mm, lens_.f_number, lens_.model
        mock = type(sensor).__module__.startswith("firmware.sensor.mock")
        fitted = self.config.lens  # the lens actually on the camera, where it differs from the board's
        return CameraIdentity(make="camerad", model=f"{model} (mock)" if mock else model,
                              focal_length_mm=fitted.focal_length_mm or focal, f_number=fitted.f_number or fnum,
                              max_f_number=fitted.max_f_number or fnum, lens_model=fitted.model or lens)

    @property
    def sensor(self) -> Sensor:
        return self.engine.sensor

    # -- status --------------------------------------------------------------------------------------------
    def add_status_listener(self, listener: StatusListener) -> None:
        """Tell ``listener`` the camera's LED state now and on every change, and every frame taken."""
        self.status.add(listener)

    def remove_status_listener(self, listener: StatusListener) -> None:
        self.status.remove(listener)

    @property
    def led_state(self) -> LedState:
        return self.status.state

    def refresh(self) -> None:
        """Recompute the LED state and tell the listeners if it changed."""
        try:
            self.status.update(led_state(self))
        except Exception as exc:  # never let status reporting break a capture path
            log.error("status update failed: %s", exc)

    def status_line(self) -> str:
        return status_line(self)

    # -- CameraActions -------------------------------------------------------------------------------------
    def half_press(self, pressed: bool, t_ns: int) -> None:
        """Half-press: hold AE and AWB (and focus once, where the lens can) until released."""
        try:
            if pressed:
                controls = self.engine.lock_exposure()
                log.info("half-press: locked %s", ", ".join(f"{k}={v}" for k, v in controls.items()))
            else:
                self.engine.unlock_exposure()
                log.info("half-press released: AE/AWB automatic")
        except Exception as exc:  # a rejected control is logged; the camera keeps shooting
            log.error("half-press %s failed: %s", "lock" if pressed else "release", exc)
        self.refresh()

    def shutter(self, t_ns: int) -> list[Future]:
        """Full press at ``t_ns``: capture in the current drive mode; returns the futures of the frames it
        takes (none for a timelapse's start or stop)."""
        mode = self.drive_mode
        c = self.config.capture
        futures: list[Future] = []
        if mode is DriveMode.SINGLE:
            futures = [self.engine.capture(t_ns)]
        elif mode is DriveMode.BURST:
            futures = list(self.engine.burst(t_ns, c.burst_frames).futures)
        elif mode is DriveMode.BRACKET:
            futures = list(self.engine.bracket(t_ns, bracket_evs(c.bracket_frames, c.bracket_step_ev)).futures)
        elif self.timelapse.active:
            self.timelapse.stop()
        else:
            self.timelapse.start(c.timelapse_interval, c.timelapse_count)
        self.captures.extend(futures)
        self.refresh()
        return futures

    def burst(self, active: bool, t_ns: int) -> None:
        """Shutter held: shoot at the sensor's rate from ``t_ns`` until called with False."""
        if active:
            if self.active_burst is None:
                self.active_burst = self.engine.burst(t_ns, None)
        elif self.active_burst is not None:
            self.active_burst.stop(t_ns)
            self.active_burst = None
        self.refresh()

    def cycle_drive_mode(self) -> DriveMode:
        self.drive_mode = next_drive_mode(self.drive_mode, self._drive_modes)
        log.info("drive mode: %s", self.drive_mode.value)
        self.refresh()
        return self.drive_mode

    def cycle_look(self) -> str:
        names = look_names()
        nxt = names[(names.index(self.look) + 1) % len(names)] if self.look in names else names[0]
        if nxt != self.look:
            try:
                self.set_look(nxt)
            except Exception as exc:  # a broken look keeps the current one
                log.error("look %s cannot be applied: %s", nxt, exc)
        log.info("look: %s", self.look)
        return self.look

    def toggle_raw(self) -> bool:
        return self.set_raw(not self.writer.raw)

    # -- settings (the mode button and camctl) -------------------------------------------------------------
    def set_look(self, name: str) -> str:
        """Develop JPEGs with look ``name`` from the next capture on; raises (keeping the look) if it fails."""
        with self._settings_lock:
            if name not in look_names():
                raise ConfigError(f"look {name!r} is not a look here (looks: {', '.join(look_names())})")
            if name != self.look:
                self.engine.writer = self.writer = self.writer.replace(
                    look=name, pipeline=self.pipeline_for(self.tuning, name))
                self.look = name
            return self.look

    def set_raw(self, raw: bool) -> bool:
        with self._settings_lock:
            if bool(raw) != self.writer.raw:
                self.engine.writer = self.writer = self.writer.replace(raw=bool(raw))
            log.info("raw %s", "on (DNG + JPEG)" if self.writer.raw else "off (JPEG only)")
            return self.writer.raw

    def set_denoise(self, mode: str) -> str:
        """Denoise captures' raw frames with ``mode`` from the next capture on (``ControlError`` if it
        cannot run here; the mode is then unchanged)."""
        with self._settings_lock:
            if mode != self.denoise:
                pipeline = self.pipeline_for(self.tuning, self.look, mode)
                self.engine.writer = self.writer = self.writer.replace(pipeline=pipeline)
                self.denoise = mode
                log.info("denoise: %s", mode)
            return self.denoise

    def set_drive_mode(self, mode: DriveMode) -> DriveMode:
        with self._settings_lock:
            self.drive_mode = DriveMode(mode)
        log.info("drive mode: %s", self.drive_mode.value)
        self.refresh()
        return self.drive_mode

    def writer_for(self, *, raw: bool | None = None, look: str | None = None,
                   denoise: str | None = None) -> CaptureWriter:
        """The writer for one capture with some settings changed (the current writer when none are)."""
        with self._settings_lock:
            writer = self.writer
            changes: dict = {}
            if raw is not None and raw != writer.raw:
                changes["raw"] = raw
            look = look or self.look
            denoise = denoise or self.denoise
            if look not in look_names():
                raise ConfigError(f"look {look!r} is not a look here (looks: {', '.join(look_names())})")
            if look != self.look or denoise != self.denoise:
                changes.update(look=look, pipeline=self.pipeline_for(self.tuning, look, denoise))
            return writer.replace(**changes) if changes else writer

    # -- other triggers ------------------------------------------------------------------------------------
    def capture(self, writer: CaptureWriter | None = None) -> "Future[CaptureResult]":
        """One frame now, whatever the drive mode (developed by ``writer`` if given)."""
        fut = self.engine.capture(writer=writer)
        self.captures.append(fut)
        return fut

    def preview(self):
        """The viewfinder: developed low-resolution frames of the live stream (made on first use)."""
        with self._settings_lock:
            if self.viewfinder is None:
                from .viewfinder import Viewfinder

                self.viewfinder = Viewfinder(self)
            return self.viewfinder

    def _timelapse_frame(self, info: dict) -> Future:
        fut = self.engine.capture(kind="timelapse", info=info)
        self.captures.append(fut)
        return fut

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        self.engine.start()
        self.timelapse.resume()
        self.refresh()

    def reload(self, config: Config) -> None:
        """Apply a new configuration and re-read the tuning; on error the running one stays (and it raises)."""
        reconfigure(self, config)
        self.refresh()

    def stop(self) -> None:
        """Stop streaming, finish every capture already taken, release the camera and GPIO."""
        if self.controls is not None:
            self.controls.close()  # no new presses while the engine drains
        if self.viewfinder is not None:
            self.viewfinder.close()
        self.timelapse.close()
        self.engine.stop()
        if self.board is not None:
            self.board.close()
        try:
            self.sensor.close()
        except SensorError as exc:
            log.warning("closing the camera: %s", exc)


def initial_look(config: Config) -> str:
    """The look captures start in (``capture.look``), checked against the looks the camera has."""
    names = look_names()
    if config.capture.look not in names:
        raise ConfigError(f"{config.source}: [capture] look: {config.capture.look!r} is not a look here "
                          f"(looks: {', '.join(names)})")
    return config.capture.look


def resolve_state_dir(config: Config, explicit: str | Path | None = None) -> Path:
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
