"""The capture engine: a streaming thread that keeps a ring of recent frames and hands jobs their frames.

A shutter press is only a timestamp handed to the engine; the streaming thread resolves it to a frame as soon
as that frame has been read out (zero shutter lag: the frame exposing at the press), and the darkroom's
threads copy, develop and write it. Neither the press (a GPIO callback) nor the sensor ever waits for the disk.

Every trigger is admitted whole before any frame is taken (``admission.py``: queue slots, disk space) or
refused at once with the reason, logged, never dropped silently. A camera that fails (timeout, disconnection, a
storm of dropped frames) is restarted or reopened with backoff; frames already taken keep going to disk.
The engine is configured by one frozen ``EngineSettings`` (``reconfigure``) and reports one frozen
``EngineSnapshot`` (``snapshot``); jobs see it only through ``job.JobHost``.

>>> engine = CaptureEngine(sensor, writer, EngineSettings(zsl=True))      # doctest: +SKIP
>>> engine.start(); result = engine.capture().result()                     # doctest: +SKIP
"""

from __future__ import annotations

import collections
import errno
import logging
import threading
import time
from concurrent.futures import Future
from types import MappingProxyType
from typing import Any, Callable, Mapping

from ..clock import Clock, SystemClock
from ..errors import CaptureError, CaptureRefused, SensorError, StorageError
from ..sensor.protocol import Sensor
from ..sensor.request import CompletedRequest
from ..storage.space import FreeSpace
from .admission import Admission
from .darkroom import Darkroom, Work
from .job import Bracket, Burst, Job, Shot
from .recovery import Backoff, SensorKeeper
from .ring import RequestRing
from .state import EngineSettings, EngineSnapshot
from .writer import CaptureResult, CaptureWriter

log = logging.getLogger(__name__)

_PRESS_EXPIRY_S = 5.0  # a job that no frame can satisfy for this long fails (the stream has stalled)
_STORM_WINDOW = 30  # frames over which a storm of dropped frames is judged
_STORM_RATIO = 2.0  # dropped frames per delivered frame that count as a sensor fault


