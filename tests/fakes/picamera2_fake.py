"""A simulated Raspberry Pi camera behind picamera2's API, for the picamera2 backend's tests.

The behaviour follows picamera2 0.3.x as documented in the research note and its source: configuration dicts
from ``create_still_configuration``, ``camera_configuration()``'s stream dicts (format, size, stride), every
completed request passed to ``pre_callback`` with one reference picamera2 then drops (``queue=False``),
reference-counted ``CompletedRequest`` returned to the pool at zero, controls applied a couple of frames late,
``cancel_all_and_flush``, and the documented errors. Tests wrap it in ``signature.CheckedClass`` so every call
the backend makes must also exist, with those arguments, on the real ``picamera2.Picamera2``.
"""

from __future__ import annotations

import threading
import time

import numpy as np

import libcamera  # the fake bindings (tests/fakes/libcamera)
from firmware.sensor.mock.tuning_default import mock_tuning_path

BAYER = {"SRGGB10", "SRGGB12", "SRGGB16", "SRGGB10_CSI2P", "SRGGB12_CSI2P", "RGGB_PISP_COMP1"}


class FakeSensorFormat(str):
    """picamera2.sensor_format.SensorFormat stands in sensor_modes' "format"; its str() is the format name."""


class FakeCompletedRequest:
    def __init__(self, cam: "FakePicamera2", index: int, sequence: int, metadata: dict, raw: np.ndarray):
        self.picam2 = cam
        self.ref_count = 1
        self.lock = threading.Lock()
        self._index = index
        self._metadata = metadata
        self._raw = raw
        fb = libcamera.FrameBuffer([libcamera.FrameBuffer.Plane(-1, 0, raw.nbytes)])
        fb.metadata.sequence = sequence
        fb.metadata.timestamp = metadata["SensorTimestamp"]
        self.request = libcamera.Request(None, index)
        self.request.add_buffer(object(), fb)
        self.config = cam._config

    def acquire(self) -> None:
        with self.lock:
            if self.ref_count == 0:
                raise RuntimeError("CompletedRequest: acquiring lock with ref_count 0")
            self.ref_count += 1

    def release(self) -> None:
        with self.lock:
            self.ref_count -= 1
            if self.ref_count < 0:
                raise RuntimeError("CompletedRequest: lock now has negative ref_count")
            if self.ref_count == 0:
                self.picam2._recycle(self._index)

    def get_metadata(self) -> dict:
        return dict(self._metadata)

    def make_array(self, name: str) -> np.ndarray:
        if name not in self.config:
            raise RuntimeError(f"Stream {name!r} is not defined")
        return self._raw.copy()


