"""The status LED and the frame-taken signal: ``StatusListener`` implemented with blink patterns.

ready = steady on; capturing = on, with a flash (a short inversion) per frame; busy (queue full) = fast blink;
error = SOS in Morse or long blinks; low storage = slow blink; booting = a short blip every second. A buzzer or
second LED, when the board profile wires one, pulses once per frame. Patterns are plain data
(``pattern_for``); a ``PatternPlayer`` thread per output plays them, so the daemon's calls return at once.

>>> pattern_for(LedState.BUSY).steps
((True, 0.1), (False, 0.1))
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

from ..actions import LedState
from ..clock import Clock, SystemClock
from ..config.model import StatusConfig

_NS = 1_000_000_000


@dataclass(frozen=True)
class Pattern:
    """Levels held for seconds; repeated, or (``repeat=False``) the last level held for ever."""

    steps: tuple[tuple[bool, float], ...]
    repeat: bool = True

    @property
    def period(self) -> float:
        return sum(s for _, s in self.steps)

    def at(self, elapsed: float) -> tuple[bool, float | None]:
        """The level ``elapsed`` seconds into the pattern, and the seconds until it changes (None: never)."""
        level, left = self.at_ns(round(elapsed * _NS))
        return level, None if left is None else left / _NS

    def at_ns(self, elapsed_ns: int) -> tuple[bool, int | None]:
        """``at`` in whole nanoseconds, so a change lands exactly on its time whatever the clock."""
        bounds = [round(t * _NS) for t in itertools.accumulate(s for _, s in self.steps)]
        if self.repeat and bounds[-1] > 0:
            elapsed_ns %= bounds[-1]
        for i, ((level, _), end) in enumerate(zip(self.steps, bounds)):
            if elapsed_ns < end:
                return level, end - elapsed_ns
            if not self.repeat and i == len(self.steps) - 1:
                break
        return self.steps[-1][0], None


STEADY_ON = Pattern(((True, 0.0),), repeat=False)
STEADY_OFF = Pattern(((False, 0.0),), repeat=False)


def sos(unit: float) -> tuple[tuple[bool, float], ...]:
    """... --- ... : dot 1 unit, dash 3, gaps 1 within a letter, 3 between letters, 7 after the word."""
    steps: list[tuple[bool, float]] = []
    letters = ("...", "---", "...")
    for li, letter in enumerate(letters):
        for si, mark in enumerate(letter):
            steps.append((True, unit if mark == "." else 3 * unit))
            last_in_letter = si == len(letter) - 1
            gap = 1 if not last_in_letter else (3 if li < len(letters) - 1 else 7)
            steps.append((False, gap * unit))
    return tuple(steps)


def pattern_for(state: LedState, cfg: StatusConfig = StatusConfig()) -> Pattern:
    fast, slow = cfg.fast_blink_time, cfg.slow_blink_time
    if state in (LedState.READY, LedState.CAPTURING):
        return STEADY_ON
    if state is LedState.BUSY:
        return Pattern(((True, fast), (False, fast)))
    if state is LedState.LOW_STORAGE:
        return Pattern(((True, slow), (False, slow)))
    if state is LedState.ERROR:
        if cfg.error_pattern == "sos":
            return Pattern(sos(cfg.sos_unit_time))
        return Pattern(((True, cfg.long_blink_time), (False, 0.5)))
    return Pattern(((True, 0.1), (False, 0.9)))  # BOOTING


class PatternPlayer:
    """Plays a ``Pattern`` on one output from its own thread; ``flash()`` inverts it for a moment.

    All its timing is the clock's: with ``firmware.clock.FakeClock`` a test moves time by hand and reads each
    change at its exact nanosecond (``settle``, ``next_change_ns``)."""

    def __init__(self, output, clock: Clock | None = None, name: str = "led"):
        self._out = output
        self._clock = clock or SystemClock()
        self._cond = threading.Condition()
        self._pattern = STEADY_OFF
        self._start = self._clock.monotonic_ns()
        self._flash_until = 0
        self._flash_request: float | None = None
        self._closed = False
        self._level: bool | None = None
        self._pending = True  # a change the thread has not played yet
        self._until: int | None = None  # when the thread next looks at the time (None: when told to)
        self._thread = threading.Thread(target=self._run, name=f"camerad-{name}", daemon=True)
        self._thread.start()

    def play(self, pattern: Pattern) -> None:
        with self._cond:
            if pattern == self._pattern:
                return  # the same state again: keep the rhythm rather than restart it
            self._pattern, self._start = pattern, self._clock.monotonic_ns()
            self._pending = True
            self._cond.notify_all()

    def flash(self, seconds: float) -> None:
        """Invert the output for ``seconds``, counted from when the player gets to it: a busy machine may show
        the flash late, but never swallows it."""
        with self._cond:
            self._flash_request = seconds
            self._pending = True
            self._cond.notify_all()

    @property
    def next_change_ns(self) -> int | None:
        """When the output may next change (None: not before a new pattern or flash)."""
        with self._cond:
            return self._until

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait (at most ``timeout`` real seconds) until the output shows the pattern at the clock's time."""
        with self._cond:
            return self._cond.wait_for(lambda: self._closed or not self._pending and (
                self._until is None or self._until > self._clock.monotonic_ns()), timeout)

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                now = self._clock.monotonic_ns()
                self._pending = False
                if self._flash_request is not None:
                    self._flash_until, self._flash_request = now + round(self._flash_request * _NS), None
                level, left = self._pattern.at_ns(now - self._start)
                if now < self._flash_until:
                    to_flash_end = self._flash_until - now
                    level, left = not level, to_flash_end if left is None else min(left, to_flash_end)
                if level != self._level:
                    self._out.set(level)
                    self._level = level
                self._until = None if left is None else now + left
                self._cond.notify_all()  # settle() callers
                self._clock.wait(self._cond, self._until)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        self._out.set(False)


class StatusLeds:
    """``firmware.actions.StatusListener`` on the profile's status LED and frame signal (either may be absent)."""

    def __init__(self, led=None, frame=None, *, frame_kind: str = "led", config: StatusConfig = StatusConfig(),
                 clock: Clock | None = None):
        self.config = config
        self.state = LedState.BOOTING
        self._led = PatternPlayer(led, clock, "status-led") if led is not None else None
        self._frame = PatternPlayer(frame, clock, "frame-signal") if frame is not None else None
        self._frame_time = config.beep_time if frame_kind == "buzzer" else config.flash_time
        self.led_state(LedState.BOOTING)

    def led_state(self, state: LedState) -> None:
        self.state = state
        if self._led is not None:
            self._led.play(pattern_for(state, self.config))

    def frame_taken(self) -> None:
        if self._led is not None and self.state is not LedState.ERROR:
            self._led.flash(self.config.flash_time)
        if self._frame is not None:
            self._frame.flash(self._frame_time)

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until both outputs show what they should at the clock's time (for tests on a FakeClock)."""
        return all(p.settle(timeout) for p in (self._led, self._frame) if p is not None)

    @property
    def next_change_ns(self) -> int | None:
        """The earliest time either output may change next."""
        times = [p.next_change_ns for p in (self._led, self._frame) if p is not None]
        return min((t for t in times if t is not None), default=None)

    def close(self) -> None:
        for player in (self._led, self._frame):
            if player is not None:
                player.close()
        self._led = self._frame = None
