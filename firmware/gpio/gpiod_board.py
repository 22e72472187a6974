"""The gpiod v2 board: GPIO lines through the kernel's character device on boards gpiozero does not know.

gpiozero refuses to start off a Raspberry Pi (its local factories need a Pi revision), so the Snapdragon kit
uses libgpiod's Python bindings (PyPI ``gpiod`` 2.x, ``pip install 'camerad[gpiod]'``). Each input line is
its own request with both-edge detection and kernel timestamps on CLOCK_MONOTONIC (the clock libcamera stamps
frames with), read by a small thread that only hands the edges on.
"""

from __future__ import annotations

import glob
import logging
import threading
from datetime import timedelta
from typing import Callable

from ..clock import Clock, SystemClock
from ..errors import GpioError
from .seam import EdgeCallback

log = logging.getLogger(__name__)

CONSUMER = "camerad"
_POLL_S = 0.2  # how often a reader thread looks up from wait_edge_events() to see whether it should stop


def _import_gpiod():
    try:
        import gpiod
    except ImportError as exc:
        raise GpioError(f"the gpiod backend needs libgpiod's Python bindings v2 ({exc}): "
                        "pip install 'camerad[gpiod]'") from exc
    if not hasattr(gpiod, "request_lines"):
        raise GpioError(f"gpiod {getattr(gpiod, '__version__', '1.x')} has the v1 API; camerad needs v2 "
                        "(pip install 'camerad[gpiod]', or Debian trixie's python3-libgpiod)")
    return gpiod


class _GpiodInput:
    def __init__(self, request, offset: int, on_edge: EdgeCallback, gpiod, where: str):
        self._req = request
        self._offset = offset
        self._on_edge = on_edge
        self._rising = gpiod.EdgeEvent.Type.RISING_EDGE
        self._active = gpiod.line.Value.ACTIVE
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name=f"camerad-gpiod-{offset}", daemon=True)
        self._where = where
        self._thread.start()

    def level(self) -> bool:
        return self._req.get_value(self._offset) == self._active

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._req.wait_edge_events(timedelta(seconds=_POLL_S)):
                    continue
                events = self._req.read_edge_events()
            except Exception as exc:  # a released request (close) or a vanished chip ends the reader
                if not self._stop.is_set():
                    log.error("%s: reading edges failed: %s", self._where, exc)
                return
            for ev in events:
                self._on_edge(ev.event_type == self._rising, ev.timestamp_ns)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        self._req.release()


class _GpiodOutput:
    def __init__(self, request, offset: int, gpiod):
        self._req = request
        self._offset = offset
        self._values = (gpiod.line.Value.INACTIVE, gpiod.line.Value.ACTIVE)

    def set(self, on: bool) -> None:
        self._req.set_value(self._offset, self._values[bool(on)])

    def close(self) -> None:
        self._req.release()


class GpiodBoard:
    """Lines on gpiochips through libgpiod v2; ``chip`` (path, number or label) is the default chip."""

    is_mock = False
    name = "gpiod"

    def __init__(self, chip: str = "", *, clock: Clock | None = None):
        self._gpiod = _import_gpiod()
        self.chip = chip
        self.clock = clock or SystemClock()  # edges carry the kernel's CLOCK_MONOTONIC stamps, as SystemClock
        self._lines: list = []
        self._paths: dict[str, str] = {}

    def chip_path(self, chip: str = "") -> str:
        """``/dev/gpiochipN`` for a path, a number or a chip label (as ``gpiodetect`` prints it)."""
        chip = chip or self.chip
        if not chip:
            raise GpioError("gpiod: no gpiochip given (set [gpio] chip in the board profile)")
        if chip in self._paths:
            return self._paths[chip]
        if chip.startswith("/"):
            path = chip
        elif chip.isdigit():
            path = f"/dev/gpiochip{chip}"
        else:
            labels = {}
            for p in sorted(glob.glob("/dev/gpiochip*")):
                try:
                    with self._gpiod.Chip(p) as c:
                        labels[c.get_info().label] = p
                except OSError:
                    continue
            if chip not in labels:
                raise GpioError(f"gpiod: no gpiochip labelled {chip!r} (found: "
                                f"{', '.join(f'{v} {k!r}' for k, v in labels.items()) or 'none'})")
            path = labels[chip]
        self._paths[chip] = path
        return path

    def _request(self, pin: int, chip: str, label: str, settings):
        path = self.chip_path(chip)
        where = f"{path} line {pin}"
        try:
            if label:
                with self._gpiod.Chip(path) as c:
                    name = c.get_line_info(pin).name
                if name != label:
                    raise GpioError(f"{where} is named {name!r}, the board profile expects {label!r}: wrong chip?")
            return self._gpiod.request_lines(path, consumer=CONSUMER, config={pin: settings}), where
        except GpioError:
            raise
        except (OSError, ValueError) as exc:
            raise GpioError(f"{where}: cannot request the line: {exc}") from exc

    def input(self, pin: int, *, pull: str = "up", chip: str = "", label: str = "",
              on_edge: EdgeCallback) -> _GpiodInput:
        g = self._gpiod
        bias = {"up": g.line.Bias.PULL_UP, "down": g.line.Bias.PULL_DOWN, "off": g.line.Bias.DISABLED}[pull]
        settings = g.LineSettings(direction=g.line.Direction.INPUT, edge_detection=g.line.Edge.BOTH, bias=bias,
                                  event_clock=g.line.Clock.MONOTONIC)
        req, where = self._request(pin, chip, label, settings)
        line = _GpiodInput(req, pin, on_edge, g, where)
        self._lines.append(line)
        return line

    def output(self, pin: int, *, active_high: bool = True, chip: str = "", label: str = "") -> _GpiodOutput:
        g = self._gpiod
        settings = g.LineSettings(direction=g.line.Direction.OUTPUT, active_low=not active_high,
                                  output_value=g.line.Value.INACTIVE)
        req, _ = self._request(pin, chip, label, settings)
        line = _GpiodOutput(req, pin, g)
        self._lines.append(line)
        return line

    def button(self, pin: int, *, pull_up: bool = True, when_pressed: Callable[[], None] | None = None,
               when_released: Callable[[], None] | None = None) -> _GpiodInput:
        """A plain button (pressed = pulled to the opposite rail), for callers that want no gestures."""
        def edge(high: bool, _t: int) -> None:
            cb = when_released if high == pull_up else when_pressed
            if cb is not None:
                cb()

        return self.input(pin, pull="up" if pull_up else "down", on_edge=edge)

    def mock_pin(self, pin: int):
        raise GpioError("mock_pin() needs the mock GPIO board")

    def close(self) -> None:
        for line in self._lines:
            line.close()
        self._lines.clear()
