"""The capture engine: a streaming thread that keeps a ring of recent frames, and a worker that develops.

A shutter press is only a timestamp handed to the engine; the streaming thread resolves it to a frame as soon
as that frame has been read out (zero shutter lag: the frame exposing at the press), and the worker thread
renders, develops and writes it. Neither the press (a GPIO callback) nor the sensor ever waits for the disk.
A press that finds the worker's queue full is refused with a reason, never dropped silently.

>>> engine = CaptureEngine(sensor, writer, zsl=True)      # doctest: +SKIP
>>> engine.start(); result = engine.capture().result()    # doctest: +SKIP
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future

from ..clock import Clock, SystemClock
from ..errors import CaptureError, CaptureRefused, SensorError, SensorStateError, SensorTimeout
from ..sensor.protocol import Sensor
from .ring import RequestRing
from .writer import CaptureResult, CaptureWriter

log = logging.getLogger(__name__)

_PRESS_EXPIRY_S = 5.0  # a press that no frame can satisfy for this long fails (the stream has stalled)


class CaptureEngine:
    def __init__(self, sensor: Sensor, writer: CaptureWriter, *, zsl: bool = True, ring_size: int = 3,
                 queue_size: int = 4, frame_timeout: float = 2.0, clock: Clock | None = None):
        self.sensor = sensor
        self.writer = writer
        self.zsl = zsl
        self.ring = RequestRing(ring_size)
        self.frame_timeout = frame_timeout
        self.clock = clock or SystemClock()
        self._jobs: queue.Queue = queue.Queue(maxsize=queue_size)
        self._pending: list[tuple[int, Future]] = []
        self._lock = threading.Lock()
        self._first_frame = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.frames = 0
        self.last_metadata: dict = {}
        self.last_error: str | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping.clear()
        self.sensor.start()
        self._threads = [threading.Thread(target=self._stream, name="camerad-stream", daemon=True),
                         threading.Thread(target=self._work, name="camerad-develop", daemon=True)]
        for t in self._threads:
            t.start()

    def wait_for_frame(self, timeout: float | None = None) -> bool:
        """Block until the first frame has arrived (what systemd readiness waits for)."""
        return self._first_frame.wait(timeout)

    def stop(self) -> None:
        """Stop streaming, fail presses that have no frame yet, and finish every capture already queued."""
        self._stopping.set()
        self.sensor.stop()
        stream, worker = self._threads or (None, None)
        if stream is not None:
            stream.join()
        with self._lock:
            pending, self._pending = self._pending, []
        for _, fut in pending:
            fut.set_exception(CaptureError("camera stopped before the frame was taken"))
        self.ring.clear()
        if worker is not None:
            self._jobs.put(None)
            worker.join()
        self._threads = []

    # -- capture -------------------------------------------------------------------------------------------
    def capture(self, press_ns: int | None = None) -> "Future[CaptureResult]":
        """Take the frame for a press at ``press_ns`` (default: now); the future resolves when it is on disk."""
        fut: Future = Future()
        if not self._threads or self._stopping.is_set():
            fut.set_exception(CaptureRefused("camera is not streaming"))
            return fut
        with self._lock:
            self._pending.append((self.clock.monotonic_ns() if press_ns is None else press_ns, fut))
        return fut

    # -- threads -------------------------------------------------------------------------------------------
    def _stream(self) -> None:
        while not self._stopping.is_set():
            try:
                req = self.sensor.next_request(self.frame_timeout)
            except SensorTimeout as exc:
                self.last_error = str(exc)
                log.warning("%s", exc)
                self._expire_presses()
                continue
            except SensorStateError:
                if self._stopping.is_set():
                    break
                raise
            except SensorError as exc:
                self.last_error = str(exc)
                log.error("sensor failed: %s", exc)
                self._stopping.wait(0.5)
                continue
            self.frames += 1
            self.last_metadata = dict(req.metadata)
            self.ring.push(req)
            self._first_frame.set()
            self._resolve_presses()

    def _resolve_presses(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        keep = []
        for press_ns, fut in pending:
            req = self.ring.pick(press_ns, self.zsl)
            if req is None:
                keep.append((press_ns, fut))
                continue
            wall_ns = time.time_ns() - (self.clock.monotonic_ns() - req.timestamp_ns)
            try:
                self._jobs.put_nowait((req, press_ns, wall_ns, fut))
            except queue.Full:
                req.release()
                fut.set_exception(CaptureRefused("capture queue is full: captures are still being written"))
                log.warning("capture refused: queue full")
        with self._lock:
            self._pending = keep + self._pending

    def _expire_presses(self) -> None:
        now = self.clock.monotonic_ns()
        with self._lock:
            keep = []
            for press_ns, fut in self._pending:
                if now - press_ns > _PRESS_EXPIRY_S * 1e9:
                    fut.set_exception(CaptureError("no frame arrived for this press (sensor stalled)"))
                else:
                    keep.append((press_ns, fut))
            self._pending = keep

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            req, press_ns, wall_ns, fut = job
            try:
                fut.set_result(self.writer.write(req, press_ns, wall_ns))
            except Exception as exc:  # the daemon carries on; the press learns why it failed
                self.last_error = str(exc)
                log.error("capture failed: %s", exc)
                fut.set_exception(exc)
            finally:
                req.release()
