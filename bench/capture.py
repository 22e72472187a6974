"""Capture engine and daemon on the 12.3 MP mock (IMX477 4056x3040 @ 10 fps), in real time.

* Shutter lag, ZSL and not: presses at random phases of the frame, lag from press to the taken frame's exposure
  start, in frames (the reference is the frame period itself) and ms.
* Burst: 10 full-resolution frames from one press: are they consecutive sensor frames (held at sensor rate)?
  Then the sustained rate and shot-to-shot time to files on disk, against the time one capture takes to
  develop alone (the reference: a burst can at best drain at that pace).
* Peak RSS with the ZSL ring full of resident frames, in a fresh process, against capture.memory_budget_mb.
* Idle CPU of ``camerad --mock`` against a bare consumer of the same mock stream.
* Press handling: the time a trigger costs the caller, against one frame period.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.timing import load_note, outcomes
from firmware.actions import CaptureRequest, DriveMode
from firmware.config import parse

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
SINGLE = CaptureRequest(drive=DriveMode.SINGLE)  # one frame now, whatever the drive mode


def _config(tmp: Path, **capture):
    return parse({"sensor": {"backend": "mock"}, "gpio": {"backend": "mock"},
                  "capture": {"directory": str(tmp / "caps"), **capture},
                  "storage": {"reserve_mb": 0, "state_directory": str(tmp / "state")}})


def _app(tmp: Path, **capture):
    from firmware.camera import Camerad

    app = Camerad(_config(tmp, **capture), gpio=False)
    app.start()
    if not app.wait_for_frame(60):
        raise RuntimeError("the mock produced no frame")
    time.sleep(0.5)  # AE/AWB settle
    return app


def _lag(zsl: bool, presses: int) -> tuple[list[float], list[int], float, dict]:
    with tempfile.TemporaryDirectory() as d:
        app = _app(Path(d), zsl=zsl, raw=False)
        try:
            rng = random.Random(1)
            results, tally = [], {}
            for _ in range(presses):
                time.sleep(rng.uniform(0.05, 0.25))  # a random phase within the frame
                got, t = outcomes(list(app.trigger(SINGLE).futures), timeout=300)
                results += got
                tally = {k: tally.get(k, 0) + v for k, v in t.items()}
            period_ms = results[0].frame_duration_us / 1000 if results else float("nan")
        finally:
            app.stop()
    return [r.lag_ns / 1e6 for r in results], [r.lag_frames for r in results], period_ms, tally


def _burst(frames: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        app = _app(Path(d), queue_size=max(12, frames))
        try:
            outcomes(list(app.trigger(SINGLE).futures), timeout=300)  # warm up (first ISP run builds its tables)
            singles, _ = outcomes(list(app.trigger(SINGLE).futures), timeout=300)
            t0 = time.perf_counter()
            job = app.trigger(CaptureRequest(drive=DriveMode.BURST, count=frames)).job
            landed, results = [], []
            for fut in job.futures:
                got, tally = outcomes([fut], timeout=600)
                if got:
                    landed.append(time.perf_counter())
                    results += got
        finally:
            app.stop()
    if len(results) < 2 or not singles:
        return {"burst_frames": len(results), "burst_note": f"the burst was not written whole on this loaded "
                f"machine ({job.done.exception(timeout=0) if job.done.done() else 'not done'})"}
    single = singles[0]
    seqs = [r.sequence for r in results]
    ts = [r.timestamp_ns for r in results]
    consecutive = sum(1 for a, b in zip(seqs, seqs[1:]) if b == a + 1) + 1
    capture_fps = (len(ts) - 1) / ((ts[-1] - ts[0]) / 1e9)
    shot_to_shot = [b - a for a, b in zip(landed, landed[1:])]
    return {
        "burst_frames": len(results),
        "burst_consecutive_sensor_frames": consecutive,
        "burst_capture_fps": capture_fps,
        "sensor_fps": 1e6 / results[0].frame_duration_us,
        "burst_capture_fps_vs_sensor": capture_fps / (1e6 / results[0].frame_duration_us),
        "burst_to_disk_fps": len(results) / (landed[-1] - t0),
        "burst_shot_to_shot_s": statistics.median(shot_to_shot),
        "burst_develop_s_median": statistics.median(r.develop_s for r in results),
        "reference_single_develop_s": single.develop_s,
        "burst_shot_to_shot_vs_single_develop": statistics.median(shot_to_shot) / single.develop_s,
    }


def _rss_mb(pid: int | str = "self", field: str = "VmRSS") -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _hwm_mb() -> float:
    return _rss_mb("self", "VmHWM")


def rss_probe() -> None:
    """In a fresh process: RSS before the camera, and with the ZSL ring full of resident 12.3 MP frames."""
    import resource

    from firmware.camera import Camerad

    with tempfile.TemporaryDirectory() as d:
        config = _config(Path(d))
        base = _rss_mb()
        app = Camerad(config, gpio=False)
        app.start()
        app.wait_for_frame(60)
        opened = _rss_mb()
        # The mock's one-off scene computation at start peaks far above anything after it; measure the peak
        # from here on (writing 5 to clear_refs resets the kernel's high-water mark, VmHWM).
        Path("/proc/self/clear_refs").write_text("5")
        ring = app.snapshot().engine.settings.ring_size
        time.sleep((ring + 3) / 10)  # fill the ring
        # Hold the ring still and make every frame in it resident, as a real sensor buffer is (the mock renders
        # on demand, so an idle ring costs it nothing).
        app.sensor.inject("freeze")
        time.sleep(0.2)
        frames = list(app._engine._ring._items)  # the ring's own frames: what a sensor's buffers would hold
        for req in frames:
            req.make_array("raw")
        full = _rss_mb()
        mock_cache = app.sensor.scene_cache_bytes() / 2**20
        resident = len(frames)
        app.stop()
    print(json.dumps({"base": base, "opened": opened, "ring_full": full, "mock_cache": mock_cache,
                      "ring_frames": ring, "resident": resident, "budget_mb": config.capture.memory_budget_mb,
                      "peak": _hwm_mb(), "peak_with_start": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _rss() -> dict:
    out = subprocess.run([sys.executable, "-c", "from bench.capture import rss_probe; rss_probe()"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "zsl_ring_frames_12mp": r["ring_frames"],
        "zsl_ring_frames_resident": r["resident"],
        "rss_before_camera_mb": r["base"],
        "rss_streaming_mb": r["opened"],
        "rss_ring_full_mb": r["ring_full"],
        "rss_ring_full_above_before_camera_mb": r["ring_full"] - r["base"],
        "configured_memory_budget_mb": r["budget_mb"],
        "rss_ring_full_minus_budget_mb": r["ring_full"] - r["budget_mb"],
        # The mock keeps its noise-free scene signal cached (float32 per photosite); a real sensor has none.
        "mock_scene_cache_mb": r["mock_cache"],
        "rss_ring_full_minus_budget_without_mock_cache_mb": r["ring_full"] - r["budget_mb"] - r["mock_cache"],
        "rss_peak_with_ring_full_mb": r["peak"],
        "rss_peak_including_mock_scene_setup_mb": r["peak_with_start"],
    }


def queue_probe() -> None:
    """In a fresh process, default configuration at 12.3 MP: RSS streaming, with the capture queue full (the
    developer held back), and at its peak while the queue drains - against the budget and the unit's limits."""
    import threading

    from firmware.camera import Camerad
    from firmware.capture.budget import capture_bytes
    from firmware.capture.writer import CaptureWriter

    gate = threading.Event()
    real_write = CaptureWriter.write
    CaptureWriter.write = lambda self, *a, **kw: (gate.wait(), real_write(self, *a, **kw))[1]
    with tempfile.TemporaryDirectory() as d:
        app = Camerad(_config(Path(d)), gpio=False)
        app.start()
        app.wait_for_frame(60)
        gate.set()
        app.trigger(SINGLE).futures[0].result(timeout=600)  # warm: the ISP's tables, the denoiser, the allocator
        gate.clear()
        time.sleep(1.0)
        streaming = _rss_mb()
        settings = app.snapshot().engine.settings
        queue, ring = settings.queue_size, settings.ring_size  # the queue and ring the budget allows
        job = app.trigger(CaptureRequest(drive=DriveMode.BURST, count=queue)).job
        while app._engine._darkroom.backlog < queue - 1 or app._engine._darkroom._staging:
            time.sleep(0.05)
        time.sleep(0.5)
        full = _rss_mb()
        Path("/proc/self/clear_refs").write_text("5")  # peak from here: developing, no more mock renders
        gate.set()
        outcomes(job.futures, timeout=900)
        peak = _hwm_mb()
        print(json.dumps({"queue": queue, "ring": ring, "capture_mb": capture_bytes(app.mode) / MB,
                          "budget_mb": app.config.capture.memory_budget_mb, "streaming": streaming, "full": full,
                          "peak": peak, "mock_cache": app.sensor.scene_cache_bytes() / MB,
                          "queue_size": app.config.capture.queue_size}))
        app.stop()


