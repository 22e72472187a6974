"""Picking the frame a press meant, and the engine that develops it off the sensor's thread."""

import numpy as np
import pytest

from firmware.capture.engine import CaptureEngine
from firmware.capture.ring import RequestRing
from firmware.capture.state import EngineSettings
from firmware.capture.writer import CaptureWriter
from firmware.clock import SystemClock
from firmware.develop import Recipe
from firmware.errors import CaptureRefused
from firmware.formats.identity import CameraIdentity
from firmware.sensor.request import CompletedRequest, FrameBuffer


def req(seq, ts_ms, exp_ms=10, fd_ms=33, released=None):
    md = {"SensorTimestamp": int(ts_ms * 1e6), "ExposureTime": int(exp_ms * 1000), "FrameDuration": int(fd_ms * 1000)}
    return CompletedRequest(seq, md, {"raw": FrameBuffer(seq, np.zeros((2, 2), np.uint16))},
                            on_free=(lambda b: released.append(seq)) if released is not None else None)


def test_ring_releases_the_oldest_beyond_capacity():
    released = []
    ring = RequestRing(2)
    for i in range(4):
        ring.push(req(i, 100 + 33 * i, released=released))
    assert released == [0, 1] and len(ring) == 2


def test_ring_zsl_picks_the_frame_exposing_at_the_press():
    ring = RequestRing(4)
    # Exposures start at ts - 10 ms and own 33 ms each: frame 1 owns [123, 156) ms.
    for i in range(3):
        ring.push(req(i, 100 + 33 * i))
    picked = ring.pick(int(140e6))
    assert picked.sequence == 1 and picked.refcount == 2
    assert ring.pick(int(123e6)).sequence == 1
    assert ring.pick(int(122.9e6)).sequence == 0
    # A press in the frame still being exposed: wait for it.
    assert ring.pick(int(200e6)) is None


def test_ring_without_zsl_takes_the_next_exposure():
    ring = RequestRing(4)
    for i in range(3):
        ring.push(req(i, 100 + 33 * i))
    assert ring.pick(int(124e6), zsl=False).sequence == 2
    assert ring.pick(int(160e6), zsl=False) is None


@pytest.fixture
def engine(tmp_path, mock_sensor):
    from firmware.sensor.mock.tuning_default import default_tuning

    cam = mock_sensor(mode="1332x990", clk=SystemClock(), start=False)
    writer = CaptureWriter(tmp_path, Recipe(default_tuning("imx477")), cfa="RGGB", bit_depth=10, binning=2,
                           identity=CameraIdentity())
    eng = CaptureEngine(cam, writer, EngineSettings(zsl=True, ring_size=3, queue_size=2), clock=SystemClock())
    eng.start()
    assert eng.wait_for_frame(10)
    yield eng
    eng.stop()


def test_engine_zsl_capture_writes_files_with_zero_lag(engine, tmp_path):
    import time

    time.sleep(0.05)
    result = engine.capture().result(timeout=30)
    assert result.lag_frames == 0 and result.lag_ns <= 0
    assert sorted(p.suffix for p in result.files) == [".dng", ".jpg", ".json"]
    assert all(p.exists() and p.parent == tmp_path for p in result.files)


def test_engine_refuses_when_the_queue_is_full_and_never_drops_silently(engine):
    futures = [engine.capture() for _ in range(12)]
    outcomes = []
    for f in futures:
        try:
            outcomes.append(f.result(timeout=60))
        except CaptureRefused as exc:
            outcomes.append(exc)
    refused = [o for o in outcomes if isinstance(o, CaptureRefused)]
    written = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(refused) + len(written) == 12  # every press ends as a file or a stated refusal
    assert refused and "queue is full" in refused[0].reason
    assert written


def test_engine_refuses_when_stopped(tmp_path, mock_sensor):
    from firmware.sensor.mock.tuning_default import default_tuning

    cam = mock_sensor(start=False)
    writer = CaptureWriter(tmp_path, Recipe(default_tuning("imx477")), cfa="RGGB", bit_depth=10, identity=CameraIdentity())
    eng = CaptureEngine(cam, writer)
    with pytest.raises(CaptureRefused, match="not streaming"):
        eng.capture().result(timeout=1)
