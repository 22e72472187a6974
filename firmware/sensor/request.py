"""Completed requests: a raw frame plus its metadata, held by reference count without copying.

The zero-shutter-lag ring keeps many of them; each holds one of the sensor's buffers until its last
reference is released, exactly as picamera2's ``CompletedRequest.acquire()/release()`` do.
"""

from __future__ import annotations

import threading
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import SensorError


class FrameBuffer:
    """One sensor buffer. Its pixels may be produced lazily (the mock renders on first access)."""

    def __init__(self, index: int, render: Callable[[], np.ndarray] | np.ndarray):
        self.index = index
        self._render = render
        self._array: np.ndarray | None = render if isinstance(render, np.ndarray) else None
        self._lock = threading.Lock()

    def array(self) -> np.ndarray:
        with self._lock:
            if self._array is None:
                arr = self._render()
                arr.flags.writeable = False
                self._array = arr
                self._render = None
            return self._array

    @property
    def is_rendered(self) -> bool:
        return self._array is not None


class CompletedRequest:
    """A frame the sensor finished: ``metadata`` (libcamera keys) and streams (``"raw"``).

    >>> req.acquire()                  # another holder (e.g. the ZSL ring)       # doctest: +SKIP
    >>> raw = req.make_array("raw")    # read-only view, valid until the last release  # doctest: +SKIP
    >>> req.release()                                                             # doctest: +SKIP
    """

    def __init__(self, sequence: int, metadata: Mapping[str, Any], buffers: Mapping[str, FrameBuffer],
                 on_free: Callable[[list[FrameBuffer]], None] | None = None):
        self.sequence = sequence
        self._metadata = MappingProxyType(dict(metadata))
        self._buffers = dict(buffers)
        self._on_free = on_free
        self._refs = 1
        self._lock = threading.Lock()

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self._metadata

    def get_metadata(self) -> dict[str, Any]:
        return dict(self._metadata)

    @property
    def streams(self) -> tuple[str, ...]:
        return tuple(self._buffers)

    @property
    def refcount(self) -> int:
        return self._refs

    @property
    def timestamp_ns(self) -> int:
        return int(self._metadata["SensorTimestamp"])

    @property
    def exposure_start_ns(self) -> int:
        """When this frame's exposure began: ``SensorTimestamp - 1000 * ExposureTime`` (picamera2's rule)."""
        return self.timestamp_ns - 1000 * int(self._metadata["ExposureTime"])

    @property
    def frame_end_ns(self) -> int:
        """End of the frame period this exposure began: a rolling shutter keeps exposing lines until then.

        Every instant of a stream belongs to exactly one frame's [exposure_start_ns, frame_end_ns).
        """
        return self.exposure_start_ns + 1000 * int(self._metadata.get("FrameDuration", 0))

    def make_array(self, name: str = "raw") -> np.ndarray:
        """The stream's pixels as a read-only array, without copying."""
        with self._lock:
            if self._refs <= 0:
                raise SensorError(f"request {self.sequence} was already released")
            try:
                buf = self._buffers[name]
            except KeyError:
                raise SensorError(f"stream {name!r} is not defined (streams: {', '.join(self._buffers)})") from None
        return buf.array()

    def acquire(self) -> "CompletedRequest":
        with self._lock:
            if self._refs <= 0:
                raise SensorError(f"request {self.sequence} was already released")
            self._refs += 1
        return self

    def release(self) -> None:
        with self._lock:
            if self._refs <= 0:
                raise SensorError(f"request {self.sequence}: release() without a matching acquire()")
            self._refs -= 1
            free = self._refs == 0
        if free:
            # Hand the buffers back to the sensor's pool; the pixels go with them.
            buffers = list(self._buffers.values())
            self._buffers.clear()
            if self._on_free is not None:
                self._on_free(buffers)

    def __enter__(self) -> "CompletedRequest":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<CompletedRequest seq={self.sequence} ts={self._metadata.get('SensorTimestamp')} refs={self._refs}>"
