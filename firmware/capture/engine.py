"""The capture engine: a streaming thread that keeps a ring of recent frames and hands jobs their frames.

A shutter press is only a timestamp handed to the engine; the streaming thread resolves it to a frame as soon
as that frame has been read out (zero shutter lag: the frame exposing at the press), and the developer's
threads copy, develop and write it. Neither the press (a GPIO callback) nor the sensor ever waits for the disk.

Every trigger is admitted as a whole before any frame is taken: a job needs one queue slot per frame (up to
``queue_size`` captures may wait to be written) and disk space above the reserve. A trigger that does not fit
is refused at once with the reason (``CaptureRefused``), logged, never dropped silently. A camera that fails
(timeout, disconnection, a storm of dropped frames) is restarted or reopened with backoff; the frames already
taken keep going to disk.

>>> engine = CaptureEngine(sensor, writer, zsl=True)      # doctest: +SKIP
>>> engine.start(); result = engine.capture().result()    # doctest: +SKIP
"""

from __future__ import annotations

import collections
import errno
import logging
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Mapping

from ..clock import Clock, SystemClock
from ..errors import CaptureError, CaptureRefused, SensorError, StorageError
from ..sensor.protocol import Sensor, SensorMode
from ..sensor.request import CompletedRequest
from ..storage.space import FreeSpace, StorageLow
from . import exposure
from .develop import Developer, Work
from .job import Bracket, Burst, Job, Shot
from .recovery import Backoff, SensorKeeper
from .ring import RequestRing
from .writer import CaptureResult, CaptureWriter

log = logging.getLogger(__name__)

_PRESS_EXPIRY_S = 5.0  # a job that no frame can satisfy for this long fails (the stream has stalled)
_STORM_WINDOW = 30  # frames over which a storm of dropped frames is judged
_STORM_RATIO = 2.0  # dropped frames per delivered frame that count as a sensor fault


