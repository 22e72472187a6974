"""Running a chain of stages over bands of rows, on a few threads.

At 12 MP every whole-frame intermediate (25 MB of Bayer, 74 MB of 16-bit RGB) streams through main memory and
each fresh one costs page faults. Bands of ``BAND_ROWS`` rows go from raw to the finished 8-bit rows while
their data is still in cache, and the frame's bands are shared among threads (OpenCV and numpy release the
GIL in their kernels): the calling thread takes bands one after another and pool threads join in when they
are free, so a frame never waits behind another pipeline's bands (a still develop and the viewfinder share
the pool) and a busy pool only means fewer helpers.

Each stage reads ``halo`` rows beyond the rows it produces, so a band starts early and ends late by the halos
of all its stages (rounded to whole CFA blocks for Bayer stages) and sheds each stage's share after that
stage has run: every band's rows come out exactly as from the whole frame, which the tests check.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Sequence, TypeVar

import numpy as np

from .stage import Kernel, Kind, Stage

BAND_ROWS = 128  # even, so every band starts on a CFA block
# The calling thread and THREADS - 1 helpers, on the CPUs this process may use (systemd may restrict them).
THREADS = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4)
MIN_PIXELS = 1 << 18  # smaller frames run as one band on the calling thread

T = TypeVar("T")
R = TypeVar("R")
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _helpers() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(THREADS - 1, 1), thread_name_prefix="isp-band")
        return _pool


def share(work: Callable[[T], R], items: Iterable[T]) -> list[tuple[T, R, str]]:
    """``work(item)`` for every item, on this thread and free helper threads; (item, result, thread name)."""
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for item in items:
        todo.put(item)
    done: list[tuple[T, R, str]] = []

    def drain() -> None:
        name = threading.current_thread().name
        while True:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            done.append((item, work(item), name))

    helpers = [_helpers().submit(drain) for _ in range(min(THREADS - 1, todo.qsize() - 1))]
    try:
        drain()
    except BaseException:
        while not todo.empty():  # stop the helpers at their next item
            todo.get_nowait()
        raise
    finally:
        for future in helpers:
            # A helper still queued (the pool busy with another frame) is not needed any more; one that started
            # is finishing its last band, which writes into the caller's output.
            if not future.cancel():
                future.exception()
    for future in helpers:
        if not future.cancelled():
            future.result()  # a helper's error
    return done


def margins(stages: Sequence[Stage]) -> list[int]:
    """Rows each stage's input needs beyond a band on either side (last entry: the chain's output, 0)."""
    out = [0] * (len(stages) + 1)
    for k in reversed(range(len(stages))):
        m = out[k + 1] + int(stages[k].halo or 0)
        if stages[k].input.kind is Kind.BAYER and m % 2:
            m += 1  # keep each band's first row on the CFA's first row
        out[k] = m
    return out


def run_bands(stages: Sequence[Stage], kernels: Sequence[Kernel], image: np.ndarray,
              timings: dict[str, float]) -> np.ndarray:
    """The output of ``kernels`` (one per stage, prepared for this frame) applied to ``image`` in bands.

    Adds each stage's share of the wall time to ``timings``: its kernel's time summed over the bands, divided
    by the threads that ran them.
    """
    h, w = image.shape[:2]
    last = stages[-1].output
    out = np.empty((h, w, 3) if last.kind is Kind.RGB else (h, w), last.dtype)
    need = margins(stages)
    band_rows = h if h * w < MIN_PIXELS else BAND_ROWS
    starts = range(0, h, band_rows)

    def band(y0: int) -> list[float]:
        y1 = min(h, y0 + band_rows)
        top = max(0, y0 - need[0])
        rows = image[top:min(h, y1 + need[0])]
        spent = []
        for k, (stage, kernel) in enumerate(zip(stages, kernels)):
            t = time.perf_counter()
            if stage.in_place and np.may_share_memory(rows, image):
                rows = rows.copy()  # neighbouring bands read these rows too
            result = kernel(rows, top)
            spent.append(time.perf_counter() - t)
            stage.output.check(result, stage.name, "output")
            if result.shape[:2] != rows.shape[:2]:
                raise ValueError(f"{stage.name}: a band of {rows.shape[:2]} came back as {result.shape[:2]}")
            keep = max(0, y0 - need[k + 1])
            rows = result[keep - top:min(h, y1 + need[k + 1]) - top]
            top = keep
        out[y0:y1] = rows
        return spent

    done = share(band, starts)
    threads = len({name for _, _, name in done})
    for stage, seconds in zip(stages, np.sum([spent for _, spent, _ in done], axis=0)):
        timings[stage.name] = timings.get(stage.name, 0.0) + float(seconds) / threads
    return out
