"""The gesture machine: raw edges of the shutter and mode contacts in, camera gestures out, in simulated time.

Contacts (``contact.py``) debounce and guard each line; the shutter and mode machines turn their presses into
``Gesture``s: ``half_press`` (True/False), ``shutter``, ``burst`` (True/False), ``click``, ``double_click``,
``hold``, ``fault`` and ``ignored``. Nothing here reads a clock or starts a thread: ``edge()`` and ``tick()``
take the time, and ``next_deadline()`` says when the machine next needs a ``tick()`` (a hold or a double-click
window ending), so the same sequence of edges always gives the same gestures.

>>> m = GestureMachine(GestureTiming(), contacts=("full",))
>>> [g.name for g in m.edge("full", True, 0) + m.tick(700_000_000) + m.edge("full", False, 900_000_000)]
['shutter', 'burst', 'burst']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from ..actions import ModeAction
from .contact import Change, Contact, ContactTiming, Fault

_NS = 1_000_000_000


class Gesture(NamedTuple):
    name: str
    value: object
    t_ns: int


@dataclass(frozen=True)
class GestureTiming:
    contact: ContactTiming = field(default_factory=ContactTiming)
    burst_hold_ns: int | None = 600_000_000  # None: holding the shutter is just one shot
    min_shot_interval_ns: int = 100_000_000
    mode_hold_ns: int | None = 1_000_000_000  # None: the mode button has no hold gesture
    double_click_ns: int | None = 350_000_000  # None: a click acts on release, no double click

    @classmethod
    def from_config(cls, c) -> "GestureTiming":
        """From a ``ControlsConfig`` (seconds) and its gesture mapping."""
        ns = lambda s: int(round(s * _NS))  # noqa: E731
        return cls(contact=ContactTiming(ns(c.debounce_time), ns(c.stuck_time), c.chatter_presses,
                                         ns(c.chatter_window), ns(c.chatter_quiet_time)),
                   burst_hold_ns=ns(c.burst_hold_time) if c.burst else None,
                   min_shot_interval_ns=ns(c.min_shot_interval),
                   mode_hold_ns=ns(c.mode_hold_time) if c.mode_hold != ModeAction.NONE else None,
                   double_click_ns=ns(c.double_click_time) if c.mode_double_click != ModeAction.NONE else None)


class ShutterGestures:
    """Contacts ``half`` (S1) and ``full`` (S2): half-press, capture at the press, burst while held."""

    def __init__(self, timing: GestureTiming):
        self.timing = timing
        self.half = False
        self.full = False
        self.half_sent = False
        self.bursting = False
        self.last_shot: int | None = None
        self._hold_at: int | None = None

    def change(self, c: Change) -> list[Gesture]:
        out: list[Gesture] = []
        if c.contact == "half":
            self.half = c.pressed
            if c.pressed and not self.half_sent:
                self.half_sent = True
                out.append(Gesture("half_press", True, c.t_ns))
            elif not c.pressed and self.half_sent and not self.full:
                self.half_sent = False
                out.append(Gesture("half_press", False, c.t_ns))
            return out
        if c.pressed:
            self.full = True
            if self.last_shot is not None and c.t_ns - self.last_shot < self.timing.min_shot_interval_ns:
                return [Gesture("ignored", "shutter pressed again within min_shot_interval", c.t_ns)]
            self.last_shot = c.t_ns
            hold = self.timing.burst_hold_ns
            self._hold_at = None if hold is None else c.t_ns + hold
            return [Gesture("shutter", None, c.t_ns)]
        self.full = False
        self._hold_at = None
        if self.bursting:
            self.bursting = False
            out.append(Gesture("burst", False, c.t_ns))
        if self.half_sent and not self.half:
            self.half_sent = False
            out.append(Gesture("half_press", False, c.t_ns))
        return out

    def next_deadline(self) -> int | None:
        return self._hold_at

    def tick(self, now_ns: int) -> list[Gesture]:
        if self._hold_at is None or now_ns < self._hold_at:
            return []
        at, self._hold_at = self._hold_at, None
        self.bursting = True
        return [Gesture("burst", True, at)]


class ModeGestures:
    """Contact ``mode``: click, double click and hold, each acting once."""

    def __init__(self, timing: GestureTiming):
        self.timing = timing
        self.state = "idle"  # idle, down, wait (for a second press), down2 (after a double click), held
        self._since = 0
        self._deadline: int | None = None

    def change(self, c: Change) -> list[Gesture]:
        t = c.t_ns
        if c.pressed:
            if self.state == "wait":
                self.state, self._deadline = "down2", None
                return [Gesture("double_click", None, t)]
            self.state, self._since = "down", t
            hold = self.timing.mode_hold_ns
            self._deadline = None if hold is None else t + hold
            return []
        # A release. One forced by a stuck/chatter guard ends the gesture without acting.
        was, self.state, self._deadline = self.state, "idle", None
        if was != "down" or c.forced:
            return []
        if self.timing.double_click_ns is None:
            return [Gesture("click", None, t)]
        self.state, self._deadline = "wait", t + self.timing.double_click_ns
        return []

    def next_deadline(self) -> int | None:
        return self._deadline

    def tick(self, now_ns: int) -> list[Gesture]:
        if self._deadline is None or now_ns < self._deadline:
            return []
        at, self._deadline = self._deadline, None
        if self.state == "down":
            self.state = "held"
            return [Gesture("hold", None, at)]
        self.state = "idle"  # the double-click window closed: it was a single click
        return [Gesture("click", None, at)]


class GestureMachine:
    """All contacts of the camera (``half``, ``full``, ``mode``) and their gesture machines."""

    def __init__(self, timing: GestureTiming, contacts=("half", "full", "mode"), *,
                 pressed_at_start: dict[str, bool] | None = None, now_ns: int = 0):
        self.timing = timing
        start = pressed_at_start or {}
        self.contacts = {name: Contact(name, timing.contact, pressed=start.get(name, False), now_ns=now_ns)
                         for name in contacts}
        self.shutter = ShutterGestures(timing)
        self.mode = ModeGestures(timing)
        self.faults = [Gesture("fault", (name, "stuck"), now_ns) for name, c in self.contacts.items() if c.blocked]

    def edge(self, contact: str, pressed: bool, t_ns: int) -> list[Gesture]:
        out = self.tick(t_ns)
        for ev in self.contacts[contact].edge(pressed, t_ns):
            out += self._route(ev)
        return out

    def tick(self, now_ns: int) -> list[Gesture]:
        """Everything due by ``now_ns``, in time order, each stamped with the time it fell due."""
        out: list[Gesture] = []
        for _ in range(10_000):
            due = [(d, part) for part in self._parts() if (d := part.next_deadline()) is not None and d <= now_ns]
            if not due:
                return out
            d, part = min(due, key=lambda x: x[0])
            for ev in part.tick(d):
                out += self._route(ev)
        raise RuntimeError("gesture machine did not settle")  # a bug: some deadline never moves on

    def next_deadline(self) -> int | None:
        due = [d for part in self._parts() if (d := part.next_deadline()) is not None]
        return min(due) if due else None

    def _parts(self):
        return (*self.contacts.values(), self.shutter, self.mode)

    def _route(self, ev) -> list[Gesture]:
        if isinstance(ev, Gesture):
            return [ev]
        if isinstance(ev, Fault):
            return [Gesture("fault", (ev.contact, ev.kind), ev.t_ns)]
        if ev.contact == "mode":
            return self.mode.change(ev)
        return self.shutter.change(ev)
