"""Status LED patterns and the frame signal on MockFactory pins, timed with gpiozero's assert_states_and_times."""

import time

import pytest

from firmware.actions import LedState
from firmware.clock import SystemClock
from firmware.config import Config
from firmware.config.model import StatusConfig
from firmware.board_profile import load_profile
from firmware.gpio import StatusLeds, attach_controls, open_board
from firmware.gpio.status import STEADY_ON, Pattern, pattern_for, sos


@pytest.fixture
def board():
    b = open_board("mock")
    yield b
    b.close()


def leds(board, **cfg):
    """Status LED on pin 23 and a buzzer on pin 24, already showing READY (steady on)."""
    config = StatusConfig(**cfg)
    s = StatusLeds(board.output(23), board.output(24), frame_kind="buzzer", config=config, clock=SystemClock())
    s.led_state(LedState.READY)
    time.sleep(0.05)
    led, buzzer = board.mock_pin(23), board.mock_pin(24)
    assert led.state is True and buzzer.state is False
    led.clear_states()
    buzzer.clear_states()
    return s, led, buzzer


def check(pin, expected):
    assert len(pin.states) >= len(expected), pin.states
    pin.assert_states_and_times(expected)


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


def test_status_led_busy_fast_blink(board):
    s, led, _ = leds(board)
    s.led_state(LedState.BUSY)
    time.sleep(0.45)
    s.close()
    check(led, [(0.0, True), (0.1, False), (0.1, True), (0.1, False), (0.1, True)])


def test_status_led_low_storage_slow_blink(board):
    s, led, _ = leds(board, slow_blink_time=0.25)
    s.led_state(LedState.LOW_STORAGE)
    time.sleep(0.6)
    s.close()
    check(led, [(0.0, True), (0.25, False), (0.25, True)])


def test_status_led_error_sos(board):
    s, led, _ = leds(board, sos_unit_time=0.04)
    s.led_state(LedState.ERROR)
    time.sleep(34 * 0.04 + 0.1)
    s.close()
    steps = sos(0.04)
    check(led, changes(steps + steps[:1]))


def test_status_led_error_long_blinks(board):
    s, led, _ = leds(board, error_pattern="long", long_blink_time=0.3)
    s.led_state(LedState.ERROR)
    time.sleep(0.9)
    s.close()
    check(led, [(0.0, True), (0.3, False), (0.5, True)])


def test_status_capturing_flashes_per_frame_and_buzzes(board):
    s, led, buzzer = leds(board, flash_time=0.05, beep_time=0.03)
    s.led_state(LedState.CAPTURING)
    s.frame_taken()
    time.sleep(0.2)
    s.frame_taken()
    time.sleep(0.15)
    s.close()
    check(led, [(0.0, True), (0.0, False), (0.05, True), (0.15, False), (0.05, True)])
    check(buzzer, [(0.0, False), (0.0, True), (0.03, False), (0.17, True), (0.03, False)])


def test_status_ready_is_steady_and_error_does_not_flash(board):
    s, led, buzzer = leds(board)
    time.sleep(0.3)
    assert led.states[1:] == []  # no change at all while ready
    buzzer.clear_states()
    s.led_state(LedState.ERROR)
    s.frame_taken()
    time.sleep(0.05)
    assert len(led.states) == 1  # SOS starts with a 0.15 s dot: still on, no flash inverted it
    s.close()
    check(buzzer, [(0.0, False), (0.0, True)])  # the buzzer still marks the frame


def test_status_close_turns_the_led_off(board):
    s, led, _ = leds(board)
    s.close()
    assert led.state is False
    s.close()  # idempotent


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
    controls = attach_controls(load_profile("mock"), board, Camera(), Config(), SystemClock())
    try:
        controls.status.led_state(LedState.READY)
        time.sleep(0.05)
        assert board.mock_pin(23).state is True
        buzzer = board.mock_pin(24)
        buzzer.clear_states()
        controls.status.frame_taken()
        time.sleep(0.3)
        assert [p.state for p in buzzer.states] == [False, True, False]  # the profile's buzzer beeped once
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
