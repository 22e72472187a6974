"""A ring of the most recent completed requests: what zero-shutter-lag capture picks from.

Each request in the ring holds one reference (and so one sensor buffer); pushing past capacity releases the
oldest. Picking a frame acquires another reference for the caller, so the ring can move on while the frame is
being developed.
"""

from __future__ import annotations

import collections
import threading

from ..errors import SensorError
from ..sensor.request import CompletedRequest


class RequestRing:
    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"ring capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._items: collections.deque[CompletedRequest] = collections.deque()
        self._lock = threading.Lock()

    def push(self, request: CompletedRequest) -> None:
        """Take ownership of ``request`` (the caller's reference)."""
        with self._lock:
            self._items.append(request)
            old = self._items.popleft() if len(self._items) > self.capacity else None
        if old is not None:
            old.release()

    def newest(self) -> CompletedRequest | None:
        with self._lock:
            return self._items[-1] if self._items else None

    def newest_acquired(self) -> CompletedRequest | None:
        """The newest frame, acquired for the caller (who releases it), or None when the ring is empty."""
        for _ in range(3):
            req = self.newest()
            if req is None:
                return None
            try:
                return req.acquire()
            except SensorError:  # released by the ring between the two calls: take the next newest
                continue
        return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def pick(self, press_ns: int, zsl: bool = True) -> CompletedRequest | None:
        """The frame for a shutter press at ``press_ns``, acquired for the caller, or None if not here yet.

        ZSL: the frame whose exposure was under way at the press - the one whose frame period, from its first
        line's exposure start, contains the press. Without ZSL: the first frame whose exposure began after it.
        """
        with self._lock:
            items = list(self._items)
            if not items:
                return None
            if zsl:
                if items[-1].frame_end_ns <= press_ns:
                    return None  # the frame exposing at the press has not been read out yet
                best = min(items, key=lambda r: (_distance(r, press_ns), -r.timestamp_ns))
            else:
                later = [r for r in items if r.exposure_start_ns >= press_ns]
                if not later:
                    return None
                best = later[0]
            return best.acquire()

    def after(self, sequence: int) -> list[CompletedRequest]:
        """Frames newer than ``sequence``, oldest first, each acquired for the caller (a burst's next frames)."""
        with self._lock:
            return [r.acquire() for r in self._items if r.sequence > sequence]

    def clear(self) -> None:
        with self._lock:
            items, self._items = list(self._items), collections.deque()
        for r in items:
            r.release()


def _distance(request: CompletedRequest, t_ns: int) -> int:
    start, end = request.exposure_start_ns, request.frame_end_ns
    if start <= t_ns < end:
        return 0
    return start - t_ns if t_ns < start else t_ns - end + 1
