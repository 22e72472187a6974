"""Buttons on gpiozero's MockFactory pins, through the controls, to CameraActions (simulated and real time)."""

import dataclasses
import logging
import threading
import time

import pytest

from firmware import paths
from firmware.actions import DriveMode, next_drive_mode, parse_drive_modes as drive_modes
from firmware.board_profile import InputLine, load_profile, loads_profile
from firmware.clock import FakeClock, SystemClock
from firmware.config import Config
from firmware.config.model import ControlsConfig
from firmware.errors import CaptureRefused, GpioError
from firmware.gpio import MockButtons, attach_controls, open_board
from firmware.gpio.board import GpioBoard
from firmware.gpio.controls import pressed_level

from daemon_support import wait_until


MOCK_TEXT = (paths.hw_dir() / "mock.toml").read_text()


class Camera:
    """A CameraActions that records every call (name, args); a trigger is recorded as the gesture it was:
    ``("shutter", t)`` for a press, ``("burst", True, t)`` for a held shutter, ``("burst", False, t)`` its release."""

    def __init__(self, fail=None):
        self.calls = []
        self.fail = fail or {}
        self.event = threading.Event()

    def _rec(self, *call):
        self.calls.append(call)
        self.event.set()
        if call[0] in self.fail:
            raise self.fail[call[0]]

    def half_press(self, pressed, t_ns):
        self._rec("half_press", pressed, t_ns)

    def trigger(self, request):
        if request.hold:
            self._rec("burst", True, request.press_ns)
        else:
            self._rec("shutter", request.press_ns)

    def release(self, t_ns):
        self._rec("burst", False, t_ns)

    def cycle_drive_mode(self):
        self._rec("cycle_drive_mode")
        return DriveMode.BURST

    def cycle_look(self):
        self._rec("cycle_look")
        return "leica-vibrant"

    def toggle_raw(self):
        self._rec("toggle_raw")
        return False

    def names(self):
        return [c[0] for c in self.calls]


def config(**controls):
    return dataclasses.replace(Config(), controls=ControlsConfig(**controls))


@pytest.fixture
def rig():
    """Mock board + mock profile + controls in simulated time; ``rig.buttons`` sleeps by advancing the clock."""
    made = []

    def make(profile=None, cfg=None, camera=None, before_attach=None):
        clock = FakeClock(start_ns=5_000_000_000)
        board = open_board("mock", clock=clock)
        profile = profile or load_profile("mock")
        if before_attach:
            before_attach(board)
        camera = camera or Camera()
        controls = attach_controls(profile, board, camera, cfg or Config(), clock, threaded=False)

        def sleep(seconds):
            clock.advance(seconds)
            controls.pump()

        r = type("Rig", (), dict(clock=clock, board=board, camera=camera, controls=controls,
                                 buttons=MockButtons(board, profile, sleep=sleep), sleep=staticmethod(sleep)))
        made.append(r)
        return r

    yield make
    for r in made:
        r.controls.close()
        r.board.close()


def test_controls_two_stage_shutter_through_mock_pins(rig):
    r = rig()
    r.buttons.shutter(hold=0.06, half=0.2)
    r.sleep(0.05)
    assert r.camera.calls == [("half_press", True, 5_000_000_000), ("shutter", 5_200_000_000),
                              ("half_press", False, 5_260_000_000)]
    assert r.controls.pins == {"shutter": 17, "half_press": 27, "mode": 22}


@pytest.mark.parametrize("hold, burst", [(0.59, False), (0.61, True)])
def test_controls_shutter_hold_just_under_and_over_burst_time(rig, hold, burst):
    r = rig()
    r.buttons.press("shutter", hold)
    r.sleep(1.0)
    assert r.camera.names() == (["shutter", "burst", "burst"] if burst else ["shutter"])
    if burst:
        assert r.camera.calls[1] == ("burst", True, 5_600_000_000)


def test_controls_one_contact_mode_ignores_the_half_press_pin(rig):
    r = rig(cfg=config(shutter_contacts="one"))
    assert "half_press" not in r.controls.pins
    r.buttons.set("half_press", True)  # nothing listens on GPIO27
    r.buttons.press("shutter", 0.05)
    r.sleep(0.05)
    assert r.camera.names() == ["shutter"]


def test_controls_two_contacts_required_but_not_wired_is_an_error(rig):
    text = MOCK_TEXT.replace("[controls.half_press]  # S1, half press: BCM 27\npin = 27\npull = \"up\"\nactive = \"low\"\n", "")
    one = loads_profile(text, source="one")
    assert one.controls.half_press is None
    with pytest.raises(GpioError, match="no \\[controls.half_press\\]"):
        rig(profile=one, cfg=config(shutter_contacts="two"))


@pytest.mark.parametrize("gesture, setting, expected", [
    ("click", "drive_mode", "cycle_drive_mode"), ("double", "look", "cycle_look"), ("hold", "raw", "toggle_raw")])
