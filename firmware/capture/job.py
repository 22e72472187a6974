"""Capture jobs: what one trigger asks for (a frame, a burst, a bracket) and how it picks its frames.

A job lives on the streaming thread: each time a frame arrives the engine calls ``advance`` and the job
takes what it needs from the ring (acquired, so the ring can move on). A job sees the engine only through
``JobHost``: a queue slot for an open-ended burst's next frame, and the exposure controls a bracket sets.
Every frame a job takes gets a ``Future`` that resolves when the frame is on disk; ``done`` resolves when the
whole job has finished, with one entry per frame: a ``CaptureResult`` or the exception that frame ended with.

>>> job = engine.burst(press_ns, 10)                      # doctest: +SKIP
>>> [r.stem for r in job.done.result()]                   # doctest: +SKIP
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol

from ..clock import Clock
from ..errors import CaptureError
from ..sensor.request import CompletedRequest
from . import exposure
from .ring import RequestRing

# Frames a bracket waits for the sensor to apply new exposure controls before giving up on that frame
# (libcamera applies controls 2-3 frames late; a long exposure may stretch a few frame times more).
BRACKET_SETTLE_FRAMES = 20


class JobHost(Protocol):
    """What a job may ask of the engine that runs it."""

    clock: Clock

    def reserve_frame(self, job: "Job") -> bool:
        """One more queue slot for an open-ended burst's next frame; False (skip it) when the queue is full."""

    def advertised(self) -> Mapping[str, tuple[Any, Any, Any]]:
        """The sensor's controls: name -> (min, max, default)."""

    def set_controls(self, controls: Mapping[str, Any]) -> None: ...

    def restore_exposure(self) -> None:
        """Back to the held exposure, or to the automatic loops (after a bracket)."""


@dataclass
class Pick:
    """A frame a job took: the request (one reference owned) and what the sidecar says about it."""

    request: CompletedRequest
    info: dict[str, Any]
    future: Future


class Job:
    """Base: one trigger, ``count`` frames (None: until ``stop``), admitted as a whole by the engine."""

    kind = "single"

    def __init__(self, press_ns: int, count: int | None, zsl: bool, info: dict[str, Any] | None = None):
        self.press_ns = press_ns
        self.count = count
        self.zsl = zsl
        self.info = dict(info or {})
        # One future per frame, made up front for a fixed count (so a refusal reaches every one of them).
        self.futures: list[Future] = [Future() for _ in range(count)] if count else []
        self.done: Future = Future()
        self.reserved = 0  # queue slots admitted for frames not yet taken
        self.skipped = 0  # frames an open-ended burst could not take because the queue was full
        self.taken = 0
        self.last_sequence: int | None = None
        self.stop_ns: int | None = None
        self.closed = False
        self.writer = None  # a CaptureWriter for this job only; None: the engine's current one
        self._lock = threading.Lock()

    # -- called on the streaming thread ---------------------------------------------------------------------
    def advance(self, ring: RequestRing, host: JobHost) -> list[Pick]:
        """Take whatever frames this job can now take from ``ring``."""
        if self.last_sequence is None:
            first = ring.pick(self.press_ns, self.zsl)
            if first is None:
                return []
            return self._accept([first], host)
        return self._accept(ring.after(self.last_sequence), host)

    def _accept(self, frames: list[CompletedRequest], host: JobHost) -> list[Pick]:
        picks = []
        for req in frames:
            if self.wants_more() and self._in_window(req):
                if self.taken > 0 and self.count is None and not host.reserve_frame(self):
                    self.skipped += 1
                    self.last_sequence = req.sequence
                    req.release()
                    continue
                picks.append(self._pick(req, self._frame_info(req)))
            else:
                req.release()
            self.last_sequence = req.sequence
        return picks

    def _in_window(self, req: CompletedRequest) -> bool:
        return self.stop_ns is None or req.exposure_start_ns < self.stop_ns

    def _pick(self, req: CompletedRequest, info: dict[str, Any]) -> Pick:
        fut = self._next_future()
        return Pick(req, {**self.info, "kind": self.kind, **info}, fut)

    def _next_future(self) -> Future:
        if self.count is None:
            self.futures.append(Future())
        fut = self.futures[self.taken]
        self.taken += 1
        return fut

    def _frame_info(self, req: CompletedRequest) -> dict[str, Any]:
        return {"index": self.taken, "count": self.count} if self.count != 1 else {}

    def wants_more(self) -> bool:
        return not self.closed and (self.count is None or self.taken < self.count)

    @property
    def finished_taking(self) -> bool:
        return not self.wants_more()

    def stop(self, t_ns: int) -> None:
        """Take no frame whose exposure starts at or after ``t_ns`` (an open-ended burst's release)."""
        self.stop_ns = t_ns

    def past_stop(self, latest: CompletedRequest) -> bool:
        return self.stop_ns is not None and latest.exposure_start_ns >= self.stop_ns

    def close(self) -> None:
        self.closed = True

    def fail_untaken(self, exc: BaseException) -> None:
        """No more frames will come (sensor fault, stop): record why the frames not taken are missing."""
        with self._lock:
            for fut in self.futures[self.taken:]:
                if not fut.done():
                    fut.set_exception(exc)
            self.taken = len(self.futures)
            self.closed = True

    def refuse(self, exc: BaseException) -> None:
        """The engine refused the whole trigger: every frame's future and ``done`` carry the reason."""
        if not self.futures:
            self.futures.append(Future())
        self.fail_untaken(exc)
        self.done.set_exception(exc)

    # -- completion ---------------------------------------------------------------------------------------
    def finish_when_written(self, on_done: Callable[["Job"], None] | None = None) -> None:
        """Resolve ``done`` once every frame's future has resolved."""
        futures = list(self.futures)

        def check(_f=None):
            if all(f.done() for f in futures) and not self.done.done():
                outcome = [f.exception() or f.result() for f in futures]
                try:
                    self.done.set_result(outcome)
                except Exception:  # pragma: no cover - resolved concurrently
                    return
                if on_done is not None:
                    on_done(self)

        if not futures:
            check()
        for f in futures:
            f.add_done_callback(check)


