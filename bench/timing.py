"""Small timing helpers shared by the benchmarks."""

from __future__ import annotations

import resource
import statistics
import time
from typing import Callable


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls, in seconds (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_note() -> str:
    """The machine's load as benchmarks report it: 1/5/15-minute load averages against the core count."""
    import os

    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"
