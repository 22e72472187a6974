"""Pressing the profile's buttons on the mock board, the way a finger would: what the demo and benchmark use.

The pins are the board profile's and the levels follow its wiring (pull, active level, normally open or
closed), so a press here travels the same path as a real one: mock pin edge, gpiozero callback, gesture
machine, ``CameraActions``.

>>> buttons = MockButtons(board, profile)                      # doctest: +SKIP
>>> buttons.shutter(hold=0.06)   # half-press, full press, release  # doctest: +SKIP
"""

from __future__ import annotations

import time
from typing import Callable

from ..board_profile import BoardProfile
from ..errors import GpioError

_KEYS = ("shutter", "half_press", "mode")


class MockButtons:
    def __init__(self, board, profile: BoardProfile, *, sleep: Callable[[float], None] = time.sleep):
        if not board.is_mock:
            raise GpioError("MockButtons needs the mock GPIO board (gpio.backend = \"mock\")")
        self.board = board
        self.profile = profile
        self.sleep = sleep

    def line(self, key: str):
        if key not in _KEYS:
            raise GpioError(f"no control {key!r} (controls: {', '.join(_KEYS)})")
        line = getattr(self.profile.controls, key)
        if line is None:
            raise GpioError(f"the board profile {self.profile.name!r} wires no {key} contact")
        return line

    def pin(self, key: str):
        """The mock pin of control ``key`` (``shutter``, ``half_press``, ``mode``)."""
        return self.board.mock_pin(self.line(key).pin)

    def set(self, key: str, pressed: bool) -> None:
        """Drive the control's pin to its pressed or released level."""
        line = self.line(key)
        closed_high = line.active == "high"
        high = closed_high if (pressed != (line.switch == "nc")) else not closed_high
        pin = self.board.mock_pin(line.pin)
        if high:
            pin.drive_high()
        else:
            pin.drive_low()

    def press(self, key: str, hold: float) -> None:
        self.set(key, True)
        self.sleep(hold)
        self.set(key, False)

    def shutter(self, hold: float = 0.06, *, half: float = 0.0) -> None:
        """A full shutter press held ``hold`` s; with ``half`` > 0 (and an S1 wired) the half-press comes first."""
        two_stage = half > 0 and self.profile.controls.half_press is not None
        if two_stage:
            self.set("half_press", True)
            self.sleep(half)
        self.press("shutter", hold)
        if two_stage:
            self.set("half_press", False)
