"""The picamera2 backend against the real picamera2 wheel's API (imported over fake libcamera bindings):
every call and keyword the backend makes must bind to the real ``Picamera2``/``CompletedRequest`` signatures,
and a simulated camera behind that API streams, takes controls, times out and reopens."""

import ast
import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fakes"))
from picamera2_env import picamera2_importable  # noqa: E402
from signature import Checked, CheckedClass, instance_attributes  # noqa: E402

from daemon_support import ROOT, outcomes  # noqa: E402
from firmware.capture.engine import CaptureEngine  # noqa: E402
from firmware.capture.state import EngineSettings  # noqa: E402
from firmware.capture.writer import CaptureWriter  # noqa: E402
from firmware.config import parse  # noqa: E402
from firmware.develop import Recipe  # noqa: E402
from firmware.errors import ControlError, SensorStateError, SensorTimeout, SensorUnavailable  # noqa: E402
from firmware.formats.identity import CameraIdentity  # noqa: E402
from firmware.sensor.picamera2_backend import Picamera2Sensor  # noqa: E402

BACKEND = ROOT / "firmware" / "sensor" / "picamera2_backend.py"
TUNING = str(ROOT / "tuning" / "mock" / "imx477.json")


@pytest.fixture
def p2():
    """The real picamera2 module, and the fake camera class checked against it."""
    with picamera2_importable() as picamera2:
        import picamera2_fake

        fake = picamera2_fake.FakePicamera2
        fake.platform = picamera2.platform.Platform.VC4
        calls: list = []
        fake.wrap_request = staticmethod(lambda req: Checked(req, picamera2.request.CompletedRequest, calls))
        cls = CheckedClass(fake, picamera2.Picamera2)
        cls.request_calls = calls
        yield picamera2, cls
        fake.wrap_request = None


def open_cam(cls, **sensor):
    return Picamera2Sensor.open(parse({"sensor": {"backend": "picamera2", **sensor}}), picamera2_class=cls)


def test_every_picamera2_call_in_the_backend_exists_with_those_keywords(p2):
    """Statically: each ``<camera>.method(..., kw=...)`` in the source binds to the real method's signature."""
    picamera2, _ = p2
    targets = {"_cam": picamera2.Picamera2, "cam": picamera2.Picamera2, "picamera2_class": picamera2.Picamera2,
               "req": picamera2.request.CompletedRequest}
    seen = set()
    for node in ast.walk(ast.parse(BACKEND.read_text())):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
        if name not in targets:
            continue
        real = inspect.getattr_static(targets[name], node.func.attr, None)
        assert real is not None, f"{targets[name].__name__} has no method {node.func.attr}"
        func = real.__func__ if isinstance(real, (staticmethod, classmethod)) else real
        params = inspect.signature(func).parameters
        for kw in node.keywords:
            assert kw.arg in params, f"{node.func.attr}() has no keyword {kw.arg!r}"
        seen.add(node.func.attr)
    for name in ("pre_callback",):  # attributes the backend assigns
        assert name in instance_attributes(picamera2.Picamera2)
    assert {"create_still_configuration", "configure", "start", "stop", "close", "set_controls",
            "cancel_all_and_flush", "camera_configuration", "load_tuning_file", "acquire", "release",
            "get_metadata", "make_array"} <= seen
    assert not {"switch_mode", "switch_mode_and_capture_request", "switch_mode_capture_request_and_stop"} & seen


def test_open_passes_the_tuning_and_reads_the_camera(p2):
    _, cls = p2
    cam = open_cam(cls, tuning=TUNING)
    try:
        name, args, kwargs = cls.calls[0]
        assert name == "__init__" and kwargs["camera_num"] == 0
        assert isinstance(kwargs["tuning"], dict) and kwargs["tuning"]["version"] == 2.0  # tuning given at open
        assert cam.info.model == "imx477" and cam.info.cfa == "RGGB"
        assert [m.name for m in cam.info.modes] == ["1332x990", "2028x1080", "2028x1520", "4056x3040"]
        assert cam.info.mode("1332x990").binning == 3 and cam.info.mode("4056x3040").bit_depth == 12
        assert cam.tuning.source == TUNING
    finally:
        cam.close()
    default = open_cam(cls)  # no tuning configured: libcamera's own file for the sensor is read for our ISP
    try:
        assert "load_tuning_file" in [c[0] for c in cls.calls] and "imx477.json" in default.tuning.source
    finally:
        default.close()


def test_a_full_resolution_still_configuration_with_raw_kept_running(p2):
    _, cls = p2
    cam = open_cam(cls, tuning=TUNING)
    try:
        mode = cam.info.mode("4056x3040")
        cam.configure(mode, 6)
        (name, _, kw), = [c for c in cls.calls if c[0] == "create_still_configuration"]
        assert kw["main"]["size"] == (4056, 3040) and kw["raw"] == {"format": "SRGGB12", "size": (4056, 3040)}
        assert kw["sensor"] == {"output_size": (4056, 3040), "bit_depth": 12}
        assert kw["queue"] is False and kw["buffer_count"] == 6
        assert cam.request_bytes(mode) == 4056 * 3040 * 5
        cam.start()
        seqs = []
        for _ in range(3):
            with cam.next_request(timeout=2.0) as req:
                raw = req.make_array("raw")
                seqs.append(req.sequence)
                assert raw.shape == (3040, 4056) and raw.dtype == np.uint16 and raw.max() < 4096
                assert req.metadata["ExposureTime"] == 20000
        assert seqs == list(range(seqs[0], seqs[0] + 3))  # every request reaches us
        assert {"acquire", "release", "get_metadata", "make_array"} <= {c[0] for c in cls.request_calls}
        with pytest.raises(SensorStateError, match="stopped before configuring"):
            cam.configure(mode, 4)
    finally:
        cam.close()
    assert cls.fakes[-1].closed


