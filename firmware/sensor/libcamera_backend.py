"""The sensor on libcamera's own Python bindings: for boards without the Pi's ISP (the Snapdragon kit's camss).

Only the Raw stream role is configured; every completed request hands its raw frame to our software ISP. The
pattern is the bindings' own example (``src/py/examples/simple-continuous-capture.py``): one request per
allocated buffer, all queued at start; ``CameraManager.event_fd`` becomes readable when requests complete,
``get_ready_requests()`` returns them; a request is ``reuse()``d and queued again when its last reference is
released, carrying any controls set since.

>>> cam = LibcameraSensor.open(config)                     # doctest: +SKIP
>>> cam.configure(cam.info.mode(), 6); cam.start()        # doctest: +SKIP
"""

from __future__ import annotations

import collections
import importlib
import logging
import mmap
import select
import threading
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .. import paths
from ..boards import SensorBackend
from ..clock import Clock, SystemClock
from ..config import Config
from ..errors import SensorDisconnected, SensorStateError, SensorTimeout, SensorUnavailable
from ..tuning import TuningFile
from .adapter import BackendState, ControlTable, black_level_16, cfa_name
from .protocol import SensorInfo, SensorMode
from .request import CompletedRequest, FrameBuffer
from .unpack import parse_format, unpack

log = logging.getLogger(__name__)


