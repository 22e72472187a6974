"""The gpiod v2 board against a fake ``gpiod`` module built from libgpiod 2.x's documented Python API.

The fake keeps the real names and signatures (``gpiod.request_lines(path, config={offset: LineSettings}, consumer=)``,
``LineRequest.get_value/set_value/wait_edge_events/read_edge_events/release``, ``Chip.get_info().label``,
``Chip.get_line_info(offset).name``, ``gpiod.line.{Direction,Bias,Edge,Value,Clock}``,
``gpiod.EdgeEvent.Type.RISING_EDGE``) and simulates the lines behind them: a pull-up reads high until a button
pulls it low, and every level change becomes an edge event with a CLOCK_MONOTONIC timestamp.
"""

import dataclasses
import enum
import sys
import threading
import time
import types
from datetime import timedelta

import pytest

from firmware import paths
from firmware.actions import LedState
from firmware.clock import SystemClock
from firmware.config import Config
from firmware.errors import GpioError
from firmware.board_profile import load_profile, loads_profile
from firmware.gpio import attach_controls, open_board
from firmware.gpio.gpiod_board import GpiodBoard


def make_fake_gpiod(chips):
    """A ``gpiod`` module over ``chips``: {path: {"label": str, "names": {offset: name}}}."""
    g = types.ModuleType("gpiod")
    g.__version__ = "2.5.0"
    g.api_version = "2.2"
    line = types.ModuleType("gpiod.line")
    line.Value = enum.Enum("Value", {"INACTIVE": 0, "ACTIVE": 1})
    line.Direction = enum.Enum("Direction", "AS_IS INPUT OUTPUT")
    line.Bias = enum.Enum("Bias", "AS_IS UNKNOWN DISABLED PULL_UP PULL_DOWN")
    line.Drive = enum.Enum("Drive", "PUSH_PULL OPEN_DRAIN OPEN_SOURCE")
    line.Edge = enum.Enum("Edge", "NONE RISING FALLING BOTH")
    line.Clock = enum.Enum("Clock", "MONOTONIC REALTIME HTE")
    g.line = line

    @dataclasses.dataclass
    class LineSettings:
        direction: object = line.Direction.AS_IS
        edge_detection: object = line.Edge.NONE
        bias: object = line.Bias.AS_IS
        drive: object = line.Drive.PUSH_PULL
        active_low: bool = False
        debounce_period: timedelta = timedelta()
        event_clock: object = line.Clock.MONOTONIC
        output_value: object = line.Value.INACTIVE

    class EdgeEvent:
        Type = enum.Enum("Type", {"RISING_EDGE": 1, "FALLING_EDGE": 2})

        def __init__(self, event_type, timestamp_ns, line_offset, global_seqno, line_seqno):
            self.event_type, self.timestamp_ns, self.line_offset = event_type, timestamp_ns, line_offset
            self.global_seqno, self.line_seqno = global_seqno, line_seqno

    class RequestReleasedError(Exception):
        pass

    hw = types.SimpleNamespace(requests={}, outputs={}, seq=0)

    class LineRequest:
        def __init__(self, path, config, consumer):
            self.path, self.settings, self.consumer = path, dict(config), consumer
            self.events, self.cond, self.released = [], threading.Condition(), False
            self.levels = {}
            for off, s in self.settings.items():
                self.levels[off] = s.bias is not line.Bias.PULL_DOWN  # idle level from the bias
                if s.direction is line.Direction.OUTPUT:
                    hw.outputs[path, off] = (s.output_value is line.Value.ACTIVE) != s.active_low

        def _check(self):
            if self.released:
                raise RequestReleasedError("request released")

        def get_value(self, line):
            self._check()
            high = self.levels[line] != self.settings[line].active_low
            return g.line.Value.ACTIVE if high else g.line.Value.INACTIVE

        def set_value(self, line, value):
            self._check()
            hw.outputs[self.path, line] = (value is g.line.Value.ACTIVE) != self.settings[line].active_low

        def wait_edge_events(self, timeout=None):
            self._check()
            secs = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
            with self.cond:
                return self.cond.wait_for(lambda: self.events or self.released, secs) and not self.released

        def read_edge_events(self, max_events=None):
            self._check()
            with self.cond:
                out, self.events = self.events, []
            return out

        def release(self):
            with self.cond:
                self.released = True
                self.cond.notify_all()

        def drive(self, off, high, t_ns):
            """The outside world sets the line's level (a button closing to GND, say)."""
            if self.levels[off] == high:
                return
            self.levels[off] = high
            s = self.settings[off]
            if s.edge_detection in (line.Edge.BOTH, line.Edge.RISING if high else line.Edge.FALLING):
                hw.seq += 1
                kind = EdgeEvent.Type.RISING_EDGE if high != s.active_low else EdgeEvent.Type.FALLING_EDGE
                with self.cond:
                    self.events.append(EdgeEvent(kind, t_ns, off, hw.seq, hw.seq))
                    self.cond.notify_all()

    class Chip:
        def __init__(self, path):
            if path not in chips:
                raise FileNotFoundError(2, "No such file or directory", path)
            self.path = path

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def get_info(self):
            return types.SimpleNamespace(name=self.path.rsplit("/", 1)[-1], label=chips[self.path]["label"],
                                         num_lines=200)

        def get_line_info(self, off):
            return types.SimpleNamespace(offset=off, name=chips[self.path]["names"].get(off, ""), used=False)

    def request_lines(path, config, consumer=None, event_buffer_size=None, output_values=None):
        Chip(path)
        for off in config:
            if (path, off) in hw.requests and not hw.requests[path, off].released:
                raise OSError(16, "Device or resource busy")
        req = LineRequest(path, config, consumer)
        for off in config:
            hw.requests[path, off] = req
        return req

    g.LineSettings, g.EdgeEvent, g.Chip, g.request_lines = LineSettings, EdgeEvent, Chip, request_lines
    g.RequestReleasedError = RequestReleasedError
    g.hw = hw
    return g


