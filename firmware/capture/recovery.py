"""Keep a camera running: restart it after a timeout, reopen it after a disconnection, back off between tries.

rpicam-apps answers a device timeout with a stop and start of the camera; a camera that has gone away needs
closing and opening afresh (a new ``Picamera2``, a new libcamera ``Camera``). ``SensorKeeper`` does the first
try as a restart when that can work, and every later try as a reopen, with waits that double from 0.5 s up to
``backoff_max``. Controls that must outlive a restart (the half-press exposure lock, the operator's own
settings) are kept here and re-applied.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Mapping

from ..errors import SensorDisconnected, SensorError, SensorUnavailable
from ..sensor.protocol import Sensor, SensorMode
from . import exposure

log = logging.getLogger(__name__)


class Backoff:
    """Waits that double from ``first`` up to ``maximum`` seconds.

    >>> b = Backoff(0.5, 3.0); [b.next() for _ in range(5)]
    [0.5, 1.0, 2.0, 3.0, 3.0]
    """

    def __init__(self, first: float = 0.5, maximum: float = 30.0):
        self.first = first
        self.maximum = maximum
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return min(delay, self.maximum)

    def reset(self) -> None:
        self._next = self.first


class SensorKeeper:
    """The one owner of the sensor object; every call to it goes through here, under one lock.

    It also keeps the controls that outlive a restart: the half-press lock and the operator's settings.
    """

    def __init__(self, sensor: Sensor, *, mode: SensorMode | None = None, buffer_count: int | None = None,
                 reopen: Callable[[], Sensor] | None = None):
        self._sensor = sensor
        self.mode = mode
        self.buffer_count = buffer_count
        self._reopen = reopen
        self._lock = threading.RLock()
        # Controls re-applied after every restart, and those the operator set by hand (camctl set). Each change
        # makes new dicts rather than changing these, so a snapshot may share them without copying.
        self.persistent: dict[str, Any] = {}
        self.operator: dict[str, Any] = {}
        self.locked = False
        self.restarts = 0
        self.reopens = 0

    @property
    def sensor(self) -> Sensor:
        return self._sensor

    def advertised(self) -> Mapping[str, tuple[Any, Any, Any]]:
        with self._lock:
            return self._sensor.camera_controls

    def start(self) -> None:
        with self._lock:
            self._sensor.start()

    def stop(self) -> None:
        with self._lock:
            try:
                self._sensor.stop()
            except SensorError as exc:  # a dead camera may fail to stop; it is being left anyway
                log.debug("stopping the sensor failed: %s", exc)

    def next_request(self, timeout: float):
        # Not under the lock: it blocks for a frame, and stop() must be able to interrupt it.
        return self._sensor.next_request(timeout)

    def set_controls(self, controls: Mapping[str, Any], *, persist: bool | None = None) -> None:
        """Send controls to the sensor; ``persist=True`` keeps them for restarts, ``False`` forgets them."""
        with self._lock:
            if persist is True:
                self.persistent = {**self.persistent, **{k: v for k, v in controls.items() if k != "AfTrigger"}}
            elif persist is False:
                self.persistent = {k: v for k, v in self.persistent.items() if k not in controls}
            self._sensor.set_controls(controls)

    # -- exposure: the half-press lock, the operator's settings, brackets -----------------------------------
    def lock_exposure(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """Hold AE and AWB (and focus once, where the lens can) at the values ``metadata`` reports."""
        with self._lock:
            controls = exposure.lock_controls(metadata, self._sensor.camera_controls)
            self.set_controls(controls, persist=True)
            self.locked = True
            return controls

    def unlock_exposure(self) -> None:
        """Hand AE and AWB back to the loops, keeping what the operator set by hand."""
        with self._lock:
            self.persistent = {}
            self.set_controls(exposure.unlock_controls(self._sensor.camera_controls))
            if self.operator:
                # Sent after the unlock: AeEnable on hands both exposure halves back to the loop first.
                self.set_controls(self.operator, persist=True)
            self.locked = False

    def set_operator_controls(self, manual: Mapping[str, Any], automatic: Mapping[str, Any] = {}) -> None:
        """The operator's own settings: ``manual`` controls are kept across camera restarts, half-press releases
        and brackets; ``automatic`` ones (e.g. ExposureTime 0) hand a control back to the loops and forget its
        manual value. Raises ``ControlError`` (nothing changed) for a bad value."""
        with self._lock:
            self.set_controls({**automatic, **manual})
            keep = lambda held: {k: v for k, v in held.items() if k not in automatic}  # noqa: E731
            self.operator = {**keep(self.operator), **manual}
            self.persistent = {**keep(self.persistent), **manual}

    def restore_exposure(self) -> None:
        """After a bracket: back to the held exposure, or to the automatic loops (and the operator's settings)."""
        with self._lock:
            adv = self._sensor.camera_controls
            auto = {k: v for k, v in (("ExposureTime", 0), ("AnalogueGain", 0.0)) if k in adv}
            self.set_controls({**auto, **self.persistent})

    def recover(self, cause: BaseException, attempt: int) -> str:
        """One attempt to get frames flowing again; returns what was done ("restart" or "reopen").

        Raises the ``SensorError`` of a failed attempt; the caller waits its backoff and tries again.
        """
        with self._lock:
            self.stop()
            if attempt == 0 and not isinstance(cause, (SensorDisconnected, SensorUnavailable)):
                self._sensor.start()
                self._reapply()
                self.restarts += 1
                return "restart"
            try:
                self._sensor.close()
            except Exception as exc:  # noqa: BLE001 - a broken camera may fail to close; we are replacing it
                log.debug("closing the failed sensor: %s", exc)
            if self._reopen is None:
                raise SensorUnavailable("the camera cannot be reopened (no way to open it again was given)")
            sensor = self._reopen()
            try:
                if self.mode is not None:
                    sensor.configure(self.mode, self.buffer_count or 4)
                self._sensor = sensor
                self._reapply()
                sensor.start()
            except BaseException:
                self._sensor = sensor
                raise
            self.reopens += 1
            return "reopen"

    def replace(self, sensor: Sensor, *, mode: SensorMode | None = None, buffer_count: int | None = None,
                reopen: Callable[[], Sensor] | None = None) -> Sensor:
        """Swap in a different (configured, stopped) sensor; return the old one, stopped, for closing."""
        with self._lock:
            self.stop()
            old, self._sensor = self._sensor, sensor
            if mode is not None:
                self.mode = mode
            if buffer_count is not None:
                self.buffer_count = buffer_count
            if reopen is not None:
                self._reopen = reopen
            self._reapply()
            return old

    def _reapply(self) -> None:
        if self.persistent:
            self._sensor.set_controls(self.persistent)
