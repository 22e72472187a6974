"""The status LED and the frame-taken signal: ``StatusListener`` implemented with blink patterns.

ready = steady on; capturing = on, with a flash (a short inversion) per frame; busy (queue full) = fast blink;
error = SOS in Morse or long blinks; low storage = slow blink; booting = a short blip every second. A buzzer or
second LED, when the board profile wires one, pulses once per frame. Patterns are plain data
(``pattern_for``); a ``PatternPlayer`` thread per output plays them, so the daemon's calls return at once.

>>> pattern_for(LedState.BUSY).steps
((True, 0.1), (False, 0.1))
"""

from __future__ import annotations

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
        if self.repeat and self.period > 0:
            elapsed %= self.period
        t = 0.0
        for i, (level, seconds) in enumerate(self.steps):
            t += seconds
            if elapsed < t:
                return level, t - elapsed
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
    """Plays a ``Pattern`` on one output from its own thread; ``flash()`` inverts it for a moment."""

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
        self._thread = threading.Thread(target=self._run, name=f"camerad-{name}", daemon=True)
        self._thread.start()

    def play(self, pattern: Pattern) -> None:
        with self._cond:
            if pattern == self._pattern:
                return  # the same state again: keep the rhythm rather than restart it
            self._pattern, self._start = pattern, self._clock.monotonic_ns()
            self._cond.notify()

    def flash(self, seconds: float) -> None:
        """Invert the output for ``seconds``, counted from when the player gets to it: a busy machine may show
        the flash late, but never swallows it."""
        with self._cond:
            self._flash_request = seconds
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                now = self._clock.monotonic_ns()
                if self._flash_request is not None:
                    self._flash_until, self._flash_request = now + int(self._flash_request * _NS), None
                level, left = self._pattern.at((now - self._start) / _NS)
                if now < self._flash_until:
                    to_flash_end = (self._flash_until - now) / _NS
                    level, left = not level, to_flash_end if left is None else min(left, to_flash_end)
                if level != self._level:
                    self._out.set(level)
                    self._level = level
                self._cond.wait(left)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
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

    def close(self) -> None:
        for player in (self._led, self._frame):
            if player is not None:
                player.close()
        self._led = self._frame = None
