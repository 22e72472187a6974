"""The camera: sensor, capture engine, timelapse, status and GPIO controls behind one domain API.

Every capture, whoever asks - the shutter button (through the GPIO controls), SIGUSR1, the control socket's
``capture`` and ``shutter``, the preview page's shutter - is one ``trigger(CaptureRequest)``. Settings change
through ``set_*``; the state is read as one frozen ``CameraStatus`` (``snapshot()``); ``start``, ``reload``
and ``stop`` are the lifecycle's single entry points. ``Camerad`` is the controls' ``CameraActions``::

    camera = Camerad(config)                          # opens the sensor, attaches the buttons and LEDs
    camera.start(); camera.trigger(CaptureRequest())  # a press of the shutter, in the current drive mode
"""

from __future__ import annotations

import collections
import logging
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, Mapping

from ..actions import (CaptureRequest, DenoiseMode, DriveMode, LedState, Setting, StatusListener,
                       next_drive_mode, parse_drive_modes)
from ..board_profile import BoardProfile, load_profile
from ..capture.engine import CaptureEngine
from ..capture.exposure import bracket_evs
from ..capture.job import Job
from ..capture.timelapse import Timelapse
from ..capture.writer import CaptureWriter
from ..clock import Clock, SystemClock
from .. import develop
from ..config import Config
from ..errors import SensorError
from ..gpio import Controls, GpioBoard, attach_controls, open_board
from ..sensor.protocol import Sensor, SensorMode
from ..sensor.select import open_sensor
from ..storage.space import MB, FreeSpace
from ..tuning import TuningFile
from ..tuning.looks import list_looks
from . import build, reload as reloading, selftest, settings as operator_settings
from .settings import CameraSettings
from .status import CameraStatus, StatusBoard, Triggered, led_state

log = logging.getLogger(__name__)

SensorFactory = Callable[[Config], Sensor]


