"""Mock sensor: time to render a 12.3 MP frame, and the CPU an idle stream costs.

References, run in the same invocation: drawing 12.3 M Gaussian samples and converting them to uint16 (the
floor any per-pixel noise model pays), and a loop that merely sleeps once per frame period.
"""

from __future__ import annotations

import time

import numpy as np

from firmware.sensor.mock.models import sensor_model
from firmware.sensor.mock.render import Renderer
from firmware.sensor.mock.scenes import make_scene
from firmware.sensor.mock.sensor import MockSensor
from firmware.sensor.mock.spectral import Lighting

from .timing import best_of, peak_rss_mb


def _stream_cpu(mode: str, seconds: float) -> tuple[float, float]:
    """CPU share of a consumer pulling every frame of a live mock stream (pixels never requested)."""
    cam = MockSensor("imx477", "colorchecker")
    m = cam.info.mode(mode)
    cam.configure(m, 6)
    cam.start()
    cam.next_request(5.0).release()
    c0, t0, n = time.process_time(), time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        cam.next_request(2.0).release()
        n += 1
    cpu = (time.process_time() - c0) / (time.perf_counter() - t0)
    cam.close()
    return cpu, n / seconds


def _sleep_cpu(fps: float, seconds: float) -> float:
    c0, t0 = time.process_time(), time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        time.sleep(1.0 / fps)
    return (time.process_time() - c0) / (time.perf_counter() - t0)


def run(quick: bool = False) -> dict:
    repeat = 3 if quick else 7
    model = sensor_model("imx477")
    mode = model.info.mode()
    light = Lighting(5000, "auto", 800)
    out = {}
    t = time.perf_counter()
    r = Renderer(model, make_scene("colorchecker", model.info.pixel_array_size))
    r.signal(mode, light)
    out["mock_scene_signal_12mp_ms"] = (time.perf_counter() - t) * 1e3
    ts = iter(range(1, 10**9))
    render = best_of(lambda: r.render(mode, light, 15000, 2.0, next(ts)), repeat)
    rng = np.random.default_rng(0)
    ref = best_of(lambda: (rng.standard_normal(mode.size[::-1], dtype=np.float32) * 100 + 1000).astype(np.uint16),
                  repeat)
    out["mock_render_12mp_ms"] = render * 1e3
    out["reference_gaussian_12mp_ms"] = ref * 1e3
    out["mock_render_vs_reference"] = render / ref
    seconds = 2.0 if quick else 5.0
    for name in ("4056x3040", "1332x990"):
        cpu, fps = _stream_cpu(name, seconds)
        ref_cpu = _sleep_cpu(fps, seconds)
        out[f"mock_idle_stream_{name}_fps"] = fps
        out[f"mock_idle_stream_{name}_cpu_percent"] = cpu * 100
        out[f"reference_sleep_loop_{name}_cpu_percent"] = ref_cpu * 100
    out["peak_rss_mb"] = peak_rss_mb()
    return out
