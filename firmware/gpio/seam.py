"""The board seam: what every GPIO backend offers (gpiozero and its MockFactory in ``board.py``, libgpiod in
``gpiod_board.py``), as gpiozero's ``Factory`` and ``Pin`` declare what a pin factory offers.

``input()`` reports raw edges (line level, CLOCK_MONOTONIC ns) to a callback that must return at once,
``output()`` drives a line; ``name`` and ``is_mock`` say which backend it is.
"""

from __future__ import annotations

from typing import Callable, Protocol

EdgeCallback = Callable[[bool, int], None]  # (line is high, CLOCK_MONOTONIC ns)


class InputHandle(Protocol):
    def level(self) -> bool:
        """The line's electrical level now (True = high)."""

    def close(self) -> None: ...


class OutputHandle(Protocol):
    def set(self, on: bool) -> None:
        """Drive the line to its active (``on``) or inactive level."""

    def close(self) -> None: ...


class Board(Protocol):
    name: str
    is_mock: bool

    def input(self, pin: int, *, pull: str = "up", chip: str = "", label: str = "",
              on_edge: EdgeCallback) -> InputHandle: ...

    def output(self, pin: int, *, active_high: bool = True, chip: str = "", label: str = "") -> OutputHandle: ...

    def button(self, pin: int, *, pull_up: bool = True, when_pressed: Callable[[], None] | None = None,
               when_released: Callable[[], None] | None = None): ...

    def mock_pin(self, pin: int): ...

    def close(self) -> None: ...
