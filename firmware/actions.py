"""What the physical controls ask of the camera, and what the camera tells them back.

The GPIO layer (gestures from buttons) calls ``CameraActions``; the daemon implements it on top of the
capture engine. The daemon reports its state to a ``StatusListener``; the GPIO layer implements that with LED
patterns (and a buzzer). Neither side imports the other.
"""

from __future__ import annotations

from enum import Enum
from typing import Protocol


class DriveMode(Enum):
    SINGLE = "single"
    BURST = "burst"
    BRACKET = "bracket"
    TIMELAPSE = "timelapse"


class LedState(Enum):
    BOOTING = "booting"
    READY = "ready"  # steady
    CAPTURING = "capturing"  # a flash per frame, driven by frame_taken()
    BUSY = "busy"  # queue full: fast blink
    ERROR = "error"  # sensor or storage failure
    LOW_STORAGE = "low_storage"  # below the free-space reserve: slow blink


class CameraActions(Protocol):
    def half_press(self, pressed: bool, t_ns: int) -> None:
        """Half-press: lock AE and AWB (and start autofocus where the lens has it) until released."""

    def shutter(self, t_ns: int) -> None:
        """Full press at ``t_ns`` (CLOCK_MONOTONIC): capture in the current drive mode."""

    def burst(self, active: bool, t_ns: int) -> None:
        """Full press held past the hold time: shoot a burst from ``t_ns`` until called with False."""

    def cycle_drive_mode(self) -> DriveMode:
        """Next drive mode (single, burst, bracket, timelapse); returns the new one."""

    def cycle_look(self) -> str:
        """Next look (e.g. leica-authentic, leica-vibrant, leica-monochrome, neutral); returns its name."""

    def toggle_raw(self) -> bool:
        """Switch between raw+JPEG and JPEG only; returns True when raw is now on."""


class StatusListener(Protocol):
    def led_state(self, state: LedState) -> None:
        """The camera's state changed."""

    def frame_taken(self) -> None:
        """A frame was captured (flash the LED, click the buzzer)."""
