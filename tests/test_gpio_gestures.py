"""The gesture machine in simulated time: every gesture, the timing edges, bounce, stuck and chattering contacts."""

import dataclasses

import pytest

from firmware.config.model import ControlsConfig
from firmware.gpio.contact import Change, Contact, ContactTiming, Fault
from firmware.gpio.gestures import GestureMachine, GestureTiming

MS = 1_000_000
T = GestureTiming()  # debounce 15 ms, burst hold 600 ms, min shot interval 100 ms, mode hold 1 s, double 350 ms


class Run:
    """Drive a machine with (contact, pressed, ms) edges and ticks; collect (name, value, ms)."""

    def __init__(self, timing=T, contacts=("half", "full", "mode"), **kw):
        self.m = GestureMachine(timing, contacts=contacts, **kw)
        self.out = []

    def edge(self, contact, pressed, ms):
        self._add(self.m.edge(contact, pressed, int(ms * MS)))
        return self

    def tick(self, ms):
        self._add(self.m.tick(int(ms * MS)))
        return self

    def press(self, contact, at, hold):
        return self.edge(contact, True, at).edge(contact, False, at + hold)

    def _add(self, gestures):
        self.out += [(g.name, g.value, g.t_ns / MS) for g in gestures]

    def names(self):
        return [n for n, _, _ in self.out if n not in ("ignored",)]


def test_gesture_two_stage_shutter_half_press_then_capture_then_release():
    r = Run().edge("half", True, 0).edge("full", True, 200).edge("full", False, 260).edge("half", False, 400)
    assert r.out == [("half_press", True, 0), ("shutter", None, 200), ("half_press", False, 400)]


def test_gesture_half_press_released_before_full_contact_opens_waits_for_both():
    # S1 opening first (odd wiring): the lock holds until the full press has gone too.
    r = Run().edge("half", True, 0).edge("full", True, 100).edge("half", False, 150).edge("full", False, 300)
    assert r.out == [("half_press", True, 0), ("shutter", None, 100), ("half_press", False, 300)]


def test_gesture_full_press_alone_captures_at_the_press_time():
    r = Run().press("full", 1000, 50)
    assert r.out == [("shutter", None, 1000)]


@pytest.mark.parametrize("held_ms, bursts", [(599, False), (600, True), (601, True)])
def test_gesture_burst_starts_exactly_at_the_hold_time(held_ms, bursts):
    r = Run().edge("full", True, 0).tick(held_ms - 1).edge("full", False, held_ms)
    expected = [("shutter", None, 0)]
    if bursts:
        expected += [("burst", True, 600), ("burst", False, held_ms)]
    assert r.out == expected


def test_gesture_burst_is_reported_when_the_release_comes_before_any_tick():
    # The worker may be late: an edge first settles every deadline before it, in order.
    r = Run().edge("full", True, 0).edge("full", False, 2000)
    assert r.out == [("shutter", None, 0), ("burst", True, 600), ("burst", False, 2000)]


def test_gesture_burst_disabled_makes_a_hold_one_shot():
    t = GestureTiming.from_config(ControlsConfig(burst=False))
    assert Run(t).edge("full", True, 0).tick(5000).edge("full", False, 5000).names() == ["shutter"]


def test_gesture_one_contact_shutter_press_and_hold():
    r = Run(contacts=("full",)).press("full", 0, 80).press("full", 500, 900)
    assert r.names() == ["shutter", "shutter", "burst", "burst"]


def test_gesture_bounce_on_press_and_release_gives_one_shot():
    r = Run()
    for i, ms in enumerate([0, 1, 2.5, 4, 6]):  # closing contact bounces, settles closed
        r.edge("full", i % 2 == 0, ms)
    r.tick(30)
    for i, ms in enumerate([80, 81, 83, 84, 86]):  # opening contact bounces, settles open
        r.edge("full", i % 2 == 1, ms)
    r.tick(200)
    assert r.names() == ["shutter"]


def test_gesture_release_during_bounce_window_is_seen_when_the_window_ends():
    # A 5 ms tap: the release falls inside the debounce window and is taken at its end, with its own time
    # (5 ms), so the double-click window runs from 5 ms.
    r = Run().edge("mode", True, 0).edge("mode", False, 5).tick(14)
    assert r.out == [] and r.m.contacts["mode"].pressed
    r.tick(15)
    assert not r.m.contacts["mode"].pressed
    r.tick(400)
    assert r.out == [("click", None, 355)]


@pytest.mark.parametrize("gap_ms, names", [(349, ["double_click"]), (350, ["click", "click"])])
def test_gesture_double_click_window_edge(gap_ms, names):
    r = Run().press("mode", 0, 50).press("mode", 50 + gap_ms, 50).tick(3000)
    assert r.names() == names


@pytest.mark.parametrize("held_ms, name", [(999, "click"), (1000, "hold")])
def test_gesture_mode_hold_edge(held_ms, name):
    r = Run().edge("mode", True, 0).tick(held_ms - 1).edge("mode", False, held_ms).tick(held_ms + 400)
    assert r.names() == [name]
    if name == "hold":
        assert r.out[0][2] == 1000  # fires while the button is still down


