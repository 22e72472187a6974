"""Status LED patterns and the frame signal, timed on the fake clock: each change is recorded at its exact
simulated nanosecond (the player's thread waits on the clock, and the test moves the clock from one change to
the next). One thin test drives gpiozero's MockFactory pins, for levels only."""

import pytest

from daemon_support import wait_until
from firmware.actions import LedState
from firmware.clock import FakeClock, SystemClock
from firmware.config import Config
from firmware.config.model import StatusConfig
from firmware.board_profile import load_profile
from firmware.gpio import StatusLeds, attach_controls, open_board
from firmware.gpio.status import STEADY_ON, Pattern, pattern_for, sos

NS = 1_000_000_000


@pytest.fixture
def board():
    b = open_board("mock")
    yield b
    b.close()


class Pin:
    """An output that notes (fake time, level) at every change."""

    def __init__(self, clock):
        self.clock = clock
        self.states: list[tuple[int, bool]] = []

    def set(self, level: bool) -> None:
        if not self.states or self.states[-1][1] != level:
            self.states.append((self.clock.monotonic_ns(), level))

    def clear(self) -> None:
        """Keep only the current level, stamped now (gpiozero's MockPin.clear_states)."""
        self.states = [(self.clock.monotonic_ns(), self.states[-1][1])]

    def changes(self) -> list[tuple[float, bool]]:
        """(seconds since the previous change, level), as gpiozero's assert_states_and_times takes them."""
        out, prev = [], self.states[0][0]
        for t, level in self.states:
            out.append((round((t - prev) / NS, 6), level))
            prev = t
        return out


def leds(**cfg):
    """Status LED and buzzer on recording pins and a fake clock, already showing READY (steady on)."""
    clock = FakeClock(start_ns=5 * NS)
    led, buzzer = Pin(clock), Pin(clock)
    s = StatusLeds(led, buzzer, frame_kind="buzzer", config=StatusConfig(**cfg), clock=clock)
    s.led_state(LedState.READY)
    assert s.settle()
    assert led.states[-1][1] is True and buzzer.states[-1][1] is False
    led.clear()
    buzzer.clear()
    return s, clock, led, buzzer


def run(s, clock, seconds):
    """Move the fake clock ``seconds`` on, stopping at every change the players have scheduled."""
    end = clock.monotonic_ns() + round(seconds * NS)
    while True:
        assert s.settle()
        nxt = s.next_change_ns
        if nxt is None or nxt > end:
            clock.sleep_until(end)
            assert s.settle()
            return
        clock.sleep_until(nxt)


def changes(steps, start_level=True):
    """The (seconds since the previous change, level) a pin records playing ``steps`` from ``start_level``."""
    out = [(0.0, start_level)]
    for (_, prev_s), (level, _) in zip(steps, steps[1:]):
        out.append((prev_s, level))
    return out


def test_status_patterns_are_the_documented_ones():
    cfg = StatusConfig()
    assert pattern_for(LedState.READY) == STEADY_ON == pattern_for(LedState.CAPTURING)
    assert pattern_for(LedState.BUSY, cfg).steps == ((True, 0.1), (False, 0.1))
    assert pattern_for(LedState.LOW_STORAGE, cfg).steps == ((True, 1.0), (False, 1.0))
    assert pattern_for(LedState.ERROR, StatusConfig(error_pattern="long")).steps == ((True, 1.5), (False, 0.5))
    s = sos(1.0)
    assert [on for on, _ in s[::2]] == [True] * 9 and [off for off, _ in s[1::2]] == [False] * 9
    assert [d for _, d in s[::2]] == [1, 1, 1, 3, 3, 3, 1, 1, 1]  # ... --- ...
    assert [d for _, d in s[1::2]] == [1, 1, 3, 1, 1, 3, 1, 1, 7]
    assert Pattern(s).period == 34
    booting = pattern_for(LedState.BOOTING)
    assert booting.repeat and booting.steps[0] == (True, 0.1)


def test_pattern_position_and_next_change():
    p = Pattern(((True, 0.1), (False, 0.3)))
    assert p.at(0.0) == (True, pytest.approx(0.1))
    assert p.at(0.25) == (False, pytest.approx(0.15))
    assert p.at(0.45)[0] is True  # repeats
    assert STEADY_ON.at(1e6) == (True, None)


def test_status_led_busy_fast_blink():
    s, clock, led, _ = leds()
    s.led_state(LedState.BUSY)
    run(s, clock, 0.45)
    s.close()
    assert led.changes()[:5] == [(0.0, True), (0.1, False), (0.1, True), (0.1, False), (0.1, True)]


