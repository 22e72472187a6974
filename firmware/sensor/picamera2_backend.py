"""The sensor on a Raspberry Pi, through picamera2 (Debian's python3-picamera2 on Raspberry Pi OS).

* One **full-resolution still configuration with a raw stream**, configured once and kept running: no
  per-shot ``switch_mode`` (500-700 ms and CMA fragmentation). ``queue=False`` so picamera2 holds no frame
  of its own; the buffer count comes from the capture budget.
* **Every request** reaches the capture engine: ``pre_callback`` (called in picamera2's event loop for each
  completed request) takes a reference and queues it; the engine's ring holds it zero-copy and releases it
  back to picamera2, which requeues it to libcamera with any controls set since.
* Without ZSL the engine applies picamera2's own ``capture_request(flush=t)`` rule to the same stream: the
  first frame whose exposure began at or after the press (``SensorTimestamp - 1000 * ExposureTime >= t``).
* The **tuning** is passed at open (``Picamera2(tuning=dict)``), the only time libcamera reads it; a new
  tuning means reopening the camera, which is what the daemon's reload does.
* **Controls and metadata** keep libcamera's names 1:1; values are checked against ``camera_controls``.
* **Timeouts**: no frame within the frame timeout raises ``SensorTimeout``; stopping first runs
  ``cancel_all_and_flush()`` (picamera2's advice after a timeout), and the engine restarts or reopens.

>>> cam = Picamera2Sensor.open(config)                     # doctest: +SKIP
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Mapping

from ..boards import SensorBackend
from ..clock import Clock, SystemClock
from ..config import Config
from ..errors import SensorStateError, SensorTimeout, SensorUnavailable
from ..tuning import TuningFile
from .adapter import BackendState, ControlTable, black_level_16, cfa_name
from .protocol import SensorInfo, SensorMode
from .request import CompletedRequest, FrameBuffer
from .unpack import unpack

log = logging.getLogger(__name__)

_TIMEOUT_HINT = ("libcamera's 'Dequeue timer ... has expired' / 'Camera frontend has timed out' in the journal "
                 "mean the sensor stopped sending: check the ribbon cable and the power supply")


class Picamera2Sensor(BackendState):
    backend = SensorBackend.PICAMERA2

    def __init__(self, picam2, tuning: TuningFile, *, pisp: bool = False, clock: Clock | None = None):
        self._cam = picam2
        self.tuning = tuning
        self._pisp = pisp
        self._clock = clock or SystemClock()
        props = picam2.camera_properties
        self.model = str(props.get("Model", "unknown"))
        self._controls = ControlTable(picam2.camera_controls)
        array = tuple(props.get("PixelArraySize", picam2.sensor_resolution))
        # sensor_modes reconfigures the camera once per mode: read it now, before anything streams.
        modes = []
        for m in picam2.sensor_modes:
            if "bit_depth" not in m:
                continue  # a non-raw entry (USB cameras)
            w, h = m["size"]
            binning = max(1, round(array[0] / w))
            modes.append(SensorMode((w, h), int(m["bit_depth"]), float(m["fps"]), tuple(m["crop_limits"]), binning))
        if not modes:
            raise SensorUnavailable(f"{self.model} offers no raw sensor modes (is it a USB camera?)")
        self._info = SensorInfo(model=self.model, pixel_array_size=array,
                                cfa=cfa_name(props.get("ColorFilterArrangement"), self.model),
                                modes=tuple(modes), black_level_16=black_level_16(tuning),
                                unit_cell_size_nm=tuple(props.get("UnitCellSize", (1550, 1550))))
        self._mode: SensorMode | None = None
        self._raw: dict[str, Any] = {}
        self._queue: queue.Queue = queue.Queue()
        self._buffer_count = 4
        self._streaming = False
        self._lock = threading.Lock()

    @classmethod
    def open(cls, config: Config, clock: Clock | None = None, *, picamera2_class=None) -> "Picamera2Sensor":
        if picamera2_class is None:
            from picamera2 import Picamera2 as picamera2_class  # lazily: only on a Pi
        tuning = TuningFile.load(config.sensor.tuning) if config.sensor.tuning else None
        try:
            cam = picamera2_class(camera_num=config.sensor.camera, tuning=tuning.to_dict() if tuning else None)
        except (RuntimeError, IndexError, OSError) as exc:
            cause = exc.__cause__ or exc
            raise SensorUnavailable(f"picamera2 could not open camera {config.sensor.camera}: {cause}") from exc
        try:
            pisp = getattr(getattr(picamera2_class, "platform", None), "name", "") == "PISP"
            if tuning is None:
                model = str(cam.camera_properties.get("Model", ""))
                try:
                    tuning = TuningFile.from_dict(picamera2_class.load_tuning_file(f"{model}.json"),
                                                  source=f"{model}.json (libcamera's {'pisp' if pisp else 'vc4'} default)")
                except RuntimeError as exc:
                    raise SensorUnavailable(f"no tuning file for {model}: {exc}; set sensor.tuning") from exc
            return cls(cam, tuning, pisp=pisp, clock=clock)
        except BaseException:
            cam.close()
            raise

    # -- Sensor protocol (info, camera_controls, is_streaming, mode: BackendState) -------------------------
    def raw_format(self, mode: SensorMode) -> str:
        """Uncompressed raw: unpacked at the mode's depth on a Pi 4, 16-bit from the Pi 5's front end."""
        return f"S{self._info.cfa}{16 if self._pisp else mode.bit_depth}"

    def request_bytes(self, mode: SensorMode) -> int:
        """One request's buffers: the raw frame and the full-resolution RGB image beside it."""
        w, h = self._cam.sensor_resolution
        return mode.size[0] * mode.size[1] * 2 + w * h * 3

    def configure(self, mode: SensorMode, buffer_count: int = 4) -> None:
        if self._streaming:
            raise SensorStateError("Camera must be stopped before configuring")
        if mode not in self._info.modes:
            raise SensorStateError(f"{mode.name} is not a mode of {self.model}")
        cfg = self._cam.create_still_configuration(
            main={"size": tuple(self._cam.sensor_resolution), "format": "BGR888"},
            raw={"format": self.raw_format(mode), "size": mode.size},
            sensor={"output_size": mode.size, "bit_depth": mode.bit_depth},
            buffer_count=buffer_count, queue=False)
        try:
            self._cam.configure(cfg)
        except (RuntimeError, ValueError, OSError) as exc:
            raise SensorStateError(f"{self.model}: picamera2 refused {mode.name} with {buffer_count} buffers: "
                                   f"{exc}") from exc
        raw = self._cam.camera_configuration()["raw"]
        self._raw = {"format": str(raw["format"]), "size": tuple(raw["size"]), "stride": int(raw["stride"])}
        if self._raw["size"] != tuple(mode.size):
            raise SensorStateError(f"{self.model}: asked for raw {mode.name}, picamera2 configured {raw['size']}")
        self._mode, self._buffer_count = mode, buffer_count

    def start(self) -> None:
        if self._mode is None:
            raise SensorStateError("Camera has not been configured")
        if self._streaming:
            return
        self._drain(wake=False)  # nothing from before the last stop, not even its wake-up
        self._cam.pre_callback = self._on_request
        try:
            self._cam.start()
        except RuntimeError as exc:
            raise SensorUnavailable(f"{self.model}: cannot start streaming: {exc}") from exc
        self._streaming = True

    def stop(self) -> None:
        if not self._streaming:
            return
        self._streaming = False
        try:
            self._cam.cancel_all_and_flush()
            self._cam.stop()
        except RuntimeError as exc:
            log.debug("stopping %s: %s", self.model, exc)
        self._cam.pre_callback = None
        self._drain()

    def close(self) -> None:
        self.stop()
        try:
            self._cam.close()
        except RuntimeError as exc:
            log.debug("closing %s: %s", self.model, exc)

    def set_controls(self, controls: Mapping[str, Any]) -> None:
        self._cam.set_controls(self._controls.check(controls))

    def next_request(self, timeout: float | None = None) -> CompletedRequest:
        if not self._streaming:
            raise SensorStateError("Camera is not streaming")
        try:
            req = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise SensorTimeout(f"{self.model}: no frame within {timeout:.3f} s ({_TIMEOUT_HINT})") from None
        if req is None:
            raise SensorStateError("Camera was stopped while waiting for a frame")
        return self._wrap(req)

    # -- internals -----------------------------------------------------------------------------------------
    def _on_request(self, req) -> None:
        # picamera2's event loop, under its lock: take a reference and hand the request on, nothing more.
        req.acquire()
        self._queue.put(req)
        if self._queue.qsize() > self._buffer_count:
            try:
                old = self._queue.get_nowait()
            except queue.Empty:
                return
            if old is not None:
                old.release()  # nobody is consuming (the engine is recovering): let libcamera have it back

    def _drain(self, wake: bool = True) -> None:
        while True:
            try:
                req = self._queue.get_nowait()
            except queue.Empty:
                break
            if req is not None:
                req.release()
        if wake:
            self._queue.put(None)  # wakes a next_request() blocked in another thread

    def _wrap(self, req) -> CompletedRequest:
        md = {k: (tuple(v) if isinstance(v, list) else v) for k, v in req.get_metadata().items()}
        try:
            sequence = next(iter(req.request.buffers.values())).metadata.sequence
        except (AttributeError, StopIteration):
            sequence = int(md.get("SensorTimestamp", 0))
        mode, raw = self._mode, dict(self._raw)

        def render():
            return unpack(req.make_array("raw"), raw["format"], mode.size[0], mode.size[1], raw["stride"],
                          mode.bit_depth)

        released = threading.Event()

        def give_back(_buffers) -> None:
            if not released.is_set():
                released.set()
                try:
                    req.release()
                except RuntimeError as exc:  # the camera was closed under us: nothing left to return it to
                    log.debug("releasing a request: %s", exc)

        return CompletedRequest(sequence, md, {"raw": FrameBuffer(sequence, render)}, on_free=give_back)