class CaptureEngine:
    def __init__(self, sensor: Sensor, writer: CaptureWriter, *, zsl: bool = True, ring_size: int = 3,
                 queue_size: int = 4, frame_timeout: float = 2.0, clock: Clock | None = None,
                 space: FreeSpace | None = None, mode: SensorMode | None = None, buffer_count: int | None = None,
                 reopen: Callable[[], Sensor] | None = None, backoff_max: float = 30.0):
        self.keeper = SensorKeeper(sensor, mode=mode or getattr(sensor, "mode", None), buffer_count=buffer_count,
                                   reopen=reopen)
        self.writer = writer
        self.zsl = zsl
        self.ring = RequestRing(ring_size)
        self.queue_size = queue_size
        self.frame_timeout = frame_timeout
        self.clock = clock or SystemClock()
        self.space = space
        self.backoff_max = backoff_max
        self.developer = Developer(self._work_finished)
        self.on_change: Callable[[], None] = lambda: None
        self.on_frame_taken: Callable[[], None] = lambda: None
        self._jobs: list[Job] = []
        self._lock = threading.Lock()
        self._used = 0  # queue slots held by admitted jobs and frames not yet written
        self._first_frame = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._recent: collections.deque[int] = collections.deque(maxlen=_STORM_WINDOW)
        self._last_seq: int | None = None
        self.frames = 0
        self.frames_dropped = 0
        self.last_frame_ns: int | None = None
        self.last_metadata: dict = {}
        self.fault: str | None = None
        self.last_error: str | None = None
        self.last_refusal: str | None = None
        self.refusals = 0
        self.written = 0
        self.storage_error: str | None = None  # a write failed for a reason other than a full disk
        self.locked = False
        self.operator: dict[str, Any] = {}  # controls the operator set by hand (camctl set)

    # -- lifecycle -----------------------------------------------------------------------------------------
    @property
    def sensor(self) -> Sensor:
        return self.keeper.sensor

    @property
    def streaming(self) -> bool:
        return self._thread is not None and not self._stopping.is_set()

    def start(self) -> None:
        self._stopping.clear()
        self.developer.start()
        self.keeper.start()
        self._thread = threading.Thread(target=self._stream, name="camerad-stream", daemon=True)
        self._thread.start()

    def wait_for_frame(self, timeout: float | None = None) -> bool:
        """Block until the first frame has arrived (what systemd readiness waits for)."""
        return self._first_frame.wait(timeout)

    def stop(self) -> None:
        """Stop streaming, fail jobs still waiting for frames, and finish every capture already taken."""
        self.stop_streaming(CaptureError("camera stopped before the frame was taken"))
        self.developer.stop()

    def stop_streaming(self, reason: BaseException) -> None:
        """Stop the streaming thread only; frames already taken keep going to disk."""
        self._stopping.set()
        self.keeper.stop()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._fail_jobs(reason)
        self.ring.clear()

    def restart_streaming(self) -> None:
        """Stream again (after ``stop_streaming``); a camera that will not start is left to the recovery loop."""
        self._first_frame.clear()
        self._last_seq = None
        self._stopping.clear()
        try:
            self.keeper.start()
        except SensorError as exc:
            log.error("camera would not start: %s", exc)
        self._thread = threading.Thread(target=self._stream, name="camerad-stream", daemon=True)
        self._thread.start()

    # -- triggers ------------------------------------------------------------------------------------------
    def capture(self, press_ns: int | None = None, *, kind: str = "single", info: dict[str, Any] | None = None,
                writer: CaptureWriter | None = None) -> "Future[CaptureResult]":
        """Take the frame for a press at ``press_ns`` (default: now); the future resolves when it is on disk.

        ``writer`` develops and writes this capture only (e.g. another look or raw setting for one shot).
        """
        return self.submit(Shot(self._now(press_ns), self.zsl, kind, info), writer).futures[0]

    def burst(self, press_ns: int | None = None, count: int | None = 10, *,
              writer: CaptureWriter | None = None) -> Job:
        """``count`` frames at the sensor's rate from the press; ``None`` keeps going until ``job.stop(t)``."""
        return self.submit(Burst(self._now(press_ns), count, self.zsl), writer)

    def bracket(self, press_ns: int | None, evs: list[float], *, writer: CaptureWriter | None = None) -> Job:
        return self.submit(Bracket(self._now(press_ns), evs, self.zsl), writer)

    def submit(self, job: Job, writer: CaptureWriter | None = None) -> Job:
        """Admit ``job`` (or refuse it with the reason, in ``job.done`` and its first frame's future)."""
        job.writer = writer
        need = job.count or 1
        try:
            with self._lock:
                if not self.streaming:
                    raise CaptureRefused("camera is not streaming")
                if self.fault:
                    raise CaptureRefused(f"camera is recovering from a fault ({self.fault})")
                if self._used + need > self.queue_size:
                    raise CaptureRefused(f"capture queue is full: {self._used} of {self.queue_size} captures are "
                                         f"still being written" + (f", a {job.kind} needs {need}" if need > 1 else ""))
                if self.space is not None:
                    self.space.admit(self._estimate() * need)
                self._used += need
                job.reserved = need
                self._jobs.append(job)
        except CaptureRefused as exc:
            self.refusals += 1
            self.last_refusal = exc.reason
            log.warning("capture refused (%s at %.3f s): %s", job.kind, job.press_ns / 1e9, exc.reason)
            # A refusal is an outcome, not a crash: drop the traceback, which would pin the caller's frames
            # (and everything they hold) for as long as the refused future is kept.
            job.refuse(exc.with_traceback(None))
            self.on_change()
        return job

    def reserve_frame(self, job: Job) -> bool:
        """One more slot for an open-ended burst's next frame; False (frame skipped) when the queue is full."""
        with self._lock:
            if self._used >= self.queue_size:
                return False
            if self.space is not None:
                try:
                    self.space.admit(self._estimate())
                except StorageLow:
                    return False
            self._used += 1
            job.reserved += 1
            return True

    @property
    def queue_used(self) -> int:
        return self._used

    def _now(self, press_ns: int | None) -> int:
        return self.clock.monotonic_ns() if press_ns is None else press_ns

    def capture_bytes(self) -> int:
        """Disk space one capture is admitted with."""
        return self._estimate()

    def _estimate(self) -> int:
        mode = self.keeper.mode
        return self.writer.estimate_bytes(*mode.size) if mode is not None else 0

    # -- exposure ------------------------------------------------------------------------------------------
    def advertised(self) -> Mapping[str, tuple[Any, Any, Any]]:
        return self.keeper.advertised()

    def set_controls(self, controls: Mapping[str, Any]) -> None:
        self.keeper.set_controls(controls)

    def lock_exposure(self) -> dict[str, Any]:
        """Hold AE and AWB (and focus once, where the lens can) at the latest frame's values."""
        controls = exposure.lock_controls(self.last_metadata, self.advertised())
        self.keeper.set_controls(controls, persist=True)
        self.locked = True
        return controls

    def unlock_exposure(self) -> None:
        """Hand AE and AWB back to the loops, keeping what the operator set by hand (``set_operator_controls``)."""
        self.keeper.clear_persistent()
        self.keeper.set_controls(exposure.unlock_controls(self.advertised()))
        if self.operator:
            # Sent after the unlock: AeEnable on hands both exposure halves back to the loop first.
            self.keeper.set_controls(self.operator, persist=True)
        self.locked = False

    def set_operator_controls(self, manual: Mapping[str, Any], automatic: Mapping[str, Any] = {}) -> None:
        """The operator's own settings (``camctl set``): ``manual`` controls are kept across camera restarts,
        half-press releases and brackets; ``automatic`` ones (e.g. ExposureTime 0) hand a control back to the
        loops and forget its manual value. Raises ``ControlError`` (nothing changed) for a bad value."""
        self.keeper.set_controls({**automatic, **manual})
        for name in automatic:
            self.operator.pop(name, None)
            self.keeper.persistent.pop(name, None)
        self.operator.update(manual)
        self.keeper.persistent.update(manual)

    def restore_exposure(self) -> None:
        """After a bracket: back to the held exposure, or to the automatic loops (and the operator's settings)."""
        adv = self.advertised()
        auto = {k: v for k, v in (("ExposureTime", 0), ("AnalogueGain", 0.0)) if k in adv}
        self.keeper.set_controls({**auto, **self.keeper.persistent})

    # -- streaming thread ----------------------------------------------------------------------------------
    def _stream(self) -> None:
        while not self._stopping.is_set():
            try:
                req = self.keeper.next_request(self.frame_timeout)
            except Exception as exc:  # noqa: BLE001 - any failure of the camera stack is a fault to recover from
                if self._stopping.is_set():
                    break
                if not isinstance(exc, SensorError):
                    log.exception("unexpected error from the sensor backend")
                self._recover(exc)
                continue
            if self._on_frame(req):
                self._recover(SensorError(f"the sensor is dropping most frames ({self.frames_dropped} so far)"))

    def _on_frame(self, req: CompletedRequest) -> bool:
        """Take a new frame into the ring and give jobs their frames; True if frames are being lost in bulk."""
        gap = 0 if self._last_seq is None else max(0, req.sequence - self._last_seq - 1)
        self._last_seq = req.sequence
        if gap:
            self.frames_dropped += gap
            log.debug("sensor dropped %d frame(s) before %d", gap, req.sequence)
        self._recent.append(gap)
        self.frames += 1
        self.last_frame_ns = self.clock.monotonic_ns()
        self.last_metadata = dict(req.metadata)
        self.ring.push(req)
        if not self._first_frame.is_set():
            self._first_frame.set()
            self.on_change()
        self._advance_jobs()
        return len(self._recent) == _STORM_WINDOW and sum(self._recent) > _STORM_RATIO * _STORM_WINDOW

    def _advance_jobs(self) -> None:
        with self._lock:
            jobs = list(self._jobs)
        newest = self.ring.newest()
        now = self.clock.monotonic_ns()
        for job in jobs:
            try:
                picks = job.advance(self.ring, self)
            except Exception as exc:  # a job's bug or a rejected control must not stop the stream
                log.error("%s failed: %s", job.kind, exc)
                picks = []
                job.fail_untaken(CaptureError(f"{job.kind} failed: {exc}"))
            for pick in picks:
                self._dispatch(job, pick)
            expired = job.taken == 0 and now - job.press_ns > _PRESS_EXPIRY_S * 1e9
            if expired:
                job.fail_untaken(CaptureError("no frame arrived for this press (the sensor stalled)"))
            if job.finished_taking or (newest is not None and job.past_stop(newest)):
                self._retire(job)

    def _dispatch(self, job: Job, pick) -> None:
        req = pick.request
        with self._lock:
            job.reserved -= 1
        wall_ns = time.time_ns() - (self.clock.monotonic_ns() - req.timestamp_ns)
        writer = job.writer or self.writer
        self.developer.submit(Work(req, None, job.press_ns, wall_ns, pick.info, writer, pick.future))
        try:
            self.on_frame_taken()
        except Exception as exc:  # a listener's failure is not the camera's
            log.error("frame_taken listener failed: %s", exc)

    def _retire(self, job: Job) -> None:
        job.close()
        with self._lock:
            if job in self._jobs:
                self._jobs.remove(job)
            spare, job.reserved = job.reserved, 0
            self._used -= spare
        if spare and self.space is not None:
            self.space.settle(self._estimate() * spare)
        job.finish_when_written()
        if isinstance(job, Bracket):
            self.restore_exposure()
        if spare:
            self.on_change()

    def _fail_jobs(self, reason: BaseException) -> None:
        with self._lock:
            jobs = list(self._jobs)
        for job in jobs:
            job.fail_untaken(reason)
            self._retire(job)

    def _work_finished(self, work: Work, error: BaseException | None) -> None:
        with self._lock:
            self._used -= 1
        if self.space is not None:
            self.space.settle(self._estimate())
        if error is None:
            self.written += 1
            self.storage_error = None
        else:
            self.last_error = str(error)
            if isinstance(error, StorageError):
                if error.errno == errno.ENOSPC and self.space is not None:
                    self.space.mark_full(error)
                else:
                    self.storage_error = str(error)
        self.on_change()

    # -- faults --------------------------------------------------------------------------------------------
    def _recover(self, cause: BaseException) -> None:
        self.fault = str(cause)
        log.error("sensor fault: %s", cause)
        self._fail_jobs(CaptureError(f"sensor fault before the frame was taken: {cause}"))
        self.ring.clear()
        self._recent.clear()
        self._last_seq = None
        self.on_change()
        backoff = Backoff(0.5, self.backoff_max)
        attempt = 0
        while not self._stopping.is_set():
            # Frames already taken must leave their buffers before the camera is torn down.
            self.developer.wait_staged(timeout=30)
            try:
                how = self.keeper.recover(cause, attempt)
                req = self.keeper.next_request(self.frame_timeout)
            except Exception as exc:  # noqa: BLE001 - any failure to reopen is retried, never fatal
                if self._stopping.is_set():
                    return
                attempt += 1
                delay = backoff.next()
                cause = exc
                self.fault = f"{exc}; reopening in {delay:.1f} s (attempt {attempt})"
                log.warning("camera recovery failed: %s", self.fault)
                self.on_change()
                self._stopping.wait(delay)
                continue
            log.warning("camera back after a %s (%d attempt(s)): %s", how, attempt + 1, self.fault)
            self.fault = None
            self._on_frame(req)
            self.on_change()
            return
