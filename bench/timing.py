"""Small helpers shared by the benchmarks: timing, the machine's load, and outcomes that a loaded machine may
turn into refusals or timeouts (counted and reported, never a crash)."""

from __future__ import annotations

import concurrent.futures
import resource
import statistics
import time
from typing import Callable, Iterable


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


def outcomes(futures: Iterable[concurrent.futures.Future], timeout: float) -> tuple[list, dict[str, int]]:
    """The results of ``futures``, and how many were refused (queue full, storage low, camera recovering), not
    done within ``timeout`` s each, or failed: a loaded machine refuses captures, and a benchmark says so."""
    from firmware.errors import CaptureError, CaptureRefused

    results: list = []
    tally = {"refused": 0, "timed_out": 0, "failed": 0}
    for fut in futures:
        try:
            results.append(fut.result(timeout=timeout))
        except CaptureRefused:
            tally["refused"] += 1
        except (TimeoutError, concurrent.futures.TimeoutError):
            tally["timed_out"] += 1
        except CaptureError:
            tally["failed"] += 1
    return results, tally
