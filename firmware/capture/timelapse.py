"""Timelapse: a frame every ``interval`` seconds, ``count`` frames, surviving a daemon restart or a reboot.

The schedule is a grid in wall-clock time (start + k x interval), kept in a small JSON state file that is
rewritten atomically after every frame. A daemon that starts and finds an unfinished timelapse carries on at
the next slot of the same grid; slots that passed while it was down are logged as missed, not shot late in a
burst. Waiting is done on the monotonic clock, so a clock step while running does not bunch or skip frames.

>>> tl = Timelapse(state_dir / "timelapse.json", trigger)       # doctest: +SKIP
>>> tl.start(interval_s=10, count=360)                          # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..clock import Clock, SystemClock
from ..storage.atomic import atomic_write

log = logging.getLogger(__name__)

Trigger = Callable[[dict[str, Any]], "Future | None"]


@dataclass(frozen=True)
class TimelapseStatus:
    """A timelapse at one instant: running or not, the next frame's index of ``count``, frames missed."""

    active: bool = False
    next_index: int | None = None
    count: int | None = None
    interval_s: float | None = None
    missed: int = 0


class Timelapse:
    def __init__(self, state_path: str | Path, trigger: Trigger, *, clock: Clock | None = None,
                 wall_ns: Callable[[], int] = time.time_ns):
        self.state_path = Path(state_path)
        self.trigger = trigger
        self.clock = clock or SystemClock()
        self.wall_ns = wall_ns
        self._state: dict[str, Any] | None = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.missed = 0

    @property
    def active(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> TimelapseStatus:
        """Where the running timelapse is (``active`` False when none is)."""
        s = self._state
        if not (s and self.active):
            return TimelapseStatus(missed=self.missed)
        return TimelapseStatus(True, s["next_index"], s["count"], s["interval_s"], self.missed)

    def start(self, interval_s: float, count: int) -> None:
        """Start a new timelapse now (replacing any state left from an earlier one)."""
        if interval_s <= 0 or count < 1:
            raise ValueError(f"timelapse needs interval > 0 and count >= 1, got {interval_s} s x {count}")
        self.close()
        self._state = {"interval_s": float(interval_s), "count": int(count), "start_wall_ns": self.wall_ns(),
                       "next_index": 0}
        self._save()
        log.info("timelapse started: %d frames every %g s", count, interval_s)
        self._spawn()

    def resume(self) -> bool:
        """Carry on with a timelapse found in the state file; False when there is none to resume."""
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
            state = {"interval_s": float(state["interval_s"]), "count": int(state["count"]),
                     "start_wall_ns": int(state["start_wall_ns"]), "next_index": int(state["next_index"])}
        except FileNotFoundError:
            return False
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("ignoring timelapse state %s: %s", self.state_path, exc)
            return False
        if state["next_index"] >= state["count"]:
            self.state_path.unlink(missing_ok=True)
            return False
        self._state = state
        log.info("resuming timelapse: frame %d of %d, every %g s", state["next_index"] + 1, state["count"],
                 state["interval_s"])
        self._spawn()
        return True

    def stop(self) -> None:
        """End the timelapse for good (its state file is removed)."""
        self.close()
        self._state = None
        self.state_path.unlink(missing_ok=True)
        log.info("timelapse stopped")

    def close(self) -> None:
        """Stop the thread but keep the state, so the next daemon start resumes it."""
        self._cancel.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._thread = None

    # -- the schedule ----------------------------------------------------------------------------------------
    def _spawn(self) -> None:
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(self._cancel,), name="camerad-timelapse",
                                        daemon=True)
        self._thread.start()

    def _loop(self, cancel: threading.Event) -> None:
        s = self._state
        interval_ns = int(s["interval_s"] * 1e9)
        while not cancel.is_set():
            index = self._catch_up(s, interval_ns)
            if index >= s["count"]:
                break
            due_wall = s["start_wall_ns"] + index * interval_ns
            deadline = self.clock.monotonic_ns() + max(0, due_wall - self.wall_ns())
            if not self.clock.sleep_until(deadline, cancel):
                return
            info = {"index": index, "count": s["count"], "interval_s": s["interval_s"]}
            try:
                self.trigger(info)
            except Exception as exc:  # noqa: BLE001 - one failed frame must not end the timelapse
                log.error("timelapse frame %d of %d failed: %s", index + 1, s["count"], exc)
            s["next_index"] = index + 1
            self._save()
        if not cancel.is_set():
            log.info("timelapse finished: %d frames (%d missed)", s["count"], self.missed)
            self.state_path.unlink(missing_ok=True)

    def _catch_up(self, s: dict[str, Any], interval_ns: int) -> int:
        """The next slot to shoot: skip (and log) slots whose time passed more than half an interval ago."""
        index = s["next_index"]
        late = self.wall_ns() - (s["start_wall_ns"] + index * interval_ns)
        if late > interval_ns // 2:
            skip = min(s["count"] - index, math.ceil((late - interval_ns // 2) / interval_ns))
            if skip > 0:
                log.warning("timelapse: missed frames %d..%d of %d (the daemon was not running)", index + 1,
                            index + skip, s["count"])
                self.missed += skip
                index += skip
                s["next_index"] = index
                self._save()
        return index

    def _save(self) -> None:
        with self._lock:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.state_path, (json.dumps(self._state, indent=1) + "\n").encode("utf-8"))
