"""The darkroom, off the capture path: copy each taken frame out of its sensor buffer, then develop and write it.

Two threads, two queues. The *stager* copies a taken frame's raw pixels into ordinary memory and hands the
sensor buffer straight back (on a Pi the buffers are scarce CMA memory; the mock renders the frame here),
so a burst never starves the sensor. The *developer* runs the ISP and the encoders and writes the files.
Both queues hold only frames the engine admitted against its slots, so their length is bounded by
``capture.queue_size`` without either thread ever blocking the streaming thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..sensor.request import CompletedRequest
from .writer import CaptureWriter, RawFrame

log = logging.getLogger(__name__)


@dataclass
class Work:
    """One taken frame on its way to disk."""

    request: CompletedRequest | None
    frame: RawFrame | None
    press_ns: int
    wall_ns: int
    info: dict[str, Any]
    writer: CaptureWriter
    future: Future


class Darkroom:
    """The stager and developer threads and their queues; ``on_finished(work, error)`` hears every frame's end."""

    def __init__(self, on_finished: Callable[[Work, BaseException | None], None]):
        self._on_finished = on_finished
        self._stage_q: queue.Queue = queue.Queue()
        self._develop_q: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._staging = 0
        self._idle = threading.Condition()

    def start(self) -> None:
        if self._threads:
            return
        self._threads = [threading.Thread(target=self._stage_loop, name="camerad-stage", daemon=True),
                         threading.Thread(target=self._develop_loop, name="camerad-develop", daemon=True)]
        for t in self._threads:
            t.start()

    def submit(self, work: Work) -> None:
        with self._idle:
            self._staging += 1
        self._stage_q.put(work)

    def wait_staged(self, timeout: float | None = None) -> bool:
        """Block until every submitted frame has left its sensor buffer (before the sensor is closed)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._staging == 0, timeout)

    @property
    def backlog(self) -> int:
        return self._stage_q.qsize() + self._develop_q.qsize()

    def stop(self) -> None:
        """Finish everything submitted, then end both threads."""
        if not self._threads:
            return
        self._stage_q.put(None)
        for t in self._threads:
            t.join()
        self._threads = []

    # -- threads -------------------------------------------------------------------------------------------
    def _stage_loop(self) -> None:
        while True:
            work = self._stage_q.get()
            if work is None:
                self._develop_q.put(None)
                return
            try:
                work.frame = _copy_out(work.request)
            except Exception as exc:  # the buffer was lost (sensor torn down): the press learns why
                log.error("capture failed: could not read frame %d: %s", work.request.sequence, exc)
                self._finish(work, exc)
            else:
                self._develop_q.put(work)
            finally:
                work.request.release()
                work.request = None
                with self._idle:
                    self._staging -= 1
                    self._idle.notify_all()

    def _develop_loop(self) -> None:
        while True:
            work = self._develop_q.get()
            if work is None:
                return
            try:
                result = work.writer.write(work.frame, work.press_ns, work.wall_ns, work.info)
            except Exception as exc:  # the daemon carries on; the press learns why
                log.error("capture failed: %s", exc)
                self._finish(work, exc)
            else:
                work.frame = None
                self._on_finished(work, None)
                work.future.set_result(result)

    def _finish(self, work: Work, exc: BaseException) -> None:
        work.frame = None
        self._on_finished(work, exc)
        work.future.set_exception(exc)


def _copy_out(request: CompletedRequest) -> RawFrame:
    raw = request.make_array("raw")
    # A backend may hand out a view of its buffer; the copy must outlive the buffer's return.
    if raw.base is not None and not raw.flags.owndata:
        raw = np.array(raw, copy=True)
    return RawFrame(raw=raw, metadata=request.get_metadata(), sequence=request.sequence,
                    timestamp_ns=request.timestamp_ns, exposure_start_ns=request.exposure_start_ns)
