"""Physical controls: GPIO edge to capture request on the mock pins, and which frame zero-shutter-lag picks.

A mock IMX477 streams in real time into a ``CaptureEngine`` (1332x990, ZSL ring of 3). The shutter pin of the
``mock`` board profile is pressed through gpiozero's MockFactory; the edge travels the real path (gpiozero
callback, controls queue, gesture machine on its thread, ``CameraActions.trigger``) to ``engine.capture()``.
Latency is from the pin edge to ``capture()`` returning. The references, in the same run and under the same
streaming load: a bare gpiozero ``Button`` callback calling ``capture()`` (no debounce, no gestures), and the
same callback handing the timestamp through a queue to a thread that calls it. Each press's frame is checked
against the press time: ZSL must pick the frame whose exposure (first to last row) was under way at the press.
"""

from __future__ import annotations

import dataclasses
import queue
import random
import statistics
import threading
import time

from bench.timing import load_note, outcomes
from firmware.board_profile import load_profile
from firmware.capture.engine import CaptureEngine
from firmware.capture.state import EngineSettings
from firmware.clock import SystemClock
from firmware.config import Config
from firmware.config.model import ControlsConfig
from firmware.gpio import MockButtons, attach_controls, open_board
from firmware.sensor.mock.sensor import MockSensor

_GAP_S = (0.02, 0.06)  # release-to-press spacing, random so presses land at every phase of the frame


class _Probe:
    """Stands in for the writer: records which frame the engine picked for a press, renders nothing."""

    def write(self, frame, press_ns, wall_ns, info=None):
        end = frame.exposure_start_ns + 1000 * int(frame.metadata["FrameDuration"])
        return press_ns, frame.exposure_start_ns, frame.timestamp_ns, end


class _Camera:
    """CameraActions over the engine: a full press is a capture request at the press time."""

    def __init__(self, engine):
        self.engine = engine
        self.futures = []
        self.done_ns = 0
        self.pressed = threading.Event()

    def trigger(self, request):
        self.futures.append(self.engine.capture(request.press_ns))
        self.done_ns = time.monotonic_ns()
        self.pressed.set()

    def half_press(self, pressed, t_ns):
        pass

    def release(self, t_ns):
        pass

    def cycle_drive_mode(self):
        return None

    def cycle_look(self):
        return ""

    def toggle_raw(self):
        return True


def _pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def _reference(n: int, rng: random.Random, engine) -> tuple[list[float], list[float]]:
    """Two floors under the same load: a bare gpiozero Button whose callback calls ``engine.capture()`` itself
    (what the daemon did before the controls), and the same callback handing the timestamp through a queue to
    a waiting thread (what a design that keeps all work off the GPIO thread pays)."""
    from gpiozero import Button
    from gpiozero.pins.mock import MockFactory

    factory = MockFactory()
    q: queue.SimpleQueue = queue.SimpleQueue()
    got = threading.Event()
    done = [0]

    def worker():
        while (t := q.get()) is not None:
            engine.capture(t)
            done[0] = time.monotonic_ns()
            got.set()

    def direct():
        engine.capture(time.monotonic_ns())
        done[0] = time.monotonic_ns()
        got.set()

    threading.Thread(target=worker, daemon=True).start()
    button = Button(17, pin_factory=factory)
    pin = factory.pin(17)
    out: tuple[list[float], list[float]] = ([], [])
    for series, callback in zip(out, (direct, lambda: q.put(time.monotonic_ns()))):
        button.when_pressed = callback
        for _ in range(n):
            got.clear()
            t0 = time.monotonic_ns()
            pin.drive_low()
            if got.wait(10):
                series.append((done[0] - t0) / 1e6)
            pin.drive_high()
            time.sleep(rng.uniform(*_GAP_S))
    q.put(None)
    button.close()
    return out


def run(quick: bool = False) -> dict:
    import logging

    logging.getLogger("firmware").setLevel(logging.ERROR)  # refusals on a loaded machine are counted, not logged
    presses = 40 if quick else 400
    load = load_note()
    rng = random.Random(7)
    cam = MockSensor("imx477", "colorchecker")
    cam.configure(cam.info.mode("1332x990"), 6)
    engine = CaptureEngine(cam, _Probe(), EngineSettings(zsl=True, ring_size=3, queue_size=8), clock=SystemClock())
    engine.start()
    engine.wait_for_frame(10)
    time.sleep(0.5)  # let AE settle so exposures are steady
    bare, handoff = _reference(presses, rng, engine)

    board = open_board("mock")
    profile = load_profile("mock")
    config = dataclasses.replace(Config(), controls=ControlsConfig(min_shot_interval=0.0, chatter_presses=1000))
    camera = _Camera(engine)
    controls = attach_controls(profile, board, camera, config, SystemClock())
    buttons = MockButtons(board, profile)
    latency = []
    unreached = 0
    try:
        for _ in range(presses):
            camera.pressed.clear()
            t0 = time.monotonic_ns()
            buttons.set("shutter", True)
            if camera.pressed.wait(10):
                latency.append((camera.done_ns - t0) / 1e6)
            else:  # reported below; on a machine this loaded the figures mean little
                unreached += 1
            buttons.set("shutter", False)
            time.sleep(rng.uniform(*_GAP_S))
        frames, tally = outcomes(camera.futures, timeout=10)
    finally:
        controls.close()
        board.close()
        engine.stop()
        dropped = cam.frames_dropped
        cam.close()

    in_period = [start <= press < end for press, start, _, end in frames]
    in_first_row = [start <= press <= ts for press, start, ts, _ in frames]
    into = [(press - start) / 1e6 for press, start, _, _ in frames]
    misses = [max(start - press, press - end) / 1e6 for press, start, _, end in frames if not start <= press < end]
    exposure = [(ts - start) / 1e6 for _, start, ts, _ in frames]
    period = [(end - start) / 1e6 for _, start, _, end in frames]
    counts = {"load": load, "presses": presses, "presses_reaching_the_camera": len(latency),
              # A loaded machine fills the queue (the stager renders each mock frame): those presses are refused.
              "presses_refused": tally["refused"], "presses_timed_out": tally["timed_out"],
              "presses_failed": tally["failed"], "reference_presses_answered": f"{len(bare)} + {len(handoff)}"}
    if not frames or not latency or not bare or not handoff:
        return {**counts, "note": "too few presses got through to measure: the machine was too loaded"}
    return {
        **counts,
        "controls_edge_to_capture_p50_ms": _pct(latency, 50),
        "controls_edge_to_capture_p99_ms": _pct(latency, 99),
        "controls_edge_to_capture_max_ms": max(latency),
        "reference_bare_button_capture_p50_ms": _pct(bare, 50),
        "reference_bare_button_capture_p99_ms": _pct(bare, 99),
        "reference_queue_thread_capture_p50_ms": _pct(handoff, 50),
        "reference_queue_thread_capture_p99_ms": _pct(handoff, 99),
        "controls_vs_bare_button_p50": _pct(latency, 50) / _pct(bare, 50),
        "goal_p99_ms": 2.0,
        "zsl_frames_checked": len(frames),
        "zsl_press_within_frame_exposure_fraction": sum(in_period) / len(frames),
        "zsl_press_within_first_row_exposure_fraction": sum(in_first_row) / len(frames),
        "zsl_worst_miss_ms": max(misses, default=0.0),
        "sensor_frames_dropped": dropped,
        "zsl_press_after_exposure_start_median_ms": statistics.median(into),
        "zsl_exposure_median_ms": statistics.median(exposure),
        "zsl_frame_period_median_ms": statistics.median(period),
    }
