"""Running a chain of stages over bands of rows, on a few threads.

At 12 MP every whole-frame intermediate (25 MB of Bayer, 74 MB of 16-bit RGB) streams through main memory and
each fresh one costs page faults. Bands of ``BAND_ROWS`` rows go from raw to the finished 8-bit rows while
their data is still in cache, and the frame's bands are shared among threads (OpenCV and numpy release the
GIL in their kernels).

Each stage reads ``halo`` rows beyond the rows it produces, so a band starts early and ends late by the halos
of all its stages (rounded to whole CFA blocks for Bayer stages) and sheds each stage's share after that
stage has run: every band's rows come out exactly as from the whole frame, which the tests check.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np

from .stage import Kernel, Kind, Stage

BAND_ROWS = 128  # even, so every band starts on a CFA block
THREADS = min(os.cpu_count() or 1, 4)
MIN_PIXELS = 1 << 18  # smaller frames run as one band on the calling thread

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="isp-band")
        return _pool


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

    if len(starts) == 1:
        per_band = [band(0)]
    else:
        per_band = list(_executor().map(band, starts))
    threads = min(THREADS, len(starts))
    for stage, seconds in zip(stages, np.sum(per_band, axis=0)):
        timings[stage.name] = timings.get(stage.name, 0.0) + float(seconds) / threads
    return out
