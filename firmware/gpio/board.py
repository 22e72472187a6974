"""The GPIO board seam, chosen in one place: gpiozero on a Raspberry Pi (lgpio on the Pi 5), gpiod v2 on other
boards, gpiozero's ``MockFactory`` for tests and the mock camera.

``open_board()`` picks the backend from the config's ``gpio.backend`` (``auto`` follows the board profile),
overridden by ``CAMERAD_GPIO_BACKEND``. Every board offers the same small surface: ``input()`` reports raw
edges (line level, CLOCK_MONOTONIC ns) to a callback that must return at once, ``output()`` drives a line,
``button()`` is the plain gpiozero-style button the daemon used first, ``mock_pin()`` reaches a simulated pin.
Gestures are not made here: the libraries only deliver edges (see ``contact.py`` and ``gestures.py``).

>>> board = open_board("mock")
>>> seen = []
>>> line = board.input(17, pull="up", on_edge=lambda high, t: seen.append(high))
>>> board.mock_pin(17).drive_low(); seen
[False]
>>> board.close()
"""

from __future__ import annotations

import os
from typing import Callable

from ..boards import GpioBackend, detect_board
from ..clock import Clock, SystemClock
from ..errors import GpioError
from .seam import Board, EdgeCallback

ENV = "CAMERAD_GPIO_BACKEND"

_PULL_UP = {"up": True, "down": False, "off": None}


class _ZeroInput:
    """A gpiozero input device whose edges are reported as raw levels."""

    def __init__(self, device, pull: str, on_edge: EdgeCallback, clock: Clock):
        self._device = device
        inverted = pull == "up"  # gpiozero makes a pulled-up line active-low; undo that to report the level
        device.when_activated = lambda: on_edge(not inverted, clock.monotonic_ns())
        device.when_deactivated = lambda: on_edge(inverted, clock.monotonic_ns())

    def level(self) -> bool:
        return bool(self._device.pin.state)

    def close(self) -> None:
        self._device.close()


class _ZeroOutput:
    def __init__(self, device):
        self._device = device

    def set(self, on: bool) -> None:
        if on:
            self._device.on()
        else:
            self._device.off()

    def close(self) -> None:
        self._device.close()


class GpioBoard:
    """gpiozero devices on one pin factory (the real one, or ``MockFactory``)."""

    def __init__(self, factory=None, *, mock: bool = False, clock: Clock | None = None):
        self.factory = factory
        self.is_mock = mock
        self.name = "mock" if mock else "gpiozero"
        self.clock = clock or SystemClock()
        self._devices: list = []

    def _make(self, cls, pin: int, what: str, **kw):
        try:
            device = cls(pin, pin_factory=self.factory, **kw)
        except Exception as exc:
            raise GpioError(f"GPIO{pin}: cannot set up {what}: {exc}") from exc
        self._devices.append(device)
        return device

    def input(self, pin: int, *, pull: str = "up", chip: str = "", label: str = "",
              on_edge: EdgeCallback) -> _ZeroInput:
        """A line reporting every edge as ``on_edge(level_is_high, t_ns)``; no debounce (bounce_time=None)."""
        from gpiozero import DigitalInputDevice

        pull_up = _PULL_UP[pull]
        device = self._make(DigitalInputDevice, pin, "input", pull_up=pull_up,
                            active_state=True if pull_up is None else None, bounce_time=None)
        return _ZeroInput(device, pull, on_edge, self.clock)

    def output(self, pin: int, *, active_high: bool = True, chip: str = "", label: str = "") -> _ZeroOutput:
        from gpiozero import DigitalOutputDevice

        return _ZeroOutput(self._make(DigitalOutputDevice, pin, "output", active_high=active_high,
                                      initial_value=False))

    def button(self, pin: int, *, pull_up: bool = True, when_pressed: Callable[[], None] | None = None,
               when_released: Callable[[], None] | None = None):
        from gpiozero import Button

        b = self._make(Button, pin, "button", pull_up=pull_up)
        if when_pressed is not None:
            b.when_pressed = when_pressed
        if when_released is not None:
            b.when_released = when_released
        return b

    def mock_pin(self, pin: int):
        """The simulated pin behind ``pin`` (MockFactory only): ``drive_low()`` presses a pull-up button."""
        if not self.is_mock:
            raise GpioError("mock_pin() needs the mock GPIO board")
        return self.factory.pin(pin)

    def close(self) -> None:
        for d in self._devices:
            d.close()
        self._devices.clear()


def open_board(backend: str = GpioBackend.AUTO, *, profile=None, clock: Clock | None = None) -> Board:
    """Open the GPIO board: ``backend`` from the config, ``CAMERAD_GPIO_BACKEND`` winning; ``auto`` takes the
    board profile's backend (gpiozero when no profile is given)."""
    name = os.environ.get(ENV) or backend
    if name not in tuple(GpioBackend):
        raise GpioError(f"GPIO backend {name!r} is not one of {', '.join(GpioBackend)}")
    backend = GpioBackend(name)
    if backend is GpioBackend.AUTO:
        backend = profile.gpio.backend if profile is not None else GpioBackend.GPIOZERO
    if backend is GpioBackend.MOCK:
        from gpiozero.pins.mock import MockFactory

        return GpioBoard(MockFactory(), mock=True, clock=clock)
    if backend is GpioBackend.GPIOD:
        from .gpiod_board import GpiodBoard

        return GpiodBoard(profile.gpio.chip if profile is not None else "", clock=clock)
    return GpioBoard(_pi_factory(profile), clock=clock)


def _pi_factory(profile):
    """lgpio on the Pi 5 (the only gpiozero factory for its RP1); gpiozero's own choice elsewhere."""
    try:
        pi5 = profile is not None and profile.name == "rpi5" or detect_board() == "rpi5"
        if pi5 and not os.environ.get("GPIOZERO_PIN_FACTORY"):
            try:
                from gpiozero.pins.lgpio import LGPIOFactory
            except ImportError as exc:
                raise GpioError(f"the Pi 5 needs lgpio for gpiozero ({exc}): install python3-lgpio "
                                "(./install.sh --target pi does)") from exc
            chip = profile.gpio.chip if profile is not None else ""
            return LGPIOFactory(chip=int(chip) if chip else None)
        from gpiozero import Device

        return Device._default_pin_factory()
    except GpioError:
        raise
    except Exception as exc:
        raise GpioError(f"no GPIO pin factory available here ({exc}); use gpio.backend = \"mock\" off the Pi, "
                        "or \"gpiod\" on other boards") from exc
