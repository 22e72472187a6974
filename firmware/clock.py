"""The clock seam: real monotonic time for the daemon, a fake one that tests advance by hand.

Everything that waits for frames or times gestures takes a ``Clock`` so that tests run in
simulated time, deterministically and fast.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Protocol


class Clock(Protocol):
    def monotonic_ns(self) -> int: ...

    def sleep_until(self, deadline_ns: int, cancel: threading.Event | None = None) -> bool:
        """Sleep until ``deadline_ns``; return False early if ``cancel`` is set."""
        ...

    def wait(self, cond: threading.Condition, deadline_ns: int | None) -> None:
        """With ``cond`` held: wait on it until notified or until ``deadline_ns`` (None: until notified).
        The caller loops and looks at the time again, as with any condition wait."""
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

    def wait(self, cond: threading.Condition, deadline_ns: int | None) -> None:
        cond.wait(None if deadline_ns is None else max(0.0, (deadline_ns - time.monotonic_ns()) / 1e9))


class FakeClock:
    """Simulated time: ``sleep_until`` jumps straight to the deadline, so waits cost nothing.

    >>> c = FakeClock(); c.sleep_until(5_000_000); c.monotonic_ns()
    True
    5000000
    """

    def __init__(self, start_ns: int = 0):
        self._now = start_ns
        self._lock = threading.Lock()
        self._waiters: weakref.WeakSet[threading.Condition] = weakref.WeakSet()

    def monotonic_ns(self) -> int:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += int(seconds * 1e9)
        self._wake()

    def sleep_until(self, deadline_ns: int, cancel: threading.Event | None = None) -> bool:
        if cancel is not None and cancel.is_set():
            return False
        with self._lock:
            self._now = max(self._now, deadline_ns)
        self._wake()
        return True

    def wait(self, cond: threading.Condition, deadline_ns: int | None) -> None:
        """Returns at once if the time is already past ``deadline_ns``; else when notified, and every time the
        clock moves (a waiter once seen is woken by every later move, so none sleeps through its deadline)."""
        with self._lock:
            if deadline_ns is not None and self._now >= deadline_ns:
                return
            self._waiters.add(cond)
        cond.wait()

    def _wake(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for cond in waiters:
            with cond:
                cond.notify_all()