class FakePicamera2:
    platform = None  # set to picamera2.platform.Platform.VC4/PISP by the tests
    wrap_request = None  # set by the tests: wraps each CompletedRequest in a signature.Checked

    model = "imx477"
    array = (4056, 3040)
    modes = [((1332, 990), 10, 120.03), ((2028, 1080), 12, 50.03), ((2028, 1520), 12, 40.01),
             ((4056, 3040), 12, 10.0)]
    missing_cameras_from = 1  # camera_num >= this: "Camera(s) not found"

    def __init__(self, camera_num=0, verbose_console=None, tuning=None, allocator=None):
        if camera_num >= self.missing_cameras_from:
            try:
                raise RuntimeError("Camera(s) not found (Do not forget to disable legacy camera with raspi-config).")
            except RuntimeError as cause:
                raise RuntimeError("Camera __init__ sequence did not complete.") from cause
        self.tuning = tuning
        self.pre_callback = None
        self.post_callback = None
        self._config: dict | None = None
        self._controls: list[tuple[int, dict]] = []
        self._state = {"ExposureTime": 20000, "AnalogueGain": 1.0, "ColourGains": (2.0, 1.6)}
        self._free: list[int] = []
        self._thread: threading.Thread | None = None
        self._running = False
        self.frozen = False
        self.closed = False
        self.sequence = 0
        self.flushed = 0

    # -- properties --------------------------------------------------------------------------------------
    @property
    def camera_properties(self):
        return {"Model": self.model, "PixelArraySize": self.array, "ColorFilterArrangement": 0,
                "UnitCellSize": (1550, 1550), "Location": 2, "Rotation": 0}

    @property
    def camera_controls(self):
        return {"AeEnable": (False, True, None), "ExposureTime": (13, 77193624, 20000),
                "AnalogueGain": (1.0, 22.26, None), "AwbEnable": (False, True, None),
                "ColourGains": (0.0, 32.0, None), "ExposureValue": (-8.0, 8.0, 0.0),
                "FrameDurationLimits": (8333, 77208384, None), "NoiseReductionMode": (0, 4, 0),
                "ScalerCrop": ((0, 0, 64, 64), (0, 0, 4056, 3040), (2, 0, 4052, 3040))}

    @property
    def sensor_resolution(self):
        return self.array

    @property
    def sensor_modes(self):
        return [{"format": FakeSensorFormat(f"SRGGB{bits}_CSI2P"), "unpacked": f"SRGGB{bits}", "bit_depth": bits,
                 "size": size, "fps": fps, "crop_limits": (0, 0, 4056, 3040), "exposure_limits": (13, 77193624)}
                for size, bits, fps in self.modes]

    @staticmethod
    def load_tuning_file(tuning_file, dir=None):  # noqa: A002
        import json

        if tuning_file != "imx477.json":
            raise RuntimeError("Tuning file not found")
        return json.loads(mock_tuning_path("imx477").read_text())

    # -- configuration -----------------------------------------------------------------------------------
    def create_still_configuration(self, main={}, lores=None, raw={}, transform=None, colour_space=None,  # noqa: B006
                                   buffer_count=1, controls={}, display=None, encode=None, queue=True,  # noqa: B006
                                   sensor={}, use_case="still"):  # noqa: B006
        for stream in (main, raw, sensor):
            bad = set(stream) - {"format", "size", "stride", "preserve_ar", "output_size", "bit_depth"}
            if bad:
                raise ValueError(f"Bad key {bad.pop()!r} in stream configuration")
        return {"use_case": use_case, "buffer_count": buffer_count, "queue": queue, "controls": dict(controls),
                "main": {"format": "BGR888", "size": self.array, **main},
                "raw": None if raw is None else {"format": "SRGGB12_CSI2P", "size": main.get("size", self.array),
                                                 **raw},
                "sensor": dict(sensor)}

    def configure(self, camera_config=None):
        if self._running:
            raise RuntimeError("Camera must be stopped before configuring")
        raw = camera_config["raw"]
        if raw["format"] not in BAYER:
            raise RuntimeError(f"Invalid camera configuration: raw format {raw['format']}")
        if tuple(raw["size"]) not in [m[0] for m in self.modes]:
            raise RuntimeError(f"Invalid camera configuration: raw size {raw['size']}")
        if raw["size"] == self.array and camera_config["buffer_count"] > 8:
            raise RuntimeError("failed to allocate capture buffers for stream raw")  # CMA runs out
        raw = dict(raw, size=tuple(raw["size"]))
        raw["stride"] = (raw["size"][0] * 2 + 63) // 64 * 64
        self._config = {"raw": raw, "main": camera_config["main"], "buffer_count": camera_config["buffer_count"],
                        "queue": camera_config["queue"]}
        self._free = list(range(camera_config["buffer_count"]))

    def camera_configuration(self):
        return dict(self._config) if self._config else None

    # -- running -----------------------------------------------------------------------------------------
    def start(self, config=None, show_preview=False):
        if self._config is None:
            raise RuntimeError("Camera has not been configured")
        self._running = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self):
        self._running = False
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def close(self):
        self.stop()
        self.closed = True

    def cancel_all_and_flush(self):
        self.flushed += 1

    def set_controls(self, controls):
        self._controls.append((self.sequence, dict(controls)))

    def _recycle(self, index: int) -> None:
        self._free.append(index)

    def _run(self):
        raw = self._config["raw"]
        w, h = raw["size"]
        fps = next(f for size, _, f in self.modes if size == (w, h))
        bits = 16 if raw["format"].endswith("16") else int(raw["format"][5:7])
        next_ts = time.monotonic_ns()
        while self._running:
            # Frames back to back on an exact timeline, as a sensor reads them out.
            period_ns = int(max(self._state["ExposureTime"] * 1000, 1e9 / fps))
            next_ts += period_ns
            time.sleep(max(0.0, (next_ts - time.monotonic_ns()) / 1e9))
            if self.frozen:
                continue
            self.sequence += 1
            for seq, ctrl in list(self._controls):
                if self.sequence - seq >= 2:  # libcamera's control latency
                    self._state.update({k: v for k, v in ctrl.items() if k in self._state and v})
                    self._controls.remove((seq, ctrl))
            if not self._free:
                continue  # every buffer held: the frame is dropped
            index = self._free.pop(0)
            frame = np.full((h, raw["stride"] // 2), 64 + 16 * (self.sequence % 50), np.uint16)
            if bits == 16:
                frame <<= 4
            md = {"SensorTimestamp": next_ts, "ExposureTime": int(self._state["ExposureTime"]),
                  "AnalogueGain": float(self._state["AnalogueGain"]), "DigitalGain": 1.0,
                  "ColourGains": self._state["ColourGains"], "ColourTemperature": 5000, "Lux": 400.0,
                  "FrameDuration": period_ns // 1000,
                  "SensorBlackLevels": (4096, 4096, 4096, 4096),
                  "ColourCorrectionMatrix": (1.5, -0.3, -0.2, -0.3, 1.6, -0.3, -0.1, -0.5, 1.6)}
            req = FakeCompletedRequest(self, index, self.sequence, md, frame.view(np.uint8).reshape(h, -1))
            if self.pre_callback is not None:
                self.pre_callback(self._checked(req))
            req.release()  # picamera2 drops its own reference once the callbacks have run (queue=False)

    def _checked(self, req):
        wrap = type(self).wrap_request
        return wrap(req) if wrap else req