class CaptureEngine:
    """``on_change()`` hears every change of state (a trigger admitted or refused, the first frame, a capture
    written, a fault);
    ``on_frame_taken()`` every frame a trigger takes. Both run on the engine's threads and must not block."""

    def __init__(self, sensor: Sensor, writer: CaptureWriter, settings: EngineSettings = EngineSettings(), *,
                 clock: Clock | None = None, space: FreeSpace | None = None,
                 reopen: Callable[[], Sensor] | None = None, on_change: Callable[[], None] | None = None,
                 on_frame_taken: Callable[[], None] | None = None):
        self.clock = clock or SystemClock()
        self._settings = settings
        self._keeper = SensorKeeper(sensor, mode=settings.mode or sensor.mode, buffer_count=settings.buffer_count,
                                    reopen=reopen)
        self._writer = writer
        self._admission = Admission(settings.queue_size, space, self._estimate)
        self._ring = RequestRing(settings.ring_size)
        self._darkroom = Darkroom(self._work_finished)
        self._on_change = on_change or (lambda: None)
        self._on_frame_taken = on_frame_taken or (lambda: None)
        self._jobs: list[Job] = []
        self._lock = threading.Lock()  # the jobs and the admission of new ones
        self._first_frame = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._recent: collections.deque[int] = collections.deque(maxlen=_STORM_WINDOW)
        self._last_seq: int | None = None
        self._frames = self._dropped = self._written = self._refusals = 0
        self._last_frame_ns: int | None = None
        self._last_metadata: dict = {}
        self._fault: str | None = None
        self._last_error = self._last_refusal = None
        self._storage_error: str | None = None  # a write failed for a reason other than a full disk

    # -- configuration and state ---------------------------------------------------------------------------
    @property
    def sensor(self) -> Sensor:  # the camera streamed from now (a failed camera is reopened as a new one)
        return self._keeper.sensor

    def reconfigure(self, settings: EngineSettings | None = None, *, sensor: Sensor | None = None,
                    writer: CaptureWriter | None = None, space: FreeSpace | None = None) -> None:
        """Run by new settings, writer or free-space reserve from the next trigger on (captures already taken
        finish with the writer they were taken with). A new ``sensor`` (configured, not started) or a new ring,
        mode or buffer count needs streaming stopped first (``stop_streaming``), then ``restart_streaming``."""
        settings = settings or self._settings
        if (sensor is not None or self._settings.needs_restart(settings)) and self.streaming:
            raise CaptureError("stop streaming before changing the camera, its mode, buffers or the ZSL ring")
        if sensor is not None:
            self._keeper.replace(sensor, mode=settings.mode, buffer_count=settings.buffer_count)
        if settings.ring_size != self._settings.ring_size:
            self._ring = RequestRing(settings.ring_size)
        with self._lock:
            self._settings = settings
            self._writer = writer or self._writer
            self._admission.queue_size = settings.queue_size
            self._admission.space = space or self._admission.space

    def snapshot(self) -> EngineSnapshot:
        """How the engine is doing now, as one frozen value."""
        keeper = self._keeper
        with self._lock:
            return EngineSnapshot(
                settings=self._settings, streaming=self.streaming, has_frame=self._first_frame.is_set(),
                fault=self._fault, storage_error=self._storage_error, last_error=self._last_error,
                last_refusal=self._last_refusal, refusals=self._refusals, written=self._written,
                frames=self._frames, frames_dropped=self._dropped, last_frame_ns=self._last_frame_ns,
                queue_used=self._admission.used, capture_bytes=self._estimate(), locked=keeper.locked,
                restarts=keeper.restarts, reopens=keeper.reopens,
                # The dicts shared here are replaced, never changed, once stored: read-only views, not copies.
                metadata=MappingProxyType(self._last_metadata),
                operator=MappingProxyType(keeper.operator), held=MappingProxyType(keeper.persistent))

    @property
    def streaming(self) -> bool:
        return self._thread is not None and not self._stopping.is_set()

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping.clear()
        self._darkroom.start()
        self._keeper.start()
        self._thread = threading.Thread(target=self._stream, name="camerad-stream", daemon=True)
        self._thread.start()

    def wait_for_frame(self, timeout: float | None = None) -> bool:
        """Block until the first frame has arrived (what systemd readiness waits for)."""
        return self._first_frame.wait(timeout)

    def stop(self, progress: Callable[[], None] | None = None) -> None:
        """Stop streaming, fail jobs still waiting for frames, and finish every capture already taken;
        ``progress()`` is called as each of them reaches the disk (the daemon asks systemd for more time)."""
        if progress is not None:
            self._on_change = progress
        self.stop_streaming(CaptureError("camera stopped before the frame was taken"))
        self._darkroom.stop()

    def stop_streaming(self, reason: BaseException) -> None:
        """Stop the streaming thread only; frames already taken keep going to disk once out of their buffers."""
        self._stopping.set()
        self._keeper.stop()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._fail_jobs(reason)
        self._ring.clear()
        # Frames already taken must leave their buffers before the caller may close the camera.
        self._darkroom.wait_staged(timeout=30)

    def restart_streaming(self) -> None:
        """Stream again (after ``stop_streaming``); a camera that will not start is left to the recovery loop."""
        self._first_frame.clear()
        self._last_seq = None
        self._stopping.clear()
        try:
            self._keeper.start()
        except SensorError as exc:
            log.error("camera would not start: %s", exc)
        self._thread = threading.Thread(target=self._stream, name="camerad-stream", daemon=True)
        self._thread.start()

    # -- triggers ------------------------------------------------------------------------------------------
    def capture(self, press_ns: int | None = None, *, kind: str = "single", info: dict[str, Any] | None = None,
                writer: CaptureWriter | None = None) -> "Future[CaptureResult]":
        """Take the frame for a press at ``press_ns`` (default: now); the future resolves when it is on disk.
        ``writer`` develops and writes this capture only (e.g. another look or raw setting for one shot)."""
        return self.submit(Shot(self._now(press_ns), self._settings.zsl, kind, info), writer).futures[0]

    def burst(self, press_ns: int | None = None, count: int | None = 10, *,
              writer: CaptureWriter | None = None) -> Job:
        """``count`` frames at the sensor's rate from the press; ``None`` keeps going until ``job.stop(t)``."""
        return self.submit(Burst(self._now(press_ns), count, self._settings.zsl), writer)

    def bracket(self, press_ns: int | None, evs: list[float], *, writer: CaptureWriter | None = None) -> Job:
        """One frame per EV offset, shot in ``exposure.bracket_order`` (the zero-lag 0 EV frame first)."""
        return self.submit(Bracket(self._now(press_ns), evs, self._settings.zsl), writer)

    def submit(self, job: Job, writer: CaptureWriter | None = None) -> Job:
        """Admit ``job`` (or refuse it with the reason, in ``job.done`` and its first frame's future)."""
        job.writer = writer
        need = job.count or 1
        try:
            with self._lock:
                if not self.streaming:
                    raise CaptureRefused("camera is not streaming")
                if self._fault:
                    raise CaptureRefused(f"camera is recovering from a fault ({self._fault})")
                self._admission.admit(need, job.kind)
                job.reserved = need
                self._jobs.append(job)
        except CaptureRefused as exc:
            with self._lock:
                self._refusals += 1
                self._last_refusal = exc.reason
            log.warning("capture refused (%s at %.3f s): %s", job.kind, job.press_ns / 1e9, exc.reason)
            # A refusal is an outcome, not a crash: drop the traceback, which would pin the caller's frames
            # (and everything they hold) for as long as the refused future is kept.
            job.refuse(exc.with_traceback(None))
        self._on_change()  # admitted (the queue holds more) or refused (the reason is news): either way a change
        return job

    def reserve_frame(self, job: Job) -> bool:
        """One more slot for an open-ended burst's next frame; False (frame skipped) when the queue is full."""
        with self._lock:
            if not self._admission.admit_one():
                return False
            job.reserved += 1
            return True

    def newest_frame(self) -> CompletedRequest | None:
        """The newest frame in the ring, acquired for the caller (who releases it), or None (a viewfinder)."""
        return self._ring.newest_acquired()

    def _now(self, press_ns: int | None) -> int:
        return self.clock.monotonic_ns() if press_ns is None else press_ns

    def _estimate(self) -> int:  # the disk space one capture is admitted with
        mode = self._keeper.mode
        return self._writer.estimate_bytes(*mode.size) if mode is not None else 0

    # -- exposure: the keeper holds what outlives a restart (the half-press lock, the operator's controls) ----
    def advertised(self) -> Mapping[str, tuple[Any, Any, Any]]:
        return self._keeper.advertised()

    def set_controls(self, controls: Mapping[str, Any]) -> None:
        self._keeper.set_controls(controls)

    def lock_exposure(self) -> dict[str, Any]:
        """Hold AE and AWB (and focus once, where the lens can) at the latest frame's values."""
        return self._keeper.lock_exposure(self._last_metadata)

    def unlock_exposure(self) -> None:
        self._keeper.unlock_exposure()

    def set_operator_controls(self, manual: Mapping[str, Any], automatic: Mapping[str, Any] = {}) -> None:
        self._keeper.set_operator_controls(manual, automatic)

    def restore_exposure(self) -> None:
        self._keeper.restore_exposure()

    # -- streaming thread ----------------------------------------------------------------------------------
    def _stream(self) -> None:
        while not self._stopping.is_set():
            try:
                req = self._keeper.next_request(self._settings.frame_timeout)
            except Exception as exc:  # noqa: BLE001 - any failure of the camera stack is a fault to recover from
                if self._stopping.is_set():
                    break
                if not isinstance(exc, SensorError):
                    log.exception("unexpected error from the sensor backend")
                self._recover(exc)
                continue
            if self._on_frame(req):
                self._recover(SensorError(f"the sensor is dropping most frames ({self._dropped} so far)"))

    def _on_frame(self, req: CompletedRequest) -> bool:
        """Take a new frame into the ring and give jobs their frames; True if frames are being lost in bulk."""
        gap = 0 if self._last_seq is None else max(0, req.sequence - self._last_seq - 1)
        self._last_seq = req.sequence
        if gap:
            self._dropped += gap
            log.debug("sensor dropped %d frame(s) before %d", gap, req.sequence)
        self._recent.append(gap)
        self._frames += 1
        self._last_frame_ns = self.clock.monotonic_ns()
        self._last_metadata = dict(req.metadata)
        self._ring.push(req)
        if not self._first_frame.is_set():
            self._first_frame.set()
            self._on_change()
        self._advance_jobs()
        return len(self._recent) == _STORM_WINDOW and sum(self._recent) > _STORM_RATIO * _STORM_WINDOW

    def _advance_jobs(self) -> None:
        with self._lock:
            jobs = list(self._jobs)
        newest = self._ring.newest()
        now = self.clock.monotonic_ns()
        for job in jobs:
            try:
                picks = job.advance(self._ring, self)
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
            writer = job.writer or self._writer
        wall_ns = time.time_ns() - (self.clock.monotonic_ns() - req.timestamp_ns)
        self._darkroom.submit(Work(req, None, job.press_ns, wall_ns, pick.info, writer, pick.future))
        try:
            self._on_frame_taken()
        except Exception as exc:  # a listener's failure is not the camera's
            log.error("frame_taken listener failed: %s", exc)

    def _retire(self, job: Job) -> None:
        job.close()
        with self._lock:
            if job in self._jobs:
                self._jobs.remove(job)
            spare, job.reserved = job.reserved, 0
            self._admission.release(spare)
        job.finish_when_written()
        if isinstance(job, Bracket):
            self.restore_exposure()
        if spare:
            self._on_change()

    def _fail_jobs(self, reason: BaseException) -> None:
        with self._lock:
            jobs = list(self._jobs)
        for job in jobs:
            job.fail_untaken(reason)
            self._retire(job)

    def _work_finished(self, work: Work, error: BaseException | None) -> None:
        with self._lock:
            space = self._admission.space
            self._admission.release(1)
            if error is None:
                self._written += 1
                self._storage_error = None
            else:
                self._last_error = str(error)
                if isinstance(error, StorageError):
                    if error.errno == errno.ENOSPC and space is not None:
                        space.mark_full(error)
                    else:
                        self._storage_error = str(error)
        self._on_change()

    # -- faults --------------------------------------------------------------------------------------------
    def _recover(self, cause: BaseException) -> None:
        self._fault = str(cause)
        log.error("sensor fault: %s", cause)
        self._fail_jobs(CaptureError(f"sensor fault before the frame was taken: {cause}"))
        self._ring.clear()
        self._recent.clear()
        self._last_seq = None
        self._on_change()
        backoff = Backoff(0.5, self._settings.backoff_max)
        attempt = 0
        while not self._stopping.is_set():
            # Frames already taken must leave their buffers before the camera is torn down.
            self._darkroom.wait_staged(timeout=30)
            try:
                how = self._keeper.recover(cause, attempt)
                req = self._keeper.next_request(self._settings.frame_timeout)
            except Exception as exc:  # noqa: BLE001 - any failure to reopen is retried, never fatal
                if self._stopping.is_set():
                    return
                attempt += 1
                delay = backoff.next()
                cause = exc
                self._fault = f"{exc}; reopening in {delay:.1f} s (attempt {attempt})"
                log.warning("camera recovery failed: %s", self._fault)
                self._on_change()
                self._stopping.wait(delay)
                continue
            log.warning("camera back after a %s (%d attempt(s)): %s", how, attempt + 1, self._fault)
            self._fault = None
            self._on_frame(req)
            self._on_change()
            return
