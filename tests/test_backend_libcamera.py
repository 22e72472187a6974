"""The libcamera backend on a fake of libcamera's own Python bindings (tests/fakes/libcamera, built from
py_main.cpp): raw modes, configuration, the request loop, controls, unpacking, faults, and raw frames from it
developed by our ISP into DNG and JPEG."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fakes"))
from picamera2_env import libcamera_importable  # noqa: E402

from daemon_support import ROOT, outcomes  # noqa: E402
from firmware.capture.engine import CaptureEngine  # noqa: E402
from firmware.capture.state import EngineSettings  # noqa: E402
from firmware.capture.writer import CaptureWriter  # noqa: E402
from firmware.config import parse  # noqa: E402
from firmware.develop import Recipe  # noqa: E402
from firmware.errors import ControlError, SensorStateError, SensorTimeout, SensorUnavailable  # noqa: E402
from firmware.formats.identity import CameraIdentity  # noqa: E402
from firmware.sensor.libcamera_backend import LibcameraSensor  # noqa: E402
from firmware.sensor.unpack import unpack  # noqa: E402

TUNING = str(ROOT / "tuning" / "mock" / "imx477.json")


@pytest.fixture
def lc():
    with libcamera_importable() as lc:
        lc.sim.install(lc.sim.SimSensor())
        yield lc


@pytest.fixture
def cam(lc):
    cam = LibcameraSensor.open(parse({"sensor": {"backend": "libcamera", "tuning": TUNING}}), libcamera=lc)
    yield cam
    cam.close()


def test_modes_and_info_come_from_the_raw_stream_formats(cam):
    assert cam.info.model == "imx577" and cam.info.cfa == "RGGB" and cam.info.pixel_array_size == (4056, 3040)
    assert {m.name for m in cam.info.modes} == {"4056x3040", "2028x1520"}
    full = cam.info.mode("4056x3040")
    assert full.bit_depth == 10 and full.binning == 1 and cam.info.mode("2028x1520").binning == 2
    assert cam._formats[full] == "SRGGB10_CSI2P"  # the packed format wins
    assert cam.request_bytes(full) == 4056 * 3040 * 10 // 8
    assert cam.camera_controls["AnalogueGain"][:2] == (1.0, 16.0)


def test_requests_stream_and_recycle_with_raw_unpacked_exactly(cam, lc):
    mode = cam.info.mode("2028x1520")
    cam.configure(mode, 3)
    cam.start()
    seqs = []
    for _ in range(8):  # more frames than buffers: each release requeues its request
        with cam.next_request(timeout=2.0) as req:
            raw = req.make_array("raw")
            seqs.append(req.sequence)
            assert raw.shape == (1520, 2028) and raw.dtype == np.uint16
            expected = lc.sim.CAMERAS[0].pattern(2028, 1520, req.sequence)
            assert np.array_equal(raw, expected)
            md = req.metadata
            assert md["ExposureTime"] == 10000 and md["SensorBlackLevels"] == (4096,) * 4
            assert req.timestamp_ns > 0 and req.frame_end_ns > req.exposure_start_ns
    assert seqs == sorted(seqs)


def test_controls_reach_the_camera_with_libcamera_modes(cam):
    cam.configure(cam.info.mode("2028x1520"), 4)
    cam.start()
    cam.set_controls({"ExposureTime": 20000, "AnalogueGain": 2.0})
    got = None
    for _ in range(20):
        with cam.next_request(timeout=2.0) as req:
            got = req.metadata
        if got["ExposureTime"] == 20000:
            break
    assert got["ExposureTime"] == 20000 and got["AnalogueGain"] == 2.0
    assert cam._libcamera_controls({"ExposureTime": 0}) == {"ExposureTimeMode": 0}
    assert cam._libcamera_controls({"ExposureTime": 5}) == {"ExposureTime": 5, "ExposureTimeMode": 1}
    with pytest.raises(ControlError, match="AnalogueGain: 40.0 is out of range"):
        cam.set_controls({"AnalogueGain": 40.0})
    with pytest.raises(ControlError, match="AfMode: not a control this camera advertises"):
        cam.set_controls({"AfMode": 2})


def test_a_frozen_sensor_times_out_and_a_missing_one_is_unavailable(cam, lc):
    cam.configure(cam.info.mode("2028x1520"), 4)
    cam.start()
    cam.next_request(timeout=2.0).release()
    lc.sim.CAMERAS[0].frozen = True
    with pytest.raises(SensorTimeout, match="no frame within 0.300 s"):
        for _ in range(10):  # a frame completed just before the freeze is still handed out
            cam.next_request(timeout=0.3).release()
    cam.stop()
    with pytest.raises(SensorStateError, match="not streaming"):
        cam.next_request(timeout=0.1)
    with pytest.raises(SensorUnavailable, match="sensor.camera = 3 does not exist"):
        LibcameraSensor.open(parse({"sensor": {"camera": 3, "tuning": TUNING}}), libcamera=lc)
    with pytest.raises(SensorUnavailable, match="cannot acquire .*Device or resource busy"):
        LibcameraSensor.open(parse({"sensor": {"tuning": TUNING}}), libcamera=lc)  # cam still holds it


def test_no_tuning_is_a_clear_error(lc):
    with pytest.raises(SensorUnavailable, match="no tuning file for imx577: set sensor.tuning"):
        LibcameraSensor.open(parse({}), libcamera=lc)


def test_raw_frames_go_through_our_isp_to_dng_and_jpeg(cam, tmp_path):
    import rawpy
    from PIL import Image

    mode = cam.info.mode("2028x1520")
    cam.configure(mode, 6)
    writer = CaptureWriter(tmp_path, Recipe(cam.tuning), cfa=cam.info.cfa, bit_depth=mode.bit_depth, binning=mode.binning,
                           identity=CameraIdentity(model="imx577"))
    engine = CaptureEngine(cam, writer, EngineSettings(ring_size=2, queue_size=3, mode=mode, buffer_count=6))
    engine.start()
    try:
        assert engine.wait_for_frame(5)
        results = outcomes([engine.capture()] + engine.burst(None, 2).futures)
    finally:
        engine.stop()
    assert all(not isinstance(r, Exception) for r in results), results
    r = results[0]
    assert r.lag_frames == 0
    with rawpy.imread(str(r.files[0])) as rp:
        assert rp.raw_image.shape == (1520, 2028)
    assert Image.open(r.files[1]).size == (2028, 1520)


@pytest.mark.parametrize("fmt, bit_depth", [("SRGGB10_CSI2P", 10), ("SRGGB12_CSI2P", 12), ("SRGGB10", 10),
                                             ("SRGGB12", 12), ("SRGGB16", 12)])
def test_unpack_every_layout(lc, fmt, bit_depth):
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 1 << bit_depth, (6, 16), dtype=np.uint16)
    stride = lc.sim.stride_of(fmt, 16)
    buf = np.frombuffer(lc.sim.encode(frame, fmt, stride, bit_depth), np.uint8)
    assert np.array_equal(unpack(buf, fmt, 16, 6, stride, bit_depth), frame)


def test_compressed_raw_is_refused_by_name():
    from firmware.errors import SensorError

    with pytest.raises(SensorError, match="RGGB_PISP_COMP1 is not an uncompressed Bayer format"):
        unpack(np.zeros(64, np.uint8), "RGGB_PISP_COMP1", 4, 4, 16, 12)
