"""The GPIO board seam, chosen in one place: gpiozero on a Raspberry Pi, gpiozero's MockFactory for tests and
the mock camera.

Buttons report raw edges to a callback that must return at once (gpiozero runs callbacks on its pin thread;
a slow one makes it miss releases), so callbacks only timestamp the edge and hand it on.
"""

from __future__ import annotations

import os
from typing import Callable

from ..errors import GpioError

ENV = "CAMERAD_GPIO_BACKEND"
BACKENDS = ("auto", "gpiozero", "gpiod", "mock")


class GpioBoard:
    """gpiozero devices on one pin factory (the real one, or ``MockFactory``)."""

    def __init__(self, factory=None, *, mock: bool = False):
        self.factory = factory
        self.is_mock = mock
        self._devices: list = []

    def button(self, pin: int, *, pull_up: bool = True, when_pressed: Callable[[], None] | None = None,
               when_released: Callable[[], None] | None = None):
        from gpiozero import Button

        try:
            b = Button(pin, pull_up=pull_up, pin_factory=self.factory)
        except Exception as exc:
            raise GpioError(f"GPIO{pin}: cannot set up button: {exc}") from exc
        if when_pressed is not None:
            b.when_pressed = when_pressed
        if when_released is not None:
            b.when_released = when_released
        self._devices.append(b)
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


def open_board(backend: str = "auto") -> GpioBoard:
    backend = os.environ.get(ENV) or backend
    if backend not in BACKENDS:
        raise GpioError(f"GPIO backend {backend!r} is not one of {', '.join(BACKENDS)}")
    if backend == "mock":
        from gpiozero.pins.mock import MockFactory

        return GpioBoard(MockFactory(), mock=True)
    if backend == "gpiod":
        raise GpioError("the gpiod board backend is not available yet; use gpiozero (Raspberry Pi) or mock")
    try:
        from gpiozero import Device

        return GpioBoard(Device._default_pin_factory())
    except Exception as exc:
        raise GpioError(f"no GPIO pin factory available here ({exc}); use gpio.backend = \"mock\" off the Pi") from exc