RB5_NAMES = {4: "GPIO-A", 5: "GPIO-C", 6: "GPIO-E", 7: "GPIO-D", 136: "GPIO-B"}


@pytest.fixture
def gpiod(monkeypatch):
    fake = make_fake_gpiod({"/dev/gpiochip0": {"label": "pmic-gpio", "names": {}},
                            "/dev/gpiochip4": {"label": "f100000.pinctrl", "names": RB5_NAMES}})
    monkeypatch.setitem(sys.modules, "gpiod", fake)
    monkeypatch.setattr("firmware.gpio.gpiod_board.glob.glob", lambda pattern: ["/dev/gpiochip0", "/dev/gpiochip4"])
    return fake


def test_gpiod_input_reports_levels_and_kernel_timestamps(gpiod):
    board = GpiodBoard("/dev/gpiochip4")
    seen, got = [], threading.Event()
    line = board.input(4, pull="up", on_edge=lambda high, t: (seen.append((high, t)), got.set()))
    req = gpiod.hw.requests["/dev/gpiochip4", 4]
    s = req.settings[4]
    assert (s.direction, s.edge_detection, s.bias, s.event_clock) == (
        gpiod.line.Direction.INPUT, gpiod.line.Edge.BOTH, gpiod.line.Bias.PULL_UP, gpiod.line.Clock.MONOTONIC)
    assert req.consumer == "camerad" and line.level() is True
    req.drive(4, False, 123_456_789)
    assert got.wait(2)
    assert seen == [(False, 123_456_789)] and line.level() is False
    board.close()
    assert req.released


def test_gpiod_outputs_and_active_low(gpiod):
    board = GpiodBoard("4")
    led = board.output(7, active_high=True)
    inv = board.output(136, active_high=False)
    assert gpiod.hw.outputs["/dev/gpiochip4", 7] is False
    assert gpiod.hw.outputs["/dev/gpiochip4", 136] is True  # active-low line idles high
    led.set(True)
    inv.set(True)
    assert gpiod.hw.outputs["/dev/gpiochip4", 7] is True and gpiod.hw.outputs["/dev/gpiochip4", 136] is False
    board.close()


def test_gpiod_chip_by_label_and_line_name_check(gpiod):
    board = GpiodBoard("f100000.pinctrl")
    assert board.chip_path() == "/dev/gpiochip4"
    board.input(4, label="GPIO-A", on_edge=lambda *a: None)
    with pytest.raises(GpioError, match="line 5 is named 'GPIO-C', the board profile expects 'GPIO-A'"):
        board.output(5, label="GPIO-A")
    with pytest.raises(GpioError, match="no gpiochip labelled 'nope'.*f100000.pinctrl"):
        board.chip_path("nope")
    with pytest.raises(GpioError, match="line 4: cannot request the line: .*busy"):
        board.input(4, on_edge=lambda *a: None)
    board.close()
    with pytest.raises(GpioError, match="no gpiochip given"):
        GpiodBoard("").chip_path()


