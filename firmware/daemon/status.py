"""What the camera tells the operator: one LED state for the status listeners, one line for systemd.

The LED state is derived, never set by hand: a sensor fault or a failed write outranks low storage, which
outranks a full queue, which outranks a capture in progress. Listeners hear only changes, plus a
``frame_taken`` for every frame a trigger takes (the LED flash, the shutter click).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from ..actions import LedState, StatusListener

if TYPE_CHECKING:  # pragma: no cover
    from .app import Camerad

log = logging.getLogger(__name__)

MB = 1024 * 1024


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


def led_state(app: "Camerad") -> LedState:
    engine = app.engine
    if not engine.wait_for_frame(0):
        return LedState.ERROR if engine.fault else LedState.BOOTING
    if engine.fault or engine.storage_error:
        return LedState.ERROR
    if app.space is not None and app.space.is_low(engine.capture_bytes()):
        return LedState.LOW_STORAGE
    if engine.queue_used >= engine.queue_size:
        return LedState.BUSY
    if engine.queue_used or app.active_burst is not None or app.timelapse.active:
        return LedState.CAPTURING
    return LedState.READY


def status_line(app: "Camerad") -> str:
    """One line for ``systemctl status`` (STATUS=): state, camera, mode, and what is going on."""
    engine = app.engine
    state = led_state(app)
    head = {LedState.BOOTING: "starting", LedState.READY: "ready", LedState.CAPTURING: "capturing",
            LedState.BUSY: "busy", LedState.ERROR: "error", LedState.LOW_STORAGE: "storage low"}[state]
    parts = [f"{app.sensor.info.model} {app.mode.name}", f"{app.drive_mode.value}", f"look {app.look}",
             "raw+jpeg" if app.writer.raw else "jpeg"]
    if engine.locked:
        parts.append("AE/AWB locked")
    if app.timelapse.progress:
        i, n = app.timelapse.progress
        parts.append(f"timelapse {i}/{n}")
    parts.append(f"queue {engine.queue_used}/{engine.queue_size}")
    parts.append(f"{engine.written} written")
    if app.space is not None:
        try:
            # Coarse on purpose: STATUS= should change with the camera's state, not with every byte written.
            parts.append(f"{app.space.free_bytes() / (1024 * MB):.1f} GB free")
        except OSError:
            parts.append("captures directory unavailable")
    if engine.frames_dropped:
        parts.append(f"{engine.frames_dropped} frames dropped")
    detail = engine.fault or engine.storage_error
    if state == LedState.BUSY and engine.last_refusal:
        detail = engine.last_refusal
    if state == LedState.LOW_STORAGE:
        detail = f"below the {app.space.reserve_bytes / MB:.0f} MB reserve, captures refused"
    return f"{head}: " + (f"{detail}; " if detail else "") + ", ".join(parts)