class Camerad:
    """``clock``, ``profile`` (the board profile), ``board`` and ``controls`` (None without GPIO) are wired once
    here; everything that changes is behind methods and ``snapshot()``."""

    def __init__(self, config: Config, *, sensor: Sensor | None = None, sensor_factory: SensorFactory | None = None,
                 board: GpioBoard | None = None, clock: Clock | None = None, captures: str | Path | None = None,
                 state_dir: str | Path | None = None, gpio: bool = True):
        self._config = config
        self.clock = clock or SystemClock()
        # The whole camera's description (sensor, lens, wiring), loaded whether or not GPIO is in use: its lens
        # goes into every capture's EXIF.
        self.profile: BoardProfile = load_profile(config.gpio.board, backend=config.gpio.backend)
        self._captures_dir = Path(captures) if captures else None
        self._sensor_factory: SensorFactory = sensor_factory or (lambda cfg: open_sensor(cfg, self.clock))
        self._status = StatusBoard()
        self._lock = threading.RLock()  # the settings, and which writer the engine holds
        sensor, self._mode, self._plan = self._open(config, sensor)
        self._tuning = sensor.tuning
        self._settings = build.initial_settings(config)
        self._drive_modes = parse_drive_modes(config.controls.drive_modes)
        writer = self._writer(self._settings, sensor=sensor)
        self._space = FreeSpace(writer.directory, config.storage.reserve_mb * MB)
        self._engine = CaptureEngine(sensor, writer, build.engine_settings(config, self._mode, self._plan),
                                     clock=self.clock, space=self._space,
                                     reopen=lambda: self._sensor_factory(self._config),
                                     on_change=self.refresh, on_frame_taken=self._status.frame_taken)
        self._started_ns = self.clock.monotonic_ns()
        self._timelapse = Timelapse(build.state_dir(config, state_dir) / "timelapse.json", self._timelapse_frame,
                                    clock=self.clock)
        self._held: Job | None = None  # the held shutter's burst
        # The most recent captures' futures (the demo reads them); bounded, so a storm of presses cannot grow memory.
        self._recent: collections.deque[Future] = collections.deque(maxlen=256)
        self._viewfinder = None  # made on first use
        self.board = board if board is not None else (
            open_board(config.gpio.backend, profile=self.profile, clock=self.clock) if gpio else None)
        self.controls: Controls | None = None
        if self.board is not None:
            self.controls = attach_controls(self.profile, self.board, self, config, self.clock)
            self.add_status_listener(self.controls.status)

    # -- what the camera is running ------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        return self._config

    @property
    def mode(self) -> SensorMode:
        return self._mode

    @property
    def settings(self) -> CameraSettings:
        return self._settings

    @property
    def sensor(self) -> Sensor:
        """The sensor streamed from now (a failed camera is reopened as a new object)."""
        return self._engine.sensor

    @property
    def tuning(self) -> TuningFile:
        """The sensor's calibrated tuning (looks are composed onto it for JPEGs)."""
        return self._tuning

    def advertised(self) -> Mapping[str, tuple[Any, Any, Any]]:
        """The sensor's controls: name -> (min, max, default)."""
        return self._engine.advertised()

    def _open(self, config: Config, sensor: Sensor | None = None):  # (sensor, mode, buffer plan)
        return build.configured(sensor or self._sensor_factory(config), config)
    def _writer(self, settings: CameraSettings, *, sensor: Sensor | None = None, config: Config | None = None,
                tuning: TuningFile | None = None, clean: bool = True) -> CaptureWriter:
        return build.writer(config or self._config, sensor or self.sensor, self._mode, tuning or self._tuning,
                            settings, self.profile, directory=self._captures_dir, clean=clean)

    # -- status --------------------------------------------------------------------------------------------
    def add_status_listener(self, listener: StatusListener) -> None:
        """Tell ``listener`` the camera's LED state now and on every change, and every frame taken."""
        self._status.add(listener)

    def remove_status_listener(self, listener: StatusListener) -> None:
        self._status.remove(listener)

    @property
    def led_state(self) -> LedState:
        return self._status.state

    def snapshot(self) -> CameraStatus:
        """The whole camera now, as one frozen value."""
        engine = self._engine.snapshot()
        space = self._space
        try:
            free: int | None = space.free_bytes()
            low = space.is_low(engine.capture_bytes)
        except OSError:
            free, low = None, False
        sensor = self.sensor
        return CameraStatus(engine=engine, settings=self._settings, model=sensor.info.model, mode=self._mode,
                            backend=sensor.backend, is_mock=sensor.is_mock, directory=space.directory,
                            free_bytes=free, reserve_bytes=space.reserve_bytes, storage_low=low,
                            timelapse=self._timelapse.status(), burst_held=self._held is not None,
                            uptime_s=(self.clock.monotonic_ns() - self._started_ns) / 1e9)

    def refresh(self) -> None:
        """Recompute the LED state and tell the listeners if it changed."""
        try:
            engine, space = self._engine.snapshot(), self._space
            shooting = self._held is not None or self._timelapse.active
            self._status.update(led_state(engine, lambda: space.is_low(engine.capture_bytes), shooting))
        except Exception as exc:  # never let status reporting break a capture path
            log.error("status update failed: %s", exc)

    def status_line(self) -> str:
        return self.snapshot().line()

    def wait_for_frame(self, timeout: float | None = None) -> bool:
        """Block until the sensor's first frame has arrived (what readiness means)."""
        return self._engine.wait_for_frame(timeout)

    def recent_captures(self) -> list[Future]:
        """The futures of the most recent frames taken (up to 256), oldest first."""
        return list(self._recent)

    # -- triggers: the one way a capture starts ------------------------------------------------------------
    def trigger(self, request: CaptureRequest) -> Triggered:
        """Capture as ``request`` asks: a shutter press in the current drive mode (``drive`` None), a held
        shutter (``hold``), or a given kind. Raises ``ConfigError``/``DenoiserUnavailable`` for a look or
        denoiser this capture cannot have; a refused capture is an outcome, in its futures."""
        c = self._config.capture
        drive = request.drive or self._settings.drive_mode
        writer = self._writer_for(request)
        press = request.press_ns
        if request.hold:
            with self._lock:
                if self._held is None:
                    self._held = self._engine.burst(press, None, writer=writer)
                result = Triggered(DriveMode.BURST, tuple(self._held.futures), self._held)
        elif drive is DriveMode.SINGLE:
            result = Triggered(drive, (self._engine.capture(press, writer=writer),))
        elif drive is DriveMode.BURST:
            job = self._engine.burst(press, request.count or c.burst_frames, writer=writer)
            result = Triggered(drive, tuple(job.futures), job)
        elif drive is DriveMode.BRACKET:
            evs = list(request.evs) if request.evs else bracket_evs(c.bracket_frames, c.bracket_step_ev)
            job = self._engine.bracket(press, evs, writer=writer)
            result = Triggered(drive, tuple(job.futures), job)
        elif self._timelapse.active:
            self._timelapse.stop()
            result = Triggered(drive, timelapse="stopped")
        else:
            self._timelapse.start(c.timelapse_interval, c.timelapse_count)
            result = Triggered(drive, timelapse="started")
        if result.timelapse:
            self.refresh()  # the engine told the status board of every admission and refusal; not of this
        self._recent.extend(result.futures)
        return result

    def release(self, t_ns: int) -> None:
        """The held shutter let go: its burst takes no frame whose exposure starts at or after ``t_ns``."""
        with self._lock:
            held, self._held = self._held, None
        if held is not None:
            held.stop(t_ns)
        self.refresh()

    def _writer_for(self, request: CaptureRequest) -> CaptureWriter | None:
        """A writer for this capture alone when it asks for another look, denoiser or raw setting."""
        if request.raw is None and request.look is None and request.denoise is None:
            return None  # a press of the shutter: the engine's writer
        wanted = self._settings.replace(raw=request.raw, look=request.look, denoise=request.denoise)
        return None if wanted == self._settings else self._writer(wanted, clean=False)

    def _timelapse_frame(self, info: dict) -> Future:
        fut = self._engine.capture(kind="timelapse", info=info)
        self._recent.append(fut)
        return fut

    def start_timelapse(self, interval_s: float | None = None, count: int | None = None) -> None:
        c = self._config.capture
        self._timelapse.start(interval_s or c.timelapse_interval, count or c.timelapse_count)
        self.refresh()

    def stop_timelapse(self) -> bool:
        """End the running timelapse; False when none was running."""
        was = self._timelapse.active
        self._timelapse.stop()
        self.refresh()
        return was

    # -- the rest of CameraActions -------------------------------------------------------------------------
    def half_press(self, pressed: bool, t_ns: int) -> None:
        """Half-press: hold AE and AWB (and focus once, where the lens can) until released."""
        try:
            if pressed:
                controls = self._engine.lock_exposure()
                log.info("half-press: locked %s", ", ".join(f"{k}={v}" for k, v in controls.items()))
            else:
                self._engine.unlock_exposure()
                log.info("half-press released: AE/AWB automatic")
        except Exception as exc:  # a rejected control is logged; the camera keeps shooting
            log.error("half-press %s failed: %s", "lock" if pressed else "release", exc)
        self.refresh()

    def cycle_drive_mode(self) -> DriveMode:
        return self.set_drive_mode(next_drive_mode(self._settings.drive_mode, self._drive_modes))

    def cycle_look(self) -> str:
        names = list_looks()
        look = self._settings.look
        nxt = names[(names.index(look) + 1) % len(names)] if look in names else names[0]
        try:
            self.set_look(nxt)
        except Exception as exc:  # a broken look keeps the current one
            log.error("look %s cannot be applied: %s", nxt, exc)
        log.info("look: %s", self._settings.look)
        return self._settings.look

    def toggle_raw(self) -> bool:
        return self.set_raw(not self._settings.raw)

    # -- settings ------------------------------------------------------------------------------------------
    def _change(self, **changes) -> CameraSettings:
        """New settings from the next capture on (the engine gets their writer), or it raises, changing nothing."""
        with self._lock:
            wanted = self._settings.replace(**changes)
            if wanted != self._settings:
                writer = self._writer(wanted, clean=False)
                self._engine.reconfigure(writer=writer)
                self._settings = wanted
            return self._settings

    def set_look(self, name: str) -> str:
        """Develop JPEGs with look ``name`` from the next capture on; raises (keeping the look) if it fails."""
        return self._change(look=name).look

    def set_raw(self, raw: bool) -> bool:
        raw = self._change(raw=bool(raw)).raw
        log.info("raw %s", "on (DNG + JPEG)" if raw else "off (JPEG only)")
        return raw

    def set_denoise(self, mode: DenoiseMode) -> DenoiseMode:
        """Denoise captures' raw frames with ``mode`` from the next capture on (``DenoiserUnavailable`` if it
        cannot run here; the mode is then unchanged)."""
        old = self._settings.denoise
        mode = self._change(denoise=DenoiseMode(mode)).denoise
        if mode != old:
            log.info("denoise: %s", mode)
        return mode

    def set_drive_mode(self, mode: DriveMode) -> DriveMode:
        with self._lock:
            self._settings = self._settings.replace(drive_mode=DriveMode(mode))
        log.info("drive mode: %s", self._settings.drive_mode)
        self.refresh()
        return self._settings.drive_mode

    def setting_ranges(self) -> dict[str, dict[str, Any]]:
        """What each operator setting accepts on this camera (``firmware.camera.settings``)."""
        return operator_settings.ranges(self.advertised())

    def setting_values(self) -> dict[str, Any]:
        """Each operator setting's value now (``auto`` where the camera's loops decide)."""
        return operator_settings.current(self._engine.snapshot().operator, self._settings)

    def apply_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        """Apply operator settings checked against ``setting_ranges``; returns their values now. Raises
        ``DenoiserUnavailable`` (tried first, nothing changed), ``ConfigError`` for a look that is not there,
        ``ControlError`` for a control value the sensor refuses."""
        if Setting.DENOISE in values:
            self.set_denoise(DenoiseMode(values[Setting.DENOISE]))
        if Setting.LOOK in values:
            self.set_look(values[Setting.LOOK])
        manual, automatic = operator_settings.to_controls(values)
        if manual or automatic:
            self._engine.set_operator_controls(manual, automatic)
        if Setting.RAW in values:
            self.set_raw(values[Setting.RAW])
        if Setting.DRIVE_MODE in values:
            self.set_drive_mode(DriveMode(values[Setting.DRIVE_MODE]))
        now = self.setting_values()
        return {k: now[k] for k in values}

    # -- the viewfinder and the self-test ------------------------------------------------------------------
    def preview(self):
        """The viewfinder: developed low-resolution frames of the live stream (made on first use)."""
        with self._lock:
            if self._viewfinder is None:
                from .viewfinder import Viewfinder

                self._viewfinder = Viewfinder(self, self._engine, self._config.preview)
            return self._viewfinder

    def selftest(self) -> dict:
        """Sensor streaming, tuning valid, storage writable, GPIO readable, denoiser loaded: each checked."""
        return selftest.run(selftest.Subject(self.snapshot(), self.clock.monotonic_ns(),
                                             self._config.sensor.frame_timeout, self._tuning, self.controls,
                                             self.board.name if self.board is not None else ""))

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        self._engine.start()
        self._timelapse.resume()
        self.refresh()

    def reload(self, config: Config) -> None:
        """Apply a new configuration and re-read the tuning; on error the running one stays (and it raises)."""
        new = reloading.check(config, self._config, self._settings, self._tuning)
        if new.restart:
            self._mode, self._plan = reloading.restart_camera(self._engine, self._open, config, self._config)
        with self._lock:
            writer = self._writer(new.settings, config=config, tuning=new.tuning, clean=False)
            self._space = FreeSpace(writer.directory, config.storage.reserve_mb * MB)
            self._engine.reconfigure(build.engine_settings(config, self._mode, self._plan), writer=writer,
                                     space=self._space)
            self._config, self._tuning, self._settings = config, new.tuning, new.settings
        log.info("configuration reloaded from %s (tuning %s)%s", config.source, new.tuning.source,
                 "; camera restarted" if new.restart else "")
        self.refresh()

    def stop(self, progress: Callable[[], None] | None = None) -> None:
        """Stop streaming, finish every capture already taken (``progress()`` as each is written), release the
        camera and GPIO."""
        if self.controls is not None:
            self.controls.close()  # no new presses while the engine drains
        if self._viewfinder is not None:
            self._viewfinder.close()
        self._timelapse.close()
        self._engine.stop(progress)
        if self.board is not None:
            self.board.close()
        try:
            self.sensor.close()
        except SensorError as exc:
            log.warning("closing the camera: %s", exc)
        develop.release()  # the denoiser's models and the ISP's pipelines go with the camera