def test_gpiod_v1_api_and_missing_module_are_clear_errors(monkeypatch):
    v1 = types.ModuleType("gpiod")
    v1.__version__ = "1.6.3"
    monkeypatch.setitem(sys.modules, "gpiod", v1)
    with pytest.raises(GpioError, match="1.6.3 has the v1 API"):
        GpiodBoard("0")
    monkeypatch.setitem(sys.modules, "gpiod", None)
    with pytest.raises(GpioError, match="camerad\\[gpiod\\]"):
        open_board("gpiod")


def test_gpiod_legacy_button(gpiod):
    board = GpiodBoard("/dev/gpiochip4")
    hits, done = [], threading.Event()
    board.button(6, when_pressed=lambda: hits.append("down"), when_released=lambda: (hits.append("up"), done.set()))
    req = gpiod.hw.requests["/dev/gpiochip4", 6]
    req.drive(6, False, 1)
    req.drive(6, True, 2)
    assert done.wait(2) and hits == ["down", "up"]
    board.close()


class Camera:
    def __init__(self):
        self.calls, self.event = [], threading.Event()

    def trigger(self, request):
        self.calls.append(("shutter", request.press_ns))
        self.event.set()

    def __getattr__(self, name):
        return lambda *a: self.calls.append((name, *a))


def test_gpiod_rb5_profile_drives_the_controls(gpiod):
    profile = load_profile("qcom-rb5")
    board = open_board("auto", profile=profile)
    assert isinstance(board, GpiodBoard)
    cam = Camera()
    controls = attach_controls(profile, board, cam, Config(), SystemClock())
    try:
        assert controls.pins == {"shutter": 4, "half_press": 5, "mode": 6}
        req = gpiod.hw.requests["/dev/gpiochip4", 4]
        t = time.monotonic_ns()
        req.drive(4, False, t)  # GPIO-A to GND: full press
        assert cam.event.wait(2)
        assert cam.calls == [("shutter", t)]  # the kernel's edge timestamp is the press time
        req.drive(4, True, t + 50_000_000)
        controls.status.led_state(LedState.READY)
        assert controls.status.settle()  # the LED's thread has played it (no wall-clock wait)
        assert gpiod.hw.outputs["/dev/gpiochip4", 7] is True  # status LED on GPIO-D
    finally:
        controls.close()
        board.close()


def test_gpiod_profile_on_the_wrong_chip_is_caught(gpiod):
    text = (paths.hw_dir() / "qcom-rb5.toml").read_text().replace('chip = "f100000.pinctrl"', 'chip = "pmic-gpio"')
    profile = loads_profile(text, source="wrong-chip")
    board = open_board("gpiod", profile=profile)
    with pytest.raises(GpioError, match="/dev/gpiochip0 line 7 is named '', the board profile expects 'GPIO-D'"):
        attach_controls(profile, board, Camera(), Config(), SystemClock())
    board.close()


def test_fake_gpiod_mirrors_the_real_package():
    """The fake above must keep the names, fields and methods of the installed libgpiod 2.x bindings."""
    import importlib
    import inspect

    real = pytest.importorskip("gpiod")
    importlib.import_module("gpiod.line")
    fake = make_fake_gpiod({})
    assert real.__version__.startswith("2.")
    for enum_name in ("Value", "Direction", "Bias", "Drive", "Edge", "Clock"):
        assert {m.name for m in getattr(fake.line, enum_name)} == {m.name for m in getattr(real.line, enum_name)}
    assert {m.name for m in fake.EdgeEvent.Type} == {m.name for m in real.EdgeEvent.Type}
    assert [f.name for f in dataclasses.fields(fake.LineSettings)] == \
        [f.name for f in dataclasses.fields(real.LineSettings)]
    assert list(inspect.signature(fake.request_lines).parameters) == \
        list(inspect.signature(real.request_lines).parameters)
    assert list(inspect.signature(fake.EdgeEvent).parameters) == list(inspect.signature(real.EdgeEvent).parameters)
    fake_request = type(make_fake_gpiod({"/dev/x": {"label": "x", "names": {}}}).request_lines(
        "/dev/x", config={0: fake.LineSettings()}))
    for method in ("get_value", "set_value", "wait_edge_events", "read_edge_events", "release"):
        real_params = list(inspect.signature(getattr(real.LineRequest, method)).parameters)
        assert list(inspect.signature(getattr(fake_request, method)).parameters) == real_params, method
    for method in ("get_info", "get_line_info", "__enter__", "__exit__"):
        assert hasattr(real.Chip, method)
    # The settings the adapter asks for are constructible with the real class.
    real.LineSettings(direction=real.line.Direction.INPUT, edge_detection=real.line.Edge.BOTH,
                      bias=real.line.Bias.PULL_UP, event_clock=real.line.Clock.MONOTONIC)