class LibcameraSensor(BackendState):
    backend = SensorBackend.LIBCAMERA

    def __init__(self, lc, manager, camera, tuning: TuningFile, clock: Clock | None = None):
        self._lc = lc
        self._cm = manager
        self._cam = camera
        self.tuning = tuning
        self._clock = clock or SystemClock()
        props = {k.name: v for k, v in camera.properties.items()}
        self.model = str(props.get("Model", "unknown"))
        size = props.get("PixelArraySize")
        array = (size.width, size.height) if size is not None else (0, 0)
        self._controls = ControlTable({k.name: (i.min, i.max, i.default) for k, i in camera.controls.items()})
        self._ids = {k.name: k for k in camera.controls}
        self._info = SensorInfo(model=self.model, pixel_array_size=array,
                                cfa=cfa_name(props.get("ColorFilterArrangement"), self.model),
                                modes=self._modes(array), black_level_16=black_level_16(tuning))
        self._mode: SensorMode | None = None
        self._format = ""
        self._requests: list = []
        self._maps: dict = {}
        self._ready: collections.deque = collections.deque()
        self._pending: dict[str, Any] = {}
        self._streaming = False
        self._generation = 0
        self._lock = threading.Lock()

    @classmethod
    def open(cls, config: Config, clock: Clock | None = None, *, libcamera=None) -> "LibcameraSensor":
        lc = libcamera or importlib.import_module("libcamera")
        cm = lc.CameraManager.singleton()
        cameras = cm.cameras
        index = config.sensor.camera
        if index >= len(cameras):
            raise SensorUnavailable(f"libcamera found {len(cameras)} camera(s); sensor.camera = {index} does not exist")
        cam = cameras[index]
        try:
            cam.acquire()
        except (RuntimeError, OSError) as exc:
            raise SensorUnavailable(f"cannot acquire {cam.id}: {exc}") from exc
        model = str({k.name: v for k, v in cam.properties.items()}.get("Model", "unknown"))
        try:
            return cls(lc, cm, cam, _tuning(config, model), clock)
        except BaseException:
            cam.release()
            raise

    def _modes(self, array: tuple[int, int]) -> tuple[SensorMode, ...]:
        formats = self._cam.generate_configuration([self._lc.StreamRole.Raw]).at(0).formats
        lo = self._controls.advertised.get("FrameDurationLimits", (33333, None, None))[0]
        lo = lo[0] if isinstance(lo, (list, tuple)) else lo
        modes = {}
        for pf in formats.pixel_formats:
            try:
                cfa, bits, _ = parse_format(str(pf))
            except Exception:
                continue  # compressed or non-Bayer formats are not offered as modes
            for s in formats.sizes(pf):
                binning = max(1, round(array[0] / s.width)) if array[0] else 1
                mode = SensorMode((s.width, s.height), bits, round(1e6 / lo, 2) if lo else 30.0,
                                  (0, 0, s.width * binning, s.height * binning), binning)
                # Prefer the packed format for a size and depth (half the memory bandwidth of unpacked).
                key = (s.width, s.height, bits)
                if key not in modes or str(pf).endswith("_CSI2P"):
                    modes[key] = (mode, str(pf))
        if not modes:
            raise SensorUnavailable(f"{self._cam.id} offers no uncompressed Bayer raw format")
        self._formats = {m: fmt for m, fmt in modes.values()}
        return tuple(m for m, _ in modes.values())

    # -- Sensor protocol (info, camera_controls, is_streaming, mode: BackendState) -------------------------
    def configure(self, mode: SensorMode, buffer_count: int = 4) -> None:
        if self._streaming:
            raise SensorStateError("Camera must be stopped before configuring")
        fmt = self._formats.get(mode)
        if fmt is None:
            raise SensorStateError(f"{mode.name} is not a raw mode of {self.model}")
        cfg = self._cam.generate_configuration([self._lc.StreamRole.Raw])
        sc = cfg.at(0)
        sc.pixel_format = self._lc.PixelFormat(fmt)
        sc.size = self._lc.Size(*mode.size)
        sc.buffer_count = buffer_count
        status = cfg.validate()
        if status == self._lc.CameraConfiguration.Status.Invalid or \
                (sc.size.width, sc.size.height) != mode.size or str(sc.pixel_format) != fmt:
            raise SensorStateError(f"{self.model}: libcamera will not stream {fmt} at {mode.name} "
                                   f"(it offered {sc.pixel_format} at {sc.size})")
        try:
            self._cam.configure(cfg)
        except (RuntimeError, OSError) as exc:
            raise SensorStateError(f"{self.model}: configure failed: {exc}") from exc
        self._stream = sc.stream
        self._allocator = self._lc.FrameBufferAllocator(self._cam)
        if self._allocator.allocate(self._stream) < 1:
            raise SensorUnavailable(f"{self.model}: no frame buffers could be allocated")
        self._unmap()
        self._requests = []
        for i, fb in enumerate(self._allocator.buffers(self._stream)):
            req = self._cam.create_request(i)
            req.add_buffer(self._stream, fb)
            plane = fb.planes[0]
            self._maps[i] = mmap.mmap(plane.fd, plane.offset + plane.length, mmap.MAP_SHARED, mmap.PROT_READ)
            self._requests.append(req)
        self._mode, self._format, self._stride = mode, fmt, sc.stride

    def start(self) -> None:
        if self._mode is None:
            raise SensorStateError("Camera has not been configured")
        if self._streaming:
            return
        with self._lock:
            initial = {self._ids[k]: v for k, v in self._libcamera_controls(self._pending).items()}
            self._pending = {}
        try:
            self._cam.start(initial)
            for req in self._requests:
                self._cam.queue_request(req)
        except (RuntimeError, OSError) as exc:
            raise SensorDisconnected(f"{self.model}: cannot start streaming: {exc}") from exc
        self._generation += 1
        self._streaming = True

    def stop(self) -> None:
        if not self._streaming:
            return
        self._streaming = False
        try:
            self._cam.stop()
        except (RuntimeError, OSError) as exc:
            log.debug("stopping %s: %s", self.model, exc)
        self._cm.get_ready_requests()  # the cancelled ones
        self._ready.clear()

    def close(self) -> None:
        self.stop()
        self._unmap()
        try:
            self._cam.release()
        except (RuntimeError, OSError) as exc:
            log.debug("releasing %s: %s", self.model, exc)

    def set_controls(self, controls: Mapping[str, Any]) -> None:
        checked = self._controls.check(controls)
        with self._lock:
            self._pending.update(checked)

    def request_bytes(self, mode: SensorMode) -> int:
        """Memory one buffer holds in ``mode`` (what the ZSL ring's budget counts)."""
        _, bits, packed = parse_format(self._formats[mode])
        return mode.size[1] * (mode.size[0] * bits // 8 if packed else mode.size[0] * 2)

    def next_request(self, timeout: float | None = None) -> CompletedRequest:
        deadline = None if timeout is None else self._clock.monotonic_ns() + int(timeout * 1e9)
        while True:
            if not self._streaming:
                raise SensorStateError("Camera is not streaming")
            if self._ready:
                return self._wrap(self._ready.popleft())
            wait = 0.1 if deadline is None else min(0.1, max(0.0, (deadline - self._clock.monotonic_ns()) / 1e9))
            readable, _, _ = select.select([self._cm.event_fd], [], [], wait)
            if readable:
                for req in self._cm.get_ready_requests():
                    if req.status == self._lc.Request.Status.Complete and \
                            next(iter(req.buffers.values())).metadata.status == self._lc.FrameMetadata.Status.Success:
                        self._ready.append(req)
                    elif self._streaming:
                        self._requeue(req, self._generation)
            elif deadline is not None and self._clock.monotonic_ns() >= deadline:
                raise SensorTimeout(f"{self.model}: no frame within {timeout:.3f} s")

    # -- internals -----------------------------------------------------------------------------------------
    def _wrap(self, req) -> CompletedRequest:
        fb = next(iter(req.buffers.values()))
        md = {k.name: _plain(v) for k, v in req.metadata.items()}
        md.setdefault("SensorTimestamp", fb.metadata.timestamp)
        md.setdefault("SensorBlackLevels", (self._info.black_level_16,) * 4)
        mode, fmt, stride, view = self._mode, self._format, self._stride, self._maps[req.cookie]

        def render() -> np.ndarray:
            buf = np.frombuffer(view, dtype=np.uint8, count=stride * mode.size[1])
            return unpack(buf, fmt, mode.size[0], mode.size[1], stride, mode.bit_depth)

        gen = self._generation
        return CompletedRequest(fb.metadata.sequence, md, {"raw": FrameBuffer(req.cookie, render)},
                                on_free=lambda _bufs: self._requeue(req, gen))

    def _requeue(self, req, generation: int) -> None:
        if not self._streaming or generation != self._generation:
            return  # the camera stopped since: start() queues every request afresh
        req.reuse()
        with self._lock:
            pending, self._pending = self._pending, {}
        for name, value in self._libcamera_controls(pending).items():
            req.set_control(self._ids[name], value)
        try:
            self._cam.queue_request(req)
        except (RuntimeError, OSError) as exc:
            log.warning("%s: cannot queue a request: %s", self.model, exc)

    def _libcamera_controls(self, controls: Mapping[str, Any]) -> dict[str, Any]:
        """Our controls as libcamera >= 0.5 wants them: 0 exposure/gain means the mode is automatic."""
        out = dict(controls)
        for name, mode_name in (("ExposureTime", "ExposureTimeMode"), ("AnalogueGain", "AnalogueGainMode")):
            if name in out and mode_name in self._ids:
                out[mode_name] = 1 if out[name] else 0
                if not out[name]:
                    del out[name]
        if "AeEnable" in out and "AeEnable" not in self._ids:
            on = out.pop("AeEnable")
            for mode_name in ("ExposureTimeMode", "AnalogueGainMode"):
                if mode_name in self._ids:
                    out.setdefault(mode_name, 0 if on else 1)
        return {k: v for k, v in out.items() if k in self._ids}

    def _unmap(self) -> None:
        for m in self._maps.values():
            try:
                m.close()
            except BufferError:  # a frame being copied still has a view; the mapping goes with it
                pass
        self._maps = {}


def _plain(value):
    if hasattr(value, "width") and hasattr(value, "height") and hasattr(value, "x"):
        return (value.x, value.y, value.width, value.height)
    if isinstance(value, list):
        return tuple(value)
    return value


def _tuning(config: Config, model: str) -> TuningFile:
    """The tuning for our ISP: the configured file, else ``tuning/<model>.json|yaml`` in the data directory."""
    if config.sensor.tuning:
        return TuningFile.load(config.sensor.tuning)
    tried = []
    for name in (f"{model}.json", f"{model}.yaml"):
        path = Path(paths.tuning_dir()) / name
        tried.append(str(path))
        if path.exists():
            return TuningFile.load(path)
    raise SensorUnavailable(f"no tuning file for {model}: set sensor.tuning, or add one of {', '.join(tried)}")
