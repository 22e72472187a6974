"""What the camera tells the operator: one frozen ``CameraStatus``, the LED state and the status line from it.

The LED state is derived, never set by hand: a sensor fault or a failed write outranks low storage, which
outranks a full queue, which outranks a capture in progress. ``StatusBoard`` tells the registered listeners
only its changes, plus a ``frame_taken`` for every frame a trigger takes (the LED flash, the shutter click).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..actions import DriveMode, LedState, StatusListener
from ..boards import SensorBackend
from ..capture.job import Job
from ..capture.state import EngineSnapshot
from ..capture.timelapse import TimelapseStatus
from ..sensor.protocol import SensorMode
from .settings import CameraSettings

log = logging.getLogger(__name__)

MB = 1024 * 1024
_HEADS = {LedState.BOOTING: "starting", LedState.READY: "ready", LedState.CAPTURING: "capturing",
          LedState.BUSY: "busy", LedState.ERROR: "error", LedState.LOW_STORAGE: "storage low"}


@dataclass(frozen=True)
class CameraStatus:
    """The whole camera at one instant: the engine's snapshot, the settings, the sensor, storage, timelapse."""

    engine: EngineSnapshot
    settings: CameraSettings
    model: str
    mode: SensorMode
    backend: SensorBackend
    is_mock: bool
    directory: Path
    free_bytes: int | None  # None: the captures directory cannot be read
    reserve_bytes: int
    storage_low: bool
    timelapse: TimelapseStatus
    burst_held: bool
    uptime_s: float

    @property
    def state(self) -> LedState:
        return led_state(self.engine, lambda: self.storage_low, self.burst_held or self.timelapse.active)

    def line(self) -> str:
        """One line for ``systemctl status`` (STATUS=): state, camera, mode, and what is going on."""
        e, s, state = self.engine, self.settings, self.state
        parts = [f"{self.model} {self.mode.name}", s.drive_mode.value, f"look {s.look}",
                 "raw+jpeg" if s.raw else "jpeg"]
        if e.locked:
            parts.append("AE/AWB locked")
        if self.timelapse.active:
            parts.append(f"timelapse {self.timelapse.next_index}/{self.timelapse.count}")
        parts.append(f"queue {e.queue_used}/{e.queue_size}")
        parts.append(f"{e.written} written")
        # Coarse on purpose: STATUS= should change with the camera's state, not with every byte written.
        parts.append(f"{self.free_bytes / (1024 * MB):.1f} GB free" if self.free_bytes is not None
                     else "captures directory unavailable")
        if e.frames_dropped:
            parts.append(f"{e.frames_dropped} frames dropped")
        detail = e.fault or e.storage_error
        if state == LedState.BUSY and e.last_refusal:
            detail = e.last_refusal
        if state == LedState.LOW_STORAGE:
            detail = f"below the {self.reserve_bytes / MB:.0f} MB reserve, captures refused"
        return f"{_HEADS[state]}: " + (f"{detail}; " if detail else "") + ", ".join(parts)


def led_state(e: EngineSnapshot, storage_low: Callable[[], bool], shooting: bool) -> LedState:
    """The LED state of an engine in state ``e``; ``storage_low()`` is asked only when it can matter (it reads
    the filesystem), ``shooting``: a held burst or a timelapse is running."""
    if not e.has_frame:
        return LedState.ERROR if e.fault else LedState.BOOTING
    if e.fault or e.storage_error:
        return LedState.ERROR
    if storage_low():
        return LedState.LOW_STORAGE
    if e.queue_full:
        return LedState.BUSY
    if e.queue_used or shooting:
        return LedState.CAPTURING
    return LedState.READY


@dataclass(frozen=True)
class Triggered:
    """What a trigger started: the drive mode it ran in, each frame's future (on disk when it resolves), the
    job taking them (a held burst's futures grow until release), or a timelapse ``"started"``/``"stopped"``."""

    drive: DriveMode
    futures: tuple[Future, ...] = ()
    job: Job | None = None
    timelapse: str | None = None


class StatusBoard:
    """The registered ``StatusListener``s and the last state they were told."""

    def __init__(self):
        self._listeners: list[StatusListener] = []
        self._lock = threading.Lock()
        self.state = LedState.BOOTING

    def add(self, listener: StatusListener) -> None:
        with self._lock:
            self._listeners.append(listener)
        self._call(listener, "led_state", self.state)

    def remove(self, listener: StatusListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def update(self, state: LedState) -> bool:
        with self._lock:
            if state == self.state:
                return False
            self.state = state
            listeners = list(self._listeners)
        log.debug("status: %s", state.value)
        for listener in listeners:
            self._call(listener, "led_state", state)
        return True

    def frame_taken(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            self._call(listener, "frame_taken")

    @staticmethod
    def _call(listener: StatusListener, method: str, *args) -> None:
        try:
            getattr(listener, method)(*args)
        except Exception as exc:  # a broken LED must not stop the camera
            log.error("status listener %s.%s failed: %s", type(listener).__name__, method, exc)
