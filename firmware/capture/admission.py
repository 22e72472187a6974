"""Admission: every trigger is admitted as a whole before any frame is taken, or refused with the reason.

A job needs one queue slot per frame (up to ``queue_size`` captures may wait to be written) and disk space
above the reserve for each. A trigger that does not fit is refused at once (``CaptureRefused``: the queue is
full, or ``StorageLow``); an open-ended burst asks for one more slot per frame and skips the frame when none
is free. The engine calls these under its own lock, so admitting a job and listing it are one step.
"""

from __future__ import annotations

from typing import Callable

from ..errors import CaptureRefused
from ..storage.space import FreeSpace, StorageLow


class Admission:
    """Queue slots and disk space. ``capture_bytes()``: the space one capture is admitted with now."""

    def __init__(self, queue_size: int, space: FreeSpace | None, capture_bytes: Callable[[], int]):
        self.queue_size = queue_size
        self.space = space
        self.capture_bytes = capture_bytes
        self.used = 0  # slots held by admitted jobs and by frames not yet written

    def admit(self, need: int, kind: str) -> None:
        """Hold ``need`` slots (and their disk space) for a ``kind`` trigger, or raise why it cannot have them."""
        if self.used + need > self.queue_size:
            raise CaptureRefused(f"capture queue is full: {self.used} of {self.queue_size} captures are still "
                                 f"being written" + (f", a {kind} needs {need}" if need > 1 else ""))
        if self.space is not None:
            self.space.admit(self.capture_bytes() * need)
        self.used += need

    def admit_one(self) -> bool:
        """One more slot for an open-ended burst's next frame; False (skip the frame) when none is free."""
        if self.used >= self.queue_size:
            return False
        if self.space is not None:
            try:
                self.space.admit(self.capture_bytes())
            except StorageLow:
                return False
        self.used += 1
        return True

    def release(self, slots: int, space: FreeSpace | None = None) -> None:
        """``slots`` are free again: frames written (or failed), or slots a finished job did not use. Their disk
        space is settled on ``space``, the reserve they were admitted against (the current one by default)."""
        self.used -= slots
        space = space or self.space
        if slots and space is not None:
            space.settle(self.capture_bytes() * slots)