def test_pi5_asks_for_16_bit_raw_and_shifts_it_down(p2):
    picamera2, cls = p2
    cls._fake_cls.platform = picamera2.platform.Platform.PISP
    try:
        cam = open_cam(cls, tuning=TUNING)
        mode = cam.info.mode("2028x1520")
        cam.configure(mode, 4)
        assert cam.raw_format(mode) == "SRGGB16"
        cam.start()
        with cam.next_request(timeout=2.0) as req:
            raw = req.make_array("raw")
            assert raw.max() < 4096 and raw.min() >= 64
        cam.close()
    finally:
        cls._fake_cls.platform = picamera2.platform.Platform.VC4


def test_controls_map_one_to_one_and_are_checked(p2):
    _, cls = p2
    cam = open_cam(cls, tuning=TUNING)
    try:
        cam.configure(cam.info.mode("1332x990"), 4)
        cam.start()
        cam.set_controls({"ExposureTime": 5000, "AnalogueGain": 2.0, "AwbEnable": False, "ColourGains": (2.1, 1.5)})
        assert ("set_controls", ({"ExposureTime": 5000, "AnalogueGain": 2.0, "AwbEnable": False,
                                  "ColourGains": (2.1, 1.5)},), {}) in cls.calls
        for _ in range(20):
            with cam.next_request(timeout=2.0) as req:
                if req.metadata["ExposureTime"] == 5000:
                    break
        assert req.metadata["ExposureTime"] == 5000 and req.metadata["AnalogueGain"] == 2.0
        cam.set_controls({"ExposureTime": 0, "AnalogueGain": 0})  # back to automatic, picamera2's convention
        with pytest.raises(ControlError, match="AnalogueGain: 40.0 is out of range"):
            cam.set_controls({"AnalogueGain": 40.0})
        with pytest.raises(ControlError, match="LensPosition: not a control this camera advertises"):
            cam.set_controls({"LensPosition": 1.0})
    finally:
        cam.close()


def test_timeout_flushes_and_a_missing_camera_is_unavailable(p2):
    _, cls = p2
    cam = open_cam(cls, tuning=TUNING)
    try:
        cam.configure(cam.info.mode("1332x990"), 4)
        cam.start()
        cam.next_request(timeout=2.0).release()
        cls.fakes[-1].frozen = True
        with pytest.raises(SensorTimeout, match="no frame within .*ribbon cable"):
            for _ in range(10):  # frames already delivered are still handed out, then nothing more
                cam.next_request(timeout=0.3).release()
        cam.stop()
        assert cls.fakes[-1].flushed == 1  # cancel_all_and_flush before stopping
    finally:
        cam.close()
    with pytest.raises(SensorUnavailable, match="could not open camera 1: Camera\\(s\\) not found"):
        open_cam(cls, camera=1, tuning=TUNING)


def test_cma_exhaustion_is_a_clear_configuration_error(p2):
    _, cls = p2
    cam = open_cam(cls, tuning=TUNING)
    try:
        with pytest.raises(SensorStateError, match="refused 4056x3040 with 12 buffers: failed to allocate"):
            cam.configure(cam.info.mode("4056x3040"), 12)
    finally:
        cam.close()


def test_engine_on_picamera2_zero_lag_and_reopen_after_a_freeze(p2, tmp_path):
    _, cls = p2
    config = parse({"sensor": {"backend": "picamera2", "tuning": TUNING}})
    cam = Picamera2Sensor.open(config, picamera2_class=cls)
    mode = cam.info.mode("1332x990")
    cam.configure(mode, 5)
    writer = CaptureWriter(tmp_path, Recipe(cam.tuning), cfa="RGGB", bit_depth=10, binning=3, identity=CameraIdentity())
    engine = CaptureEngine(cam, writer, EngineSettings(ring_size=2, queue_size=3, mode=mode, buffer_count=5,
                                                       frame_timeout=0.5, backoff_max=1.0),
                           reopen=lambda: Picamera2Sensor.open(config, picamera2_class=cls))
    engine.start()
    try:
        assert engine.wait_for_frame(5)
        r = engine.capture().result(timeout=60)
        assert r.lag_frames == 0 and len(r.files) == 3
        cls.fakes[-1].frozen = True
        first = cls.fakes[-1]
        import time

        deadline = time.monotonic() + 20
        while engine.snapshot().reopens == 0 or engine.snapshot().fault is not None:
            assert time.monotonic() < deadline, engine.snapshot().fault
            time.sleep(0.05)
        assert engine.snapshot().reopens >= 1 and first.closed  # the frozen camera was closed and a new one opened
        assert outcomes([engine.capture()])[0].files
    finally:
        engine.stop()
        engine.sensor.close()