def test_controls_mode_button_gestures(rig, gesture, setting, expected):
    r = rig()
    if gesture == "click":
        r.buttons.press("mode", 0.05)
    elif gesture == "double":
        r.buttons.press("mode", 0.05)
        r.sleep(0.1)
        r.buttons.press("mode", 0.05)
    else:
        r.buttons.press("mode", 1.2)
    r.sleep(0.5)
    assert r.camera.names() == [expected]


@pytest.mark.parametrize("hold, name", [(0.99, "cycle_drive_mode"), (1.01, "toggle_raw")])
def test_controls_mode_hold_time_edge(rig, hold, name):
    r = rig()
    r.buttons.press("mode", hold)
    r.sleep(0.5)
    assert r.camera.names() == [name]


def test_controls_gestures_are_remappable(rig):
    r = rig(cfg=config(mode_click="raw", mode_double_click="none", mode_hold="look"))
    r.buttons.press("mode", 0.05)
    r.controls.pump()  # no time passes: no double-click window to wait for
    assert r.camera.names() == ["toggle_raw"]
    r.sleep(0.2)
    r.buttons.press("mode", 1.5)
    assert r.camera.names() == ["toggle_raw", "cycle_look"]


def test_controls_bounce_on_the_pin_is_one_shot(rig):
    r = rig()
    pin = r.buttons.pin("shutter")
    for _ in range(4):  # 0.5 ms bounce
        pin.drive_low()
        r.sleep(0.0005)
        pin.drive_high()
        r.sleep(0.0005)
    pin.drive_low()
    r.sleep(0.1)
    for _ in range(4):
        pin.drive_high()
        r.sleep(0.0005)
        pin.drive_low()
        r.sleep(0.0005)
    pin.drive_high()
    r.sleep(0.5)
    assert r.camera.names() == ["shutter"]
    assert r.camera.calls[0][1] == 5_000_000_000  # the first edge's time: debounce adds no lag


def test_controls_chattering_pin_never_floods_the_camera(rig, caplog):
    r = rig()
    pin = r.buttons.pin("shutter")
    with caplog.at_level(logging.WARNING, logger="firmware.gpio.controls"):
        for _ in range(500):  # 10 s of a switch closing and opening every 20 ms
            pin.drive_low()
            r.sleep(0.01)
            pin.drive_high()
            r.sleep(0.01)
    shots = r.camera.names().count("shutter")
    assert 1 <= shots <= 10
    assert "chattering" in caplog.text and "GPIO17 (shutter)" in caplog.text


def test_controls_stuck_button_at_start_is_ignored_until_released(rig, caplog):
    # A floating line (external pull-up) held low from outside: the button is down while camerad starts.
    text = MOCK_TEXT.replace('pin = 17\npull = "up"', 'pin = 17\npull = "off"')
    profile = loads_profile(text, source="floating")
    with caplog.at_level(logging.WARNING, logger="firmware.gpio.controls"):
        r = rig(profile=profile, before_attach=lambda b: b.mock_pin(17).drive_low())
    assert "held down" in caplog.text
    r.sleep(40)
    assert r.camera.calls == []
    r.buttons.set("shutter", False)
    r.sleep(0.1)
    r.buttons.press("shutter", 0.05)
    r.sleep(0.05)
    assert r.camera.names() == ["shutter"]


def _nc_profile(switch, pull="off"):
    text = MOCK_TEXT.replace('pin = 17\npull = "up"\nactive = "low"', f'pin = 17\npull = "{pull}"\nactive = "low"\nswitch = "{switch}"')
    return loads_profile(text, source="nc")


def test_controls_normally_closed_switch_configured(rig):
    # NC contact to GND with a pull-up: idle low, pressed (contact opens) high.
    r = rig(profile=_nc_profile("nc"), before_attach=lambda b: b.mock_pin(17).drive_low())
    pin = r.buttons.pin("shutter")
    pin.drive_high()
    r.sleep(0.05)
    pin.drive_low()
    r.sleep(0.05)
    assert r.camera.names() == ["shutter"]


def test_controls_normally_closed_switch_detected(rig, caplog):
    with caplog.at_level(logging.INFO, logger="firmware.gpio.controls"):
        r = rig(profile=_nc_profile("auto"), before_attach=lambda b: b.mock_pin(17).drive_low())
    assert "normally-closed" in caplog.text
    r.buttons.pin("shutter").drive_high()
    r.sleep(0.05)
    assert r.camera.names() == ["shutter"]


def test_controls_normally_open_detected_by_auto(rig):
    r = rig(profile=_nc_profile("auto", pull="up"))
    r.buttons.press("shutter", 0.05)
    assert r.camera.names() == ["shutter"]


def test_pressed_level_rules():
    assert pressed_level(InputLine(pin=1, active="low"), True) is False
    assert pressed_level(InputLine(pin=1, active="low", switch="nc"), False) is True
    assert pressed_level(InputLine(pin=1, active="high"), False) is True
    assert pressed_level(InputLine(pin=1, switch="auto"), True) is False
    assert pressed_level(InputLine(pin=1, switch="auto"), False) is True


