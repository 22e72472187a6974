"""Sensor faults: timeouts, disconnection and dropped frames are recovered with backoff, reported in status and
LED, and every capture already taken still reaches the disk."""

import time

import pytest

from daemon_support import Recorder, burst, capture, make_app, outcomes, wait_until
from firmware.actions import LedState
from firmware.capture.recovery import Backoff
from firmware.config import Config
from firmware.errors import CaptureRefused, SensorUnavailable
from firmware.sensor.mock import open_mock


def fault(app):
    return app.snapshot().engine.fault


def test_backoff_doubles_up_to_the_maximum():
    b = Backoff(0.5, 4.0)
    assert [b.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    b.reset()
    assert b.next() == 0.5


def test_timeout_restarts_the_camera_and_keeps_the_capture_taken(tmp_path):
    app = make_app(tmp_path)
    rec = Recorder()
    app.add_status_listener(rec)
    try:
        taken = burst(app, 4)
        assert wait_until(lambda: taken.taken == 4, timeout=10)
        app.sensor.inject("timeout", seconds=1.5)  # no frames for 1.5 s; frame_timeout is 0.5 s
        assert wait_until(lambda: fault(app) is not None, timeout=5)
        app.refresh()
        assert rec.states[-1] == LedState.ERROR and app.status_line().startswith("error:")
        with pytest.raises(CaptureRefused, match="recovering from a fault"):
            capture(app).result(timeout=5)
        assert wait_until(lambda: fault(app) is None, timeout=20)
        assert app.snapshot().engine.restarts >= 1
        results = taken.done.result(timeout=60)
        assert all(not isinstance(r, Exception) for r in results) and len(results) == 4
        assert capture(app).result(timeout=60).files  # shooting again
        app.refresh()
        assert rec.states[-1] in (LedState.READY, LedState.CAPTURING)
    finally:
        app.stop()


def test_disconnection_reopens_with_backoff(tmp_path):
    opened = []
    failures = [2]

    def factory(cfg: Config):
        if opened and failures[0] > 0:  # the first two reopen attempts find no camera
            failures[0] -= 1
            raise SensorUnavailable("Camera(s) not found")
        cam = open_mock(cfg)
        opened.append(cam)
        return cam

    app = make_app(tmp_path, sensor_factory=factory)
    try:
        first = app.sensor
        t0 = time.monotonic()
        first.inject("disconnect")
        assert wait_until(lambda: fault(app) is not None, timeout=5)
        assert wait_until(lambda: fault(app) and "attempt 2" in fault(app), timeout=10)
        assert "Camera(s) not found" in fault(app) and "reopening in 1.0 s" in fault(app)
        assert wait_until(lambda: fault(app) is None, timeout=20)
        # Two failed reopens waited 0.5 s and 1.0 s before the third one worked.
        assert time.monotonic() - t0 >= 1.5
        assert app.sensor is not first and app.sensor is opened[-1] and app.snapshot().engine.reopens == 1
        assert capture(app).result(timeout=60).files
    finally:
        app.stop()


def test_pending_press_fails_with_the_reason_when_the_camera_dies(tmp_path):
    app = make_app(tmp_path, capture={"zsl": False})
    try:
        app.sensor.inject("freeze")
        fut = capture(app)  # waits for the next frame, which never comes
        exc = outcomes([fut], timeout=30)[0]
        assert isinstance(exc, Exception) and "sensor fault" in str(exc)
    finally:
        app.stop()


def test_dropped_frames_are_counted_and_reported(tmp_path):
    app = make_app(tmp_path)
    try:
        app.sensor.inject("drop", frames=5)
        assert wait_until(lambda: app.snapshot().engine.frames_dropped >= 5, timeout=10)
        assert "5 frames dropped" in app.status_line()
        assert fault(app) is None  # a few drops are not a fault
    finally:
        app.stop()


def test_a_lock_survives_a_camera_restart(tmp_path):
    app = make_app(tmp_path)
    try:
        time.sleep(0.3)
        app.half_press(True, 0)
        held = app.snapshot().engine.held["ExposureTime"]
        app.sensor.inject("timeout", seconds=1.0)
        assert wait_until(lambda: fault(app) is not None, timeout=5)
        assert wait_until(lambda: fault(app) is None, timeout=20)
        assert wait_until(lambda: app.snapshot().engine.metadata.get("ExposureTime") == held, timeout=10)
    finally:
        app.stop()
