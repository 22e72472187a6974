import numpy as np
import pytest

from firmware.errors import SensorError
from firmware.sensor.request import CompletedRequest, FrameBuffer


def make(freed):
    calls = []

    def render():
        calls.append(1)
        return np.arange(16, dtype=np.uint16).reshape(4, 4)

    md = {"SensorTimestamp": 5_000_000, "ExposureTime": 1000, "FrameDuration": 3000}
    return CompletedRequest(7, md, {"raw": FrameBuffer(3, render)}, on_free=freed.extend), calls


def test_request_renders_once_and_returns_buffer_on_last_release():
    freed = []
    req, calls = make(freed)
    req.acquire()
    a = req.make_array("raw")
    b = req.make_array("raw")
    assert a is b and len(calls) == 1
    assert not a.flags.writeable
    req.release()
    assert not freed and req.refcount == 1
    req.release()
    assert [buf.index for buf in freed] == [3]


def test_request_misuse_is_an_error():
    req, _ = make([])
    with pytest.raises(SensorError, match="stream 'main' is not defined"):
        req.make_array("main")
    req.release()
    with pytest.raises(SensorError, match="without a matching acquire"):
        req.release()
    with pytest.raises(SensorError, match="already released"):
        req.make_array("raw")


def test_request_exposure_window():
    req, _ = make([])
    assert req.exposure_start_ns == 5_000_000 - 1_000_000
    assert req.frame_end_ns == 4_000_000 + 3_000_000
    with pytest.raises(TypeError):
        req.metadata["ExposureTime"] = 1