def test_controls_camera_errors_are_logged_and_controls_carry_on(rig, caplog):
    cam = Camera(fail={"shutter": CaptureRefused("capture queue is full")})
    r = rig(camera=cam)
    with caplog.at_level(logging.WARNING, logger="firmware.gpio.controls"):
        r.buttons.press("shutter", 0.05)
        r.sleep(0.2)
        r.buttons.press("shutter", 0.05)
    assert cam.names() == ["shutter", "shutter"]
    assert "refused: capture queue is full" in caplog.text


def test_controls_threaded_real_time_press(tmp_path):
    board = open_board("mock")
    profile = load_profile("mock")
    cam = Camera()
    controls = attach_controls(profile, board, cam, Config(), SystemClock())
    try:
        t0 = time.monotonic_ns()
        MockButtons(board, profile).press("shutter", 0.7)  # past the burst hold time, in real time
        assert wait_until(lambda: cam.names() == ["shutter", "burst", "burst"], timeout=30)
        assert t0 <= cam.calls[0][1]  # the edge's time (how late the gesture thread ran does not matter)
        assert abs(cam.calls[1][2] - cam.calls[0][1] - 600_000_000) < 1000  # burst stamped at press + hold
    finally:
        controls.close()
        controls.close()  # idempotent
        board.close()


def test_open_board_env_override_and_errors(monkeypatch):
    monkeypatch.setenv("CAMERAD_GPIO_BACKEND", "mock")
    board = open_board("gpiozero")
    assert board.is_mock and board.name == "mock"
    board.close()
    monkeypatch.setenv("CAMERAD_GPIO_BACKEND", "spi")
    with pytest.raises(GpioError, match="not one of"):
        open_board()
    monkeypatch.delenv("CAMERAD_GPIO_BACKEND")
    assert open_board("auto", profile=load_profile("mock")).is_mock
    with pytest.raises(GpioError, match="mock GPIO board"):
        GpioBoard(None).mock_pin(17)


def test_legacy_button_still_works_for_the_daemon():
    board = open_board("mock")
    hits = []
    board.button(17, when_pressed=lambda: hits.append("down"), when_released=lambda: hits.append("up"))
    board.mock_pin(17).drive_low()
    board.mock_pin(17).drive_high()
    assert hits == ["down", "up"]
    with pytest.raises(GpioError, match="GPIO17"):
        board.button(17)  # the line is taken
    board.close()


def test_drive_mode_cycle_from_config():
    modes = drive_modes(ControlsConfig().drive_modes)
    assert modes == (DriveMode.SINGLE, DriveMode.BURST, DriveMode.BRACKET, DriveMode.TIMELAPSE)
    assert next_drive_mode(DriveMode.TIMELAPSE, modes) == DriveMode.SINGLE
    short = drive_modes("single, timelapse,single")
    assert short == (DriveMode.SINGLE, DriveMode.TIMELAPSE)
    assert next_drive_mode(DriveMode.BURST, short) == DriveMode.SINGLE


def test_controls_press_reaches_the_capture_engine_and_zsl_picks_the_exposing_frame(mock_sensor):
    """The whole path on the mock: pin edge → controls → engine.capture(t) → the frame exposing at t."""
    from firmware.capture.engine import CaptureEngine
    from firmware.capture.state import EngineSettings

    class Probe:  # the writer: report the frame the engine picked, render nothing
        def write(self, frame, press_ns, wall_ns, info=None):
            end = frame.exposure_start_ns + 1000 * int(frame.metadata["FrameDuration"])
            return press_ns, frame.exposure_start_ns, end

    class EngineCamera(Camera):
        def trigger(self, request):
            self.futures.append(engine.capture(request.press_ns))

    cam = mock_sensor(mode="1332x990", clk=SystemClock(), start=False)
    engine = CaptureEngine(cam, Probe(), EngineSettings(zsl=True, ring_size=3), clock=SystemClock())
    engine.start()
    board = open_board("mock")
    profile = load_profile("mock")
    camera = EngineCamera()
    camera.futures = []
    controls = attach_controls(profile, board, camera, Config(), SystemClock())
    try:
        assert engine.wait_for_frame(10)
        buttons = MockButtons(board, profile)
        for hold in (0.03, 0.05, 0.04):
            buttons.shutter(hold=hold, half=0.02)
            time.sleep(0.13)
        picked = [f.result(timeout=10) for f in camera.futures]
    finally:
        controls.close()
        board.close()
        engine.stop()
    assert len(picked) == 3
    for press, start, end in picked:
        assert start <= press < end  # zero shutter lag: the frame under exposure at the press


def test_open_board_off_the_pi_says_what_to_do(monkeypatch):
    import warnings

    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    monkeypatch.setattr("firmware.gpio.board.detect_board", lambda: "host")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gpiozero's PinFactoryFallback on its way down the list
        with pytest.raises(GpioError, match="gpio.backend = \"mock\" off the Pi"):
            open_board("gpiozero")


def test_open_board_on_a_pi5_asks_for_lgpio(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_lgpio(name, *args, **kw):
        if name in ("lgpio", "gpiozero.pins.lgpio"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kw)

    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_lgpio)
    with pytest.raises(GpioError, match="python3-lgpio"):
        open_board("auto", profile=load_profile("rpi5"))