def _queue() -> dict:
    from firmware.capture.budget import OVERHEAD_MB

    from bench.daemon import unit_malloc_environment

    unit = (ROOT / "systemd" / "camerad.service").read_text()
    env = dict(os.environ, **unit_malloc_environment())  # camerad's memory as the unit runs it
    out = subprocess.run([sys.executable, "-c", "from bench.capture import queue_probe; queue_probe()"], cwd=ROOT,
                         capture_output=True, text=True, timeout=1800, check=True, env=env)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    high = int(next(line.split("=")[1].rstrip("M") for line in unit.splitlines() if line.startswith("MemoryHigh=")))
    own_peak = r["peak"] - r["mock_cache"]
    return {
        "queue_12mp_from_budget": f"{r['queue']} of queue_size {r['queue_size']} (ring {r['ring']})",
        "rss_queue_empty_after_one_capture_mb": r["streaming"],
        "rss_queue_full_mb": r["full"],
        "rss_queue_full_growth_mb": r["full"] - r["streaming"],
        "reference_queue_raw_frames_mb": r["queue"] * r["capture_mb"],
        "queue_growth_vs_raw_frames": (r["full"] - r["streaming"]) / (r["queue"] * r["capture_mb"]),
        "rss_peak_draining_full_queue_mb": r["peak"],
        "rss_peak_draining_without_mock_cache_mb": own_peak,
        "malloc_environment": " ".join(f"{k}={v}" for k, v in env.items() if k.startswith("MALLOC_")),
        "stated_budget_plus_overhead_mb": r["budget_mb"] + OVERHEAD_MB,
        "unit_memory_high_mb": high,
        "peak_without_mock_cache_vs_memory_high": own_peak / high,
    }


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _idle_cpu(seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as d:
        notify = Path(d) / "notify"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(notify))
        sock.settimeout(120)
        env = dict(os.environ, NOTIFY_SOCKET=str(notify), WATCHDOG_USEC="10000000")
        cfg = Path(d) / "camerad.toml"
        cfg.write_text(f'[storage]\nreserve_mb = 0\nstate_directory = "{d}"\n')
        proc = subprocess.Popen([sys.executable, "-m", "firmware.daemon.cli", "--mock", "--config", str(cfg),
                                 "--captures", str(Path(d) / "caps")], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while b"READY=1" not in sock.recv(4096):
                pass
            sock.settimeout(0.2)
            time.sleep(2.0)
            c0, t0 = _cpu_seconds(proc.pid), time.monotonic()
            end = t0 + seconds
            while time.monotonic() < end:  # keep draining notifications, as systemd would
                try:
                    sock.recv(4096)
                except socket.timeout:
                    pass
            cpu = (_cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0)
            rss = _rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
            sock.close()
    from bench.mock import _stream_cpu

    ref, _ = _stream_cpu("4056x3040", seconds)
    return {"daemon_idle_cpu_percent": cpu * 100, "reference_bare_mock_stream_cpu_percent": ref * 100,
            "daemon_idle_cpu_vs_bare_stream": cpu / ref if ref else float("nan"), "daemon_idle_rss_mb": rss}


def _presses(count: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        app = _app(Path(d), raw=False, jpeg_quality=80)
        try:
            period = app.snapshot().engine.metadata["FrameDuration"] / 1e6
            t0 = time.perf_counter()
            for _ in range(count):
                app.trigger(CaptureRequest(press_ns=app.clock.monotonic_ns()))
            spent = time.perf_counter() - t0
            futures = app.recent_captures()[-count:]
            _, tally = outcomes(futures, timeout=600)  # most are refused: the queue is full (the point here)
            kept = len(futures)
        finally:
            app.stop()
    per = spent / count
    return {"press_handling_us": per * 1e6, "presses_per_second": 1 / per, "presses_refused": f"{tally['refused']} of the last {kept}",
            "press_handling_vs_frame_period": per / period}


def run(quick: bool = False) -> dict:
    import logging

    logging.getLogger("firmware").setLevel(logging.ERROR)  # refusals are the point of the press test
    out: dict = {}
    presses = 4 if quick else 12
    out["load_at_start"] = load_note()
    for zsl in (True, False):
        lags_ms, lags_frames, period_ms, tally = _lag(zsl, presses)
        name = "zsl" if zsl else "no_zsl"
        out[f"{name}_presses_refused_or_timed_out"] = tally["refused"] + tally["timed_out"] + tally["failed"]
        if not lags_ms:
            continue
        out[f"{name}_lag_frames_max"] = max(lags_frames)
        out[f"{name}_lag_ms_median"] = statistics.median(lags_ms)
        out[f"{name}_lag_ms_max"] = max(lags_ms)
        out["reference_frame_period_ms"] = period_ms
        out[f"{name}_lag_ms_median_vs_frame_period"] = statistics.median(lags_ms) / period_ms
    out.update(_burst(4 if quick else 10))
    out.update(_rss())
    out.update(_queue())
    out.update(_idle_cpu(3.0 if quick else 10.0))
    out.update(_presses(200 if quick else 1000))
    out["load_at_end"] = load_note()
    return out