def test_gesture_single_click_waits_for_the_double_click_window():
    r = Run().press("mode", 0, 50)
    assert r.out == []
    r.tick(399)
    assert r.out == []
    r.tick(400)
    assert r.out == [("click", None, 400)]


def test_gesture_click_is_immediate_without_double_click():
    t = GestureTiming.from_config(ControlsConfig(mode_double_click="none"))
    assert Run(t).press("mode", 0, 50).out == [("click", None, 50)]


def test_gesture_long_press_is_a_click_when_hold_is_off():
    t = GestureTiming.from_config(ControlsConfig(mode_hold="none", mode_double_click="none"))
    assert Run(t).edge("mode", True, 0).tick(5000).edge("mode", False, 5000).names() == ["click"]


def test_gesture_hold_then_release_and_second_press_hold_are_single_actions():
    r = Run().edge("mode", True, 0).tick(3000).edge("mode", False, 3000).tick(4000)
    assert r.names() == ["hold"]
    r = Run().press("mode", 0, 50).edge("mode", True, 200).tick(2000).edge("mode", False, 2000).tick(3000)
    assert r.names() == ["double_click"]


def test_gesture_shots_closer_than_min_interval_are_ignored():
    r = Run().press("full", 0, 30).press("full", 60, 30).press("full", 100, 30)
    assert [n for n, _, _ in r.out] == ["shutter", "ignored", "shutter"]


def test_gesture_stuck_shutter_ends_its_burst_and_is_ignored_until_released():
    r = Run().edge("full", True, 0).tick(31_000)
    assert r.out == [("shutter", None, 0), ("burst", True, 600), ("fault", ("full", "stuck"), 30_000),
                     ("burst", False, 30_000)]
    r.out.clear()
    r.edge("full", False, 40_000).tick(40_014)
    assert r.out == []
    r.tick(40_015)
    assert r.out == [("fault", ("full", "recovered"), 40_015)]
    r.out.clear()
    r.press("full", 41_000, 50)
    assert r.names() == ["shutter"]


def test_gesture_stuck_half_press_releases_the_lock():
    r = Run().edge("half", True, 0).tick(30_000)
    assert r.out == [("half_press", True, 0), ("fault", ("half", "stuck"), 30_000), ("half_press", False, 30_000)]


def test_gesture_contact_pressed_at_start_never_fires():
    r = Run(pressed_at_start={"full": True})
    assert [(g.name, g.value) for g in r.m.faults] == [("fault", ("full", "stuck"))]
    r.tick(60_000).edge("full", False, 60_000).tick(60_020).press("full", 61_000, 50)
    assert r.names() == ["fault", "shutter"]  # recovered, then the first real press


def test_gesture_chattering_contact_is_bounded_then_recovers():
    t = dataclasses.replace(T, min_shot_interval_ns=0)
    r = Run(t)
    for i in range(100):  # a failing switch: a 20 ms "press" every 40 ms for 4 s
        r.press("full", i * 40, 20)
    r.tick(4000)
    shots = r.names().count("shutter")
    assert shots == T.contact.chatter_presses  # the tenth press within a second trips the guard
    assert ("fault", ("full", "chatter"), 360) in r.out
    r.out.clear()
    r.tick(3980 + 1999)
    assert r.out == []
    r.tick(3980 + 2000)  # quiet for chatter_quiet_time since the last release
    assert r.out == [("fault", ("full", "recovered"), 5980)]


def test_gesture_chattering_mode_button_ends_without_acting():
    r = Run(GestureTiming(contact=ContactTiming(chatter_presses=3)))
    r.press("mode", 0, 20).press("mode", 100, 20).edge("mode", True, 500).tick(5000)
    assert r.names() == ["double_click", "fault"]  # the third press trips the guard: no click, no hold


def test_gesture_machine_is_deterministic():
    def run():
        r = Run()
        for k in range(50):
            r.edge(("full", "mode", "half")[k % 3], k % 2 == 0, k * 37.5)
        return r.tick(100_000).out

    assert run() == run()


def test_contact_reports_changes_and_faults():
    c = Contact("x", ContactTiming(debounce_ns=10, stuck_ns=100))
    assert c.edge(True, 0) == [Change("x", True, 0)]
    assert c.next_deadline() == 100
    assert c.tick(100) == [Fault("x", "stuck", 100), Change("x", False, 100, forced=True)]
    assert c.edge(False, 150) == [] and c.tick(160) == [Fault("x", "recovered", 160)]


def test_timing_from_config_converts_seconds():
    t = GestureTiming.from_config(ControlsConfig(debounce_time=0.02, burst_hold_time=0.25, stuck_time=5.0))
    assert t.contact.debounce_ns == 20 * MS and t.burst_hold_ns == 250 * MS and t.contact.stuck_ns == 5000 * MS
