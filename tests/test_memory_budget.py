"""One memory budget holds the ZSL ring, the streaming buffers and the queued captures: the queue shrinks to fit
at full resolution, the resident memory of a full queue is what the plan says (the kernel's RSS is the judge),
and the systemd unit's limits cover the default budget."""

import gc
import threading
import time

import pytest

from daemon_support import make_app, outcomes, wait_until
from firmware.capture import budget
from firmware.capture.budget import MB, OVERHEAD_MB, plan
from firmware.capture.writer import CaptureWriter
from firmware.config import Config
from firmware.errors import CaptureRefused, ConfigError

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


def test_a_full_queue_holds_what_the_plan_says_and_no_more(tmp_path, monkeypatch):
    """At 2028x1520 with a 64 MB budget: 6 captures may wait (not the configured 12); holding the developer,
    the process's RSS grows by their raw frames, within the budget; a 7th capture is refused as queue full."""
    gate = threading.Event()
    real_write = CaptureWriter.write

    def held_write(self, *a, **kw):
        gate.wait(60)
        return real_write(self, *a, **kw)

    monkeypatch.setattr(CaptureWriter, "write", held_write)
    app = make_app(tmp_path, sensor={"mode": "2028x1520"}, capture={"memory_budget_mb": 64, "queue_size": 12,
                                                                     "raw": False})
    try:
        frame = 2028 * 1520 * 2
        assert app.plan.queue == 6 and app.engine.queue_size == 6 and app.plan.capture_bytes == frame
        gate.set()  # one capture first: the mock's render temporaries get their heap space once, before measuring
        app.engine.capture().result(timeout=60)
        gate.clear()
        gc.collect()
        before = rss()
        job = app.engine.burst(None, 6)
        assert wait_until(lambda: app.engine.developer.backlog == 5 and not app.engine.developer._staging,
                          timeout=180), f"backlog {app.engine.developer.backlog}"
        grown = rss() - before
        refused = app.engine.capture()
        assert isinstance(refused.exception(timeout=5), CaptureRefused)
        assert "queue is full: 6 of 6" in refused.exception().reason
        # Six raw frames held (one of them by the held developer); the kernel's count, so allow a frame of noise.
        assert 4 * frame <= grown <= 64 * MB, f"RSS grew {grown / MB:.0f} MB holding 6 captures of {frame / MB:.1f} MB"
        gate.set()
        assert all(not isinstance(o, Exception) for o in outcomes(job.futures))
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
