"""The camera's words: what its controls and operators ask of it, and what it tells them back.

The GPIO layer (gestures from buttons), the control socket and the daemon's signals all ask through
``CameraActions``: every capture, whatever asked for it, is one ``trigger(CaptureRequest)``. The camera
reports its state to ``StatusListener``s (the GPIO layer's LED patterns and buzzer). Neither side imports
the other, and the vocabularies both sides (and the configuration) speak are defined here, once, as enums.

>>> CaptureRequest(press_ns=5_000_000_000).drive is None         # the shutter: whatever the drive mode says
True
>>> [m.value for m in DriveMode]
['single', 'burst', 'bracket', 'timelapse']
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class DriveMode(StrEnum):
    """What a press of the shutter takes (``[capture] drive_mode``, cycled by the mode button)."""

    SINGLE = "single"
    BURST = "burst"
    BRACKET = "bracket"
    TIMELAPSE = "timelapse"


class ModeAction(StrEnum):
    """What a mode-button gesture does (``[controls] mode_click`` …): the ``CameraActions`` call it makes."""

    DRIVE_MODE = "drive_mode"
    LOOK = "look"
    RAW = "raw"
    NONE = "none"

    @property
    def method(self) -> str | None:
        """The ``CameraActions`` method this action calls (None: the gesture is turned off)."""
        return {"drive_mode": "cycle_drive_mode", "look": "cycle_look", "raw": "toggle_raw"}.get(self.value)


class DenoiseMode(StrEnum):
    """Which raw denoiser develops captures: none, the 16-channel model or the 32-channel one."""

    OFF = "off"
    FAST = "fast"
    HQ = "hq"


class LedState(StrEnum):
    BOOTING = "booting"
    READY = "ready"  # steady
    CAPTURING = "capturing"  # a flash per frame, driven by frame_taken()
    BUSY = "busy"  # queue full: fast blink
    ERROR = "error"  # sensor or storage failure
    LOW_STORAGE = "low_storage"  # below the free-space reserve: slow blink


class Setting(StrEnum):
    """The operator's settings (``camctl get``/``set``, the socket's ``get``/``set``), in the order shown."""

    EXPOSURE = "exposure"
    GAIN = "gain"
    EV = "ev"
    AWB = "awb"
    COLOUR_GAINS = "colour_gains"
    LOOK = "look"
    DENOISE = "denoise"
    DRIVE_MODE = "drive_mode"
    RAW = "raw"


def parse_drive_modes(text: str) -> tuple[DriveMode, ...]:
    """``[controls] drive_modes`` ("single,burst,…") as DriveModes, in order, without repeats.

    >>> parse_drive_modes("single, timelapse,single")
    (<DriveMode.SINGLE: 'single'>, <DriveMode.TIMELAPSE: 'timelapse'>)
    """
    modes: list[DriveMode] = []
    for word in text.split(","):
        mode = DriveMode(word.strip())
        if mode not in modes:
            modes.append(mode)
    return tuple(modes)


def next_drive_mode(current: DriveMode, modes: tuple[DriveMode, ...]) -> DriveMode:
    """The mode after ``current`` in the cycle (the first one if ``current`` is not in it)."""
    if current not in modes:
        return modes[0]
    return modes[(modes.index(current) + 1) % len(modes)]


@dataclass(frozen=True)
class CaptureRequest:
    """One trigger: a shutter press (``drive`` None: what the current drive mode takes) or an operator's
    capture of a given kind. ``raw``, ``look`` and ``denoise`` change how this capture alone is developed."""

    press_ns: int | None = None  # CLOCK_MONOTONIC of the press; None: now
    drive: DriveMode | None = None
    count: int | None = None  # a burst's frames; None: [capture] burst_frames
    hold: bool = False  # a held shutter: a burst at the sensor's rate until ``release``
    evs: tuple[float, ...] | None = None  # a bracket's EV offsets; None: [capture] bracket_frames/step
    raw: bool | None = None
    look: str | None = None
    denoise: DenoiseMode | None = None


class CameraActions(Protocol):
    def half_press(self, pressed: bool, t_ns: int) -> None:
        """Half-press: lock AE and AWB (and start autofocus where the lens has it) until released."""

    def trigger(self, request: CaptureRequest) -> object:
        """Capture as ``request`` asks (a full press at ``request.press_ns``, CLOCK_MONOTONIC)."""

    def release(self, t_ns: int) -> None:
        """The held shutter let go at ``t_ns``: a held burst takes no frame exposed after it."""

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
