"""The clock seam: real monotonic time for the daemon, a fake one that tests advance by hand.

Everything that waits for frames or times gestures takes a ``Clock`` so that tests run in
simulated time, deterministically and fast.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic_ns(self) -> int: ...

    def sleep_until(self, deadline_ns: int, cancel: threading.Event | None = None) -> bool:
        """Sleep until ``deadline_ns``; return False early if ``cancel`` is set."""
        ...


class SystemClock:
    """CLOCK_MONOTONIC, the clock libcamera stamps ``SensorTimestamp`` with and picamera2 compares against."""

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

    def sleep_until(self, deadline_ns: int, cancel: threading.Event | None = None) -> bool:
        while True:
            remaining = (deadline_ns - time.monotonic_ns()) / 1e9
            if remaining <= 0:
                return True
            if cancel is not None:
                if cancel.wait(remaining):
                    return False
            else:
                time.sleep(remaining)


class FakeClock:
    """Simulated time: ``sleep_until`` jumps straight to the deadline, so waits cost nothing.

    >>> c = FakeClock(); c.sleep_until(5_000_000); c.monotonic_ns()
    True
    5000000
    """

    def __init__(self, start_ns: int = 0):
        self._now = start_ns
        self._lock = threading.Lock()

    def monotonic_ns(self) -> int:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += int(seconds * 1e9)

    def sleep_until(self, deadline_ns: int, cancel: threading.Event | None = None) -> bool:
        if cancel is not None and cancel.is_set():
            return False
        with self._lock:
            self._now = max(self._now, deadline_ns)
        return True
