"""One button contact: raw edges in, debounced presses and releases out, with stuck and chatter guards.

Pure and clock-free: every call carries its time (ns), so tests drive it with any timeline and get the same
answer. The first edge acts at once (a shutter press must not wait for the bounce to settle); edges within
``debounce_ns`` of an accepted change are bounce, and whatever level the contact settled on is taken when
that window ends, stamped with the time the contact actually got there.

A contact held longer than ``stuck_ns`` is *stuck*; one pressed ``chatter_presses`` times within
``chatter_window_ns`` is *chattering*. Either way it reports a forced release (so a burst or half-press ends),
then is ignored until it has been released and quiet for ``debounce_ns`` (stuck) or ``quiet_ns`` (chatter).
A contact that reads pressed when camerad starts is treated as stuck: no capture fires at boot.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True)
class ContactTiming:
    debounce_ns: int = 15_000_000
    stuck_ns: int = 30_000_000_000
    chatter_presses: int = 10
    chatter_window_ns: int = 1_000_000_000
    quiet_ns: int = 2_000_000_000


class Change(NamedTuple):
    """A debounced press (``pressed``) or release of ``contact`` at ``t_ns``; ``forced`` by a stuck/chatter guard."""

    contact: str
    pressed: bool
    t_ns: int
    forced: bool = False


class Fault(NamedTuple):
    """``kind`` is ``stuck``, ``chatter`` or ``recovered``."""

    contact: str
    kind: str
    t_ns: int


class Contact:
    def __init__(self, name: str, timing: ContactTiming, *, pressed: bool = False, now_ns: int = 0):
        self.name = name
        self.timing = timing
        self.raw = pressed  # the latest (undebounced) state
        self.raw_t = now_ns
        self.pressed = False  # the debounced state
        self.lock_until = now_ns
        self.pressed_since: int | None = None
        self.blocked: str | None = "stuck" if pressed else None
        self._presses: collections.deque[int] = collections.deque()

    def edge(self, pressed: bool, t_ns: int) -> list:
        out = self.tick(t_ns)
        if pressed == self.raw:
            return out  # no change (a repeated level, or an edge the backend reported twice)
        self.raw, self.raw_t = pressed, t_ns
        if self.blocked is None and t_ns >= self.lock_until:
            out += self._accept(pressed, t_ns)
        return out

    def tick(self, now_ns: int) -> list:
        out: list = []
        if self.blocked is not None:
            if not self.raw and now_ns >= self.raw_t + self._quiet_ns():
                self.blocked = None
                self.lock_until = now_ns
                out.append(Fault(self.name, "recovered", now_ns))
            return out
        if self.raw != self.pressed and now_ns >= self.lock_until:
            out += self._accept(self.raw, max(self.raw_t, self._last_change_ns()))
        if self.pressed and self.pressed_since is not None and now_ns >= self.pressed_since + self.timing.stuck_ns:
            out += self._block("stuck", self.pressed_since + self.timing.stuck_ns)
        return out

    def next_deadline(self) -> int | None:
        if self.blocked is not None:
            return None if self.raw else self.raw_t + self._quiet_ns()
        due = []
        if self.raw != self.pressed:
            due.append(self.lock_until)
        if self.pressed and self.pressed_since is not None:
            due.append(self.pressed_since + self.timing.stuck_ns)
        return min(due) if due else None

    def _last_change_ns(self) -> int:
        return self.lock_until - self.timing.debounce_ns

    def _quiet_ns(self) -> int:
        return self.timing.quiet_ns if self.blocked == "chatter" else self.timing.debounce_ns

    def _accept(self, pressed: bool, t_ns: int) -> list:
        self.pressed = pressed
        self.lock_until = t_ns + self.timing.debounce_ns
        out: list = [Change(self.name, pressed, t_ns)]
        if not pressed:
            self.pressed_since = None
            return out
        self.pressed_since = t_ns
        self._presses.append(t_ns)
        while self._presses and self._presses[0] <= t_ns - self.timing.chatter_window_ns:
            self._presses.popleft()
        if len(self._presses) >= self.timing.chatter_presses:
            out += self._block("chatter", t_ns)
        return out

    def _block(self, kind: str, t_ns: int) -> list:
        self.blocked = kind
        self._presses.clear()
        out: list = [Fault(self.name, kind, t_ns)]
        if self.pressed:
            self.pressed = False
            self.pressed_since = None
            out.append(Change(self.name, False, t_ns, forced=True))
        return out
