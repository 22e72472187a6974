"""The capture engine's two faces to the camera: the settings it runs by and the snapshot of how it is doing.

Both are frozen. The camera configures the engine with one ``EngineSettings`` (``engine.reconfigure``) and
reads its state as one ``EngineSnapshot`` (``engine.snapshot()``); nothing outside ``capture/`` reads or
assigns the engine's attributes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

from ..sensor.protocol import SensorMode


@dataclass(frozen=True)
class EngineSettings:
    """How the engine runs: ZSL, the ring and the queue, the sensor's mode and buffers, fault handling."""

    zsl: bool = True
    ring_size: int = 3  # frames the ZSL ring holds
    queue_size: int = 4  # captures that may wait to be written (one slot per frame)
    frame_timeout: float = 2.0  # seconds without a frame before the camera counts as failed
    backoff_max: float = 30.0  # longest wait between attempts to reopen a failed camera
    mode: SensorMode | None = None  # the mode the sensor is configured in (for reopening it)
    buffer_count: int | None = None  # the sensor's buffers (for reopening it)

    def replace(self, **changes) -> "EngineSettings":
        return dataclasses.replace(self, **changes)

    def needs_restart(self, other: "EngineSettings") -> bool:
        """Whether going from ``self`` to ``other`` needs streaming stopped (a new ring, mode or buffers)."""
        return (self.zsl, self.ring_size, self.mode, self.buffer_count) != (
            other.zsl, other.ring_size, other.mode, other.buffer_count)


class EngineSnapshot(NamedTuple):
    """The engine at one instant: streaming and faults, the queue, counts, and the latest frame's metadata.

    A named tuple rather than a frozen dataclass: it is taken on every change of state (each refusal of a
    storm of presses), and a tuple is made in a fraction of the time.
    """

    settings: EngineSettings
    streaming: bool = False
    has_frame: bool = False  # the first frame since (re)starting has arrived
    fault: str | None = None  # the sensor's fault while it is being recovered
    storage_error: str | None = None  # the last write failed for a reason other than a full disk
    last_error: str | None = None  # the last capture that failed, and why
    last_refusal: str | None = None
    refusals: int = 0
    written: int = 0
    frames: int = 0
    frames_dropped: int = 0
    last_frame_ns: int | None = None
    queue_used: int = 0
    capture_bytes: int = 0  # disk space one capture is admitted with
    locked: bool = False  # AE/AWB held by a half-press
    restarts: int = 0
    reopens: int = 0
    metadata: Mapping[str, Any] = MappingProxyType({})  # the latest frame's
    operator: Mapping[str, Any] = MappingProxyType({})  # controls the operator set by hand
    held: Mapping[str, Any] = MappingProxyType({})  # controls re-applied after every restart

    @property
    def queue_size(self) -> int:
        return self.settings.queue_size

    @property
    def queue_full(self) -> bool:
        return self.queue_used >= self.settings.queue_size