def test_status_led_low_storage_slow_blink():
    s, clock, led, _ = leds(slow_blink_time=0.25)
    s.led_state(LedState.LOW_STORAGE)
    run(s, clock, 0.6)
    s.close()
    assert led.changes()[:3] == [(0.0, True), (0.25, False), (0.25, True)]


def test_status_led_error_sos():
    s, clock, led, _ = leds(sos_unit_time=0.04)
    s.led_state(LedState.ERROR)
    run(s, clock, 2 * 34 * 0.04 + 0.01)  # twice the whole word, and the start of a third
    s.close()
    steps = sos(0.04)
    assert led.changes()[:37] == changes(steps + steps + steps[:1])


def test_status_led_error_long_blinks():
    s, clock, led, _ = leds(error_pattern="long", long_blink_time=0.3)
    s.led_state(LedState.ERROR)
    run(s, clock, 0.9)
    s.close()
    assert led.changes()[:3] == [(0.0, True), (0.3, False), (0.5, True)]


def test_status_capturing_flashes_per_frame_and_buzzes():
    s, clock, led, buzzer = leds(flash_time=0.05, beep_time=0.03)
    s.led_state(LedState.CAPTURING)
    s.frame_taken()
    run(s, clock, 0.2)
    s.frame_taken()
    run(s, clock, 0.15)
    s.close()
    assert led.changes()[:5] == [(0.0, True), (0.0, False), (0.05, True), (0.15, False), (0.05, True)]
    assert buzzer.changes()[:5] == [(0.0, False), (0.0, True), (0.03, False), (0.17, True), (0.03, False)]


def test_status_ready_is_steady_and_error_does_not_flash():
    s, clock, led, buzzer = leds()
    run(s, clock, 30.0)
    assert led.changes() == [(0.0, True)] and s.next_change_ns is None  # no change at all while ready
    s.led_state(LedState.ERROR)
    s.frame_taken()
    run(s, clock, 0.149)
    assert led.changes() == [(0.0, True)]  # SOS starts with a 0.15 s dot: still on, no flash inverted it
    assert [level for _, level in buzzer.changes()] == [False, True, False]  # the buzzer still marks the frame
    s.close()


def test_status_close_turns_the_led_off():
    s, _, led, _ = leds()
    s.close()
    assert led.states[-1][1] is False
    s.close()  # idempotent


def test_a_busy_thread_shows_a_flash_late_but_whole():
    """A flash counts from when the player gets to it: asked for at t and first seen at t + 0.2 s (the player
    held off meanwhile, as on a machine too busy to run it), it still lasts its full 0.05 s."""
    s, clock, led, _ = leds(flash_time=0.05)
    s.led_state(LedState.CAPTURING)
    run(s, clock, 0.01)
    with s._led._cond:
        s.frame_taken()
        clock.advance(0.2)
    run(s, clock, 0.1)
    s.close()
    assert led.changes()[:3] == [(0.0, True), (0.21, False), (0.05, True)]


def test_status_without_outputs_is_a_quiet_listener():
    s = StatusLeds()
    s.led_state(LedState.BUSY)
    s.frame_taken()
    s.close()
    assert s.state is LedState.BUSY


class Camera:
    def __getattr__(self, name):
        return lambda *a: None


def test_controls_expose_the_profile_leds_as_status_listener(board):
    """The thin adapter test: the profile's real MockFactory pins get the levels (no timing asserted)."""
    controls = attach_controls(load_profile("mock"), board, Camera(), Config(), SystemClock())
    try:
        controls.status.led_state(LedState.READY)
        assert wait_until(lambda: board.mock_pin(23).state is True, timeout=10)
        buzzer = board.mock_pin(24)
        buzzer.clear_states()
        controls.status.frame_taken()
        assert wait_until(lambda: [p.state for p in buzzer.states] == [False, True, False], timeout=10)
    finally:
        controls.close()
    assert board.mock_pin(23).state is False


def test_controls_leave_the_led_alone_when_disabled(board):
    import dataclasses

    cfg = dataclasses.replace(Config(), status=StatusConfig(led=False, frame_signal=False))
    controls = attach_controls(load_profile("mock"), board, Camera(), cfg, SystemClock())
    try:
        out = board.output(23)  # still free
        out.set(True)
        board.output(24)
    finally:
        controls.close()