class Shot(Job):
    """One frame: the one exposing at the press (ZSL) or the next one (no ZSL)."""

    def __init__(self, press_ns: int, zsl: bool, kind: str = "single", info: dict[str, Any] | None = None):
        super().__init__(press_ns, 1, zsl, info)
        self.kind = kind


class Burst(Job):
    """``count`` consecutive frames at the sensor's rate from the press; ``count=None`` until ``stop``."""

    kind = "burst"


class Bracket(Job):
    """Exposure bracketing: the 0 EV frame from the press, then each offset once the sensor has applied it.

    The offsets are shot in ``exposure.bracket_order`` whatever order they are given in.
    """

    kind = "bracket"

    def __init__(self, press_ns: int, evs: list[float], zsl: bool, info: dict[str, Any] | None = None):
        super().__init__(press_ns, len(evs), zsl, info)
        self.evs = exposure.bracket_order(evs)
        self._next = 0
        self._base: tuple[int, float] | None = None
        self._target: tuple[int, float, float] | None = None
        self._set_ns = 0
        self._waited = 0

    def advance(self, ring: RequestRing, host: JobHost) -> list[Pick]:
        picks: list[Pick] = []
        if self._base is None:
            first = ring.pick(self.press_ns, self.zsl)
            if first is None:
                return []
            md = first.metadata
            self._base = (int(md["ExposureTime"]), float(md.get("AnalogueGain", 1.0)))
            self.last_sequence = first.sequence
            if self.evs[0] == 0.0:
                picks.append(self._pick(first, self._ev_info(0.0, 0.0)))
                self._next = 1
            else:
                first.release()
            self._request_next(host)
            return picks
        for req in ring.after(self.last_sequence):
            self.last_sequence = req.sequence
            if self._target is None or self.closed:
                req.release()
                continue
            t, g, achieved = self._target
            if req.exposure_start_ns >= self._set_ns and exposure.matches(req.metadata, t, g):
                picks.append(self._pick(req, self._ev_info(self.evs[self._next], achieved)))
                self._next += 1
                self._request_next(host)
                continue
            req.release()
            self._waited += 1
            if self._waited >= BRACKET_SETTLE_FRAMES:
                ev = self.evs[self._next]
                self._next_future().set_exception(CaptureError(
                    f"bracket frame {ev:+g} EV: the sensor did not apply ExposureTime={t} us, AnalogueGain={g:.2f} "
                    f"within {BRACKET_SETTLE_FRAMES} frames"))
                self._next += 1
                self._request_next(host)
        return picks

    def _ev_info(self, ev: float, achieved: float) -> dict[str, Any]:
        info: dict[str, Any] = {"index": self.taken, "count": self.count, "ev": ev}
        if abs(achieved - ev) > 0.01:
            info["ev_achieved"] = round(achieved, 3)
        return info

    def _request_next(self, host: JobHost) -> None:
        self._waited = 0
        if self._next >= len(self.evs) or self.closed:
            self._target = None
            host.restore_exposure()
            return
        base_t, base_g = self._base
        self._target = exposure.bracket_exposure(base_t, base_g, self.evs[self._next], host.advertised())
        t, g, _ = self._target
        self._set_ns = host.clock.monotonic_ns()
        host.set_controls({"ExposureTime": t, "AnalogueGain": g})

    def close(self) -> None:
        super().close()
        self._target = None
