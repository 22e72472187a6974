"""One memory budget holds the ZSL ring, the streaming buffers and the queued captures: the queue shrinks to fit
at full resolution, the resident memory of a full queue is what the plan says (the kernel's RSS is the judge),
and the systemd unit's limits cover the default budget."""

import gc
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from daemon_support import ROOT, burst, capture, make_app, outcomes, wait_until
from firmware.capture import budget
from firmware.capture.budget import MB, OVERHEAD_MB, capture_bytes, plan
from firmware.capture.writer import CaptureWriter
from firmware.config import Config
from firmware.errors import ConfigError

RAW_12MP = 4056 * 3040 * 2  # a queued 12.3 MP capture: its 16-bit raw frame
PI_REQUEST_12MP = RAW_12MP + 4056 * 3040 * 3  # a Pi's buffer: raw plus the ISP's full-resolution RGB image


def test_default_budget_at_full_resolution_on_the_mock():
    c = Config().capture
    p = plan(c.memory_budget_mb, RAW_12MP, zsl=True, queue_size=c.queue_size, per_capture=RAW_12MP,
             lazy_buffers=True)
    assert (p.queue, p.ring) == (12, 2)  # 12 × 24.7 MB queued, the ZSL ring and two streaming buffers
    assert p.budget_bytes <= c.memory_budget_mb * MB
    assert p.queue >= Config().capture.burst_frames  # the default burst is admitted whole


def test_default_budget_at_full_resolution_on_a_pi():
    c = Config().capture
    p = plan(c.memory_budget_mb, PI_REQUEST_12MP, zsl=True, queue_size=c.queue_size, per_capture=RAW_12MP)
    assert (p.queue, p.ring) == (6, 2)  # the 61.6 MB buffers leave room for 6 queued raw frames
    assert p.budget_bytes <= c.memory_budget_mb * MB
    assert p.buffer_count == p.ring + budget.STREAM_HEADROOM + budget.STAGE_SLACK


@pytest.mark.parametrize("budget_mb, queue, ring", [(256, 6, 2), (512, 12, 7), (4096, 12, 160)])
def test_the_queue_comes_before_a_deeper_ring(budget_mb, queue, ring):
    p = plan(budget_mb, RAW_12MP, zsl=True, queue_size=12, per_capture=RAW_12MP)
    assert (p.queue, p.ring) == (queue, ring)
    assert p.budget_bytes <= budget_mb * MB


def test_small_modes_get_the_configured_queue():
    raw = 1332 * 990 * 2
    p = plan(384, raw, zsl=True, queue_size=12, per_capture=raw)
    assert p.queue == 12 and p.ring > 100


def test_a_budget_that_cannot_hold_one_capture_is_a_config_error():
    with pytest.raises(ConfigError, match=r"memory_budget_mb = 100 cannot hold 4 sensor buffers .* 23\.5 MB .* "
                                          r"needs at least 118 MB \(or set capture.zsl = false\)"):
        plan(100, RAW_12MP, zsl=True, queue_size=12, per_capture=RAW_12MP)
    with pytest.raises(ConfigError, match="cannot hold 8 sensor buffers"):
        plan(200, RAW_12MP, zsl=True, queue_size=12, per_capture=RAW_12MP, fixed_buffers=8)
    p = plan(100, RAW_12MP, zsl=False, queue_size=12, per_capture=RAW_12MP)
    assert p.queue == 1 and p.ring == 1


def test_a_full_queue_holds_what_the_plan_says_and_no_more(tmp_path):
    """At 2028x1520 with a 64 MB budget: 6 captures may wait (not the configured 12); holding the developer,
    camerad's RSS grows by their raw frames, within the budget; a 7th capture is refused as queue full.
    Measured in a fresh process run as the unit runs camerad (its malloc setting): in this one, memory earlier
    tests freed would hold the frames without the kernel seeing any growth."""
    from bench.daemon import unit_malloc_environment

    r = subprocess.run([sys.executable, "-c", f"import sys; sys.path[:0] = {[str(ROOT / 'tests'), str(ROOT)]!r}; "
                        f"import test_memory_budget as t; t.queue_probe({str(tmp_path)!r})"], cwd=ROOT,
                       capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, **unit_malloc_environment()))
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    frame = 2028 * 1520 * 2
    assert got["plan"] == [6, 6, frame]  # queue, engine queue size, bytes a queued capture holds
    assert "queue is full: 6 of 6" in got["refused"]
    # Six raw frames held (one of them by the held developer), as the kernel counts them.
    assert 5.5 * frame <= got["grown"] <= 64 * MB, f"RSS grew {got['grown'] / MB:.0f} MB holding 6 of {frame / MB:.1f} MB"
    assert got["written"] == 7


def queue_probe(tmp: str) -> None:
    """The measurement, in its own process: prints {plan, grown, refused, written} as JSON."""
    gate = threading.Event()
    real_write = CaptureWriter.write
    CaptureWriter.write = lambda self, *a, **kw: (gate.wait(120), real_write(self, *a, **kw))[1]
    app = make_app(Path(tmp), sensor={"mode": "2028x1520"}, capture={"memory_budget_mb": 64, "queue_size": 12,
                                                                     "raw": False})
    try:
        gate.set()  # one capture first: the ISP's tables and the denoiser are made before measuring
        capture(app).result(timeout=120)
        gate.clear()
        gc.collect()
        before = rss()
        job = burst(app, 6)
        darkroom = app._engine._darkroom  # the developer held back: how many frames wait for it
        if not wait_until(lambda: darkroom.backlog == 5 and not darkroom._staging, 300):
            raise RuntimeError(f"the queue did not fill: backlog {darkroom.backlog}")
        grown = rss() - before
        refused = capture(app).exception(timeout=10)
        gate.set()
        written = 1 + sum(not isinstance(o, Exception) for o in outcomes(job.futures))
        engine = app.snapshot().engine
        print(json.dumps({"plan": [engine.settings.queue_size, engine.queue_size, capture_bytes(app.mode)],
                          "grown": grown,
                          "refused": getattr(refused, "reason", repr(refused)), "written": written}))
    finally:
        gate.set()
        app.stop()


def rss() -> int:
    time.sleep(0.2)  # let the stager's temporaries go
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:"))


def test_unit_memory_limits_cover_the_default_budget():
    from test_systemd_units import unit

    s = unit("camerad.service")
    high, hard = (_bytes(s[k][0]) for k in ("MemoryHigh", "MemoryMax"))
    assert high >= (Config().capture.memory_budget_mb + OVERHEAD_MB) * MB
    assert hard > high and s["MemorySwapMax"] == ["0"]
    assert int(s["LimitNOFILE"][0]) >= 4 * Config().control.max_clients
    assert int(s["TasksMax"][0]) >= Config().control.max_clients + 64


def _bytes(value: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(value[:-1]) * units[value[-1]] if value[-1] in units else int(value)
