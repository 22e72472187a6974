"""Faults the mock sensor can be told to show, so tests can prove the daemon survives real camera failures."""

from __future__ import annotations

from dataclasses import dataclass

FAULTS = ("timeout", "drop", "disconnect", "freeze")


@dataclass
class Faults:
    # Frames stop arriving for this long (ns), then resume: libcamera's "Dequeue timer ... has expired".
    stall_until_ns: int = 0
    # The next N completed frames are lost (sequence numbers skip), as when the ISP runs out of buffers.
    drop_frames: int = 0
    # The camera has gone (ribbon cable pulled): every call fails until the sensor is reopened.
    disconnected: bool = False
    # The stream silently stops for good: no frames, no error - what a watchdog has to catch.
    frozen: bool = False

    def clear(self) -> None:
        self.stall_until_ns = 0
        self.drop_frames = 0
        self.disconnected = False
        self.frozen = False
