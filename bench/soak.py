"""Soak: a real ``camerad --mock`` (default configuration: 12.3 MP, denoise hq) driven over its control socket
for ``--minutes`` (default 10): a capture a second and a ``status`` every 100 ms, as a busy operator's scripts
would. Every 10 s the daemon's RSS, open files and threads are read from /proc; the figures are their values at
the start (after a minute's warm-up, when the caches are built) and end, and their slopes (least squares) over
the run after the warm-up; RSS also without the raw frames of the captures queued at that moment (what the
queue holds by design, docs/memory.md), since a machine that cannot keep up keeps the queue full. Captures are deleted once written, as an operator offloading the card would, so the
disk does not fill. Not part of CI: ``python -m bench soak --minutes 10``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.daemon import MockDaemon
from bench.timing import load_note
from firmware.errors import CameradError

SAMPLE_S = 10.0
WARM_UP_S = 60.0


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) samples, per minute."""
    if len(samples) < 2:
        return float("nan")
    n = len(samples)
    mt = sum(t for t, _ in samples) / n
    mv = sum(v for _, v in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    return 60 * sum((t - mt) * (v - mv) for t, v in samples) / var if var else float("nan")


def _minute_minima(samples: list[tuple[float, ...]]) -> list[tuple[float, float]]:
    """(minute's middle, lowest RSS-without-queue in it) for each whole minute of samples."""
    minutes: dict[int, list[tuple[float, float]]] = {}
    for t, *_, q in samples:
        minutes.setdefault(int(t // 60), []).append((t, q))
    return [(60 * m + 30, min(q for _, q in v)) for m, v in sorted(minutes.items()) if len(v) >= 3]


def _sample(daemon: MockDaemon, client, t: float, raw_mb: float) -> tuple[float, float, float, float, float]:
    rss, used = daemon.rss_mb(), client.call("status")["queue"]["used"]
    return t, rss, daemon.open_files(), daemon.threads(), rss - used * raw_mb


def _offload(captures: Path, keep: set[str]) -> int:
    """Delete written captures (not the newest few, which may still be in use); return how many files."""
    gone = 0
    for p in sorted(captures.iterdir()) if captures.is_dir() else []:
        if not p.name.startswith(".") and p.name.split(".", 1)[0] not in keep:
            p.unlink(missing_ok=True)
            gone += 1
    return gone


def run(quick: bool = False, minutes: float | None = None) -> dict:
    minutes = minutes if minutes is not None else (1.5 if quick else 10.0)
    warm_up = min(WARM_UP_S, minutes * 60 / 4)
    out: dict = {"load_at_start": load_note(), "minutes": minutes}
    with tempfile.TemporaryDirectory() as d:
        daemon = MockDaemon(Path(d)).start()
        client = daemon.client(timeout=30)
        w, h = (int(v) for v in client.call("status")["sensor"]["mode"].split("x"))
        raw_mb = w * h * 2 / 2**20  # what each queued capture holds, by design (docs/memory.md)
        samples: list[tuple[float, float, float, float, float]] = []  # (t, RSS MB, fds, threads, RSS - queue)
        counts = dict.fromkeys(("captures_admitted", "captures_refused", "status_ok", "status_errors",
                                "files_offloaded"), 0)
        t0 = time.monotonic()
        next_capture = next_sample = t0
        try:
            while (now := time.monotonic()) < t0 + minutes * 60:
                if now >= next_sample:
                    samples.append(_sample(daemon, client, now - t0, raw_mb))
                    next_sample += SAMPLE_S
                    stems = sorted({p.name.split(".", 1)[0] for p in daemon.captures.glob("2*")})
                    counts["files_offloaded"] += _offload(daemon.captures, set(stems[-3:]))
                if now >= next_capture:
                    next_capture += 1.0
                    try:
                        client.call("capture", wait=False)
                        counts["captures_admitted"] += 1
                    except CameradError:  # refused (queue full on a loaded machine): counted, not a crash
                        counts["captures_refused"] += 1
                try:
                    client.call("status")
                    counts["status_ok"] += 1
                except CameradError:
                    counts["status_errors"] += 1
                    client.close()
                    client = daemon.client(timeout=30)
                time.sleep(max(0.0, 0.1 - (time.monotonic() - now)))
            samples.append(_sample(daemon, client, time.monotonic() - t0, raw_mb))
            time.sleep(5.0)  # the last captures develop
            written = client.call("status")["captures_written"]
        finally:
            client.close()
            code = daemon.stop()
    steady = [s for s in samples if s[0] >= warm_up] or samples
    first, last = steady[0], samples[-1]
    out.update(counts)
    out.update({
        "captures_written": written,
        "exit_status": code,
        "rss_mb_at_daemon_start": samples[0][1],
        "rss_mb_after_warm_up": first[1],
        "rss_mb_at_end": last[1],
        "rss_mb_per_minute_after_warm_up": slope_per_minute([(t, r) for t, r, *_ in steady]),
        # The queue holds a raw frame per waiting capture by design; without it the slope is the daemon's own.
        "rss_without_queued_frames_mb_after_warm_up_and_at_end": f"{first[4]:.0f} / {last[4]:.0f}",
        "rss_without_queued_frames_mb_per_minute": slope_per_minute([(t, q) for t, *_, q in steady]),
        # A capture being developed adds its working set to whichever sample it overlaps; each minute's lowest
        # sample is the daemon between captures, and its trend is the one a leak would show.
        "rss_without_queued_frames_minute_minima_mb_per_minute": slope_per_minute(_minute_minima(steady)),
        "open_files_at_start": samples[0][2],
        "open_files_after_warm_up": first[2],
        "open_files_at_end": last[2],
        "open_files_per_minute_after_warm_up": slope_per_minute([(t, f) for t, _, f, *_ in steady]),
        "threads_after_warm_up_and_at_end": f"{first[3]} / {last[3]}",
        "samples": len(samples),
        "warm_up_s": warm_up,
        "load_at_end": load_note(),
    })
    return out
