"""CameraManager, Camera, configurations, buffers and requests, following py_main.cpp's declarations."""

from __future__ import annotations

import enum
import errno
import os
import threading
import time
import weakref

from . import sim
from ._controls import ControlInfo, controls, properties
from ._geometry import ColorSpace, Orientation, Rectangle, Size, SizeRange


def _system_error(code: int, what: str) -> RuntimeError:
    # pybind11 translates std::system_error (a std::runtime_error) into RuntimeError: "<what>: <strerror>".
    return RuntimeError(f"{what}: {os.strerror(code)}")


class PixelFormat:
    def __init__(self, name: str = ""):
        self._name = str(name)

    fourcc = property(lambda self: hash(self._name) & 0xFFFFFFFF)
    modifier = property(lambda self: 0)

    def __eq__(self, other):
        return isinstance(other, PixelFormat) and self._name == other._name

    def __str__(self):
        return self._name

    def __repr__(self):
        return f"libcamera.PixelFormat('{self._name}')"


class StreamFormats:
    def __init__(self, modes: dict[str, list[tuple[int, int, float]]]):
        self._modes = modes

    @property
    def pixel_formats(self) -> list[PixelFormat]:
        return [PixelFormat(f) for f in self._modes]

    def sizes(self, pixelformat: PixelFormat) -> list[Size]:
        return [Size(w, h) for w, h, _ in self._modes.get(str(pixelformat), [])]

    def range(self, pixelformat: PixelFormat) -> SizeRange:
        sizes = self.sizes(pixelformat)
        return SizeRange(min(sizes), max(sizes)) if sizes else SizeRange()


class Stream:
    def __init__(self, config: "StreamConfiguration"):
        self._config = config

    @property
    def configuration(self) -> "StreamConfiguration":
        return self._config


class StreamConfiguration:
    def __init__(self, sensor: sim.SimSensor):
        fmt, sizes = next(iter(sensor.modes.items()))
        self.size = Size(*sizes[0][:2])
        self.pixel_format = PixelFormat(fmt)
        self.stride = 0
        self.frame_size = 0
        self.buffer_count = 4
        self.color_space = ColorSpace.Raw()
        self._formats = StreamFormats(sensor.modes)
        self._stream: Stream | None = None

    stream = property(lambda self: self._stream)
    formats = property(lambda self: self._formats)

    def __str__(self):
        return f"{self.size}-{self.pixel_format}"


class SensorConfiguration:
    def __init__(self):
        self.bit_depth = 0
        self.analog_crop = Rectangle()
        self.binning = (1, 1)
        self.skipping = (1, 1, 1, 1)
        self.output_size = Size()

    def is_valid(self) -> bool:
        return self.bit_depth > 0 and not self.output_size.is_null


class CameraConfiguration:
    class Status(enum.IntEnum):
        Valid = 0
        Adjusted = 1
        Invalid = 2

    def __init__(self, camera: "Camera", roles):
        self._camera = camera
        self._configs = [StreamConfiguration(camera._sim) for _ in roles]
        self.sensor_config = None
        self.orientation = Orientation.Rotate0

    def __iter__(self):
        return iter(self._configs)

    def __len__(self):
        return len(self._configs)

    def at(self, index: int) -> StreamConfiguration:
        return self._configs[index]

    size = property(lambda self: len(self._configs))
    empty = property(lambda self: not self._configs)

    def validate(self) -> "CameraConfiguration.Status":
        status = self.Status.Valid
        modes = self._camera._sim.modes
        for sc in self._configs:
            fmt = str(sc.pixel_format)
            if fmt not in modes:
                return self.Status.Invalid
            sizes = [(w, h) for w, h, _ in modes[fmt]]
            if (sc.size.width, sc.size.height) not in sizes:
                w, h = min(sizes, key=lambda s: abs(s[0] - sc.size.width) + abs(s[1] - sc.size.height))
                sc.size = Size(w, h)
                status = self.Status.Adjusted
            if sc.buffer_count < 1:
                sc.buffer_count = 1
                status = self.Status.Adjusted
            sc.stride = sim.stride_of(fmt, sc.size.width)
            sc.frame_size = sc.stride * sc.size.height
        return status


class FrameMetadata:
    class Status(enum.IntEnum):
        Success = 0
        Error = 1
        Cancelled = 2

    class Plane:
        def __init__(self, bytes_used: int = 0):
            self.bytes_used = bytes_used

    def __init__(self):
        self.status = FrameMetadata.Status.Success
        self.sequence = 0
        self.timestamp = 0
        self._planes: list[FrameMetadata.Plane] = []

    planes = property(lambda self: list(self._planes))


class FrameBuffer:
    class Plane:
        def __init__(self, fd: int = -1, offset: int = 0, length: int = 0):
            self.fd, self.offset, self.length = fd, offset, length

    def __init__(self, planes, cookie: int = 0):
        self._planes = list(planes)
        self.cookie = cookie
        self._metadata = FrameMetadata()

    metadata = property(lambda self: self._metadata)
    planes = property(lambda self: list(self._planes))


class FrameBufferAllocator:
    def __init__(self, camera: "Camera"):
        self._camera = camera
        self._buffers: dict[Stream, list[FrameBuffer]] = {}

    def allocate(self, stream: Stream) -> int:
        sc = stream.configuration
        bufs = []
        for i in range(sc.buffer_count):
            fd = os.memfd_create(f"fake-dmabuf-{i}", os.MFD_CLOEXEC)
            os.ftruncate(fd, sc.frame_size)
            bufs.append(FrameBuffer([FrameBuffer.Plane(fd, 0, sc.frame_size)]))
        self._buffers[stream] = bufs
        weakref.finalize(self, _close_all, [b.planes[0].fd for b in bufs])
        return len(bufs)

    allocated = property(lambda self: bool(self._buffers))

    def buffers(self, stream: Stream) -> list[FrameBuffer]:
        return list(self._buffers.get(stream, []))


def _close_all(fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


class Request:
    class Status(enum.IntEnum):
        Pending = 0
        Complete = 1
        Cancelled = 2

    class Reuse(enum.IntEnum):
        Default = 0
        ReuseBuffers = 1

    def __init__(self, camera: "Camera", cookie: int):
        self._camera = camera
        self._cookie = cookie
        self._buffers: dict[Stream, FrameBuffer] = {}
        self._controls: dict = {}
        self._metadata: dict = {}
        self._status = Request.Status.Pending
        self._sequence = 0

    def add_buffer(self, stream: Stream, buffer: FrameBuffer) -> None:
        if stream in self._buffers:
            raise _system_error(errno.EEXIST, "Failed to add buffer")
        self._buffers[stream] = buffer

    status = property(lambda self: self._status)
    buffers = property(lambda self: dict(self._buffers))
    cookie = property(lambda self: self._cookie)
    sequence = property(lambda self: self._sequence)
    has_pending_buffers = property(lambda self: self._status == Request.Status.Pending)
    metadata = property(lambda self: dict(self._metadata))

    def set_control(self, id, value) -> None:  # noqa: A002 - the binding's argument name
        self._controls[id] = value

    def reuse(self) -> None:
        self._status = Request.Status.Pending
        self._metadata = {}
        self._controls = {}


class Camera:
    def __init__(self, sensor: sim.SimSensor, manager: "CameraManager", index: int):
        self._sim = sensor
        self._manager = manager
        self._id = f"/base/soc/cci/{sensor.model}@1a-{index}"
        self._acquired = False
        self._configured: CameraConfiguration | None = None
        self._queue: list[Request] = []
        self._running = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._state = {"ExposureTime": 10000, "AnalogueGain": 1.0}
        self._sequence = 0

    id = property(lambda self: self._id)

    def acquire(self) -> None:
        if self._acquired or self._sim.disconnected:
            raise _system_error(errno.ENODEV if self._sim.disconnected else errno.EBUSY, "Failed to acquire camera")
        self._acquired = True

    def release(self) -> None:
        if self._running:
            raise _system_error(errno.EBUSY, "Failed to release camera")
        self._acquired = False

    def generate_configuration(self, roles) -> CameraConfiguration:
        return CameraConfiguration(self, roles)

    def configure(self, config: CameraConfiguration) -> None:
        if not self._acquired or self._running:
            raise _system_error(errno.EACCES, "Failed to configure camera")
        if config.validate() == CameraConfiguration.Status.Invalid:
            raise _system_error(errno.EINVAL, "Failed to configure camera")
        for sc in config:
            sc._stream = Stream(sc)
        self._configured = config

    def create_request(self, cookie: int = 0) -> Request:
        return Request(self, cookie)

    def queue_request(self, req: Request) -> None:
        if self._sim.disconnected:
            raise _system_error(errno.ENODEV, "Failed to queue request")
        if not self._running:
            raise _system_error(errno.EACCES, "Failed to queue request")
        with self._lock:
            self._queue.append(req)

    def start(self, controls={}) -> None:  # noqa: B006 - the binding's default
        if self._sim.disconnected or self._configured is None or self._running:
            raise _system_error(errno.ENODEV if self._sim.disconnected else errno.EACCES, "Failed to start camera")
        self._apply(controls)
        self._running = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            pending, self._queue = self._queue, []
        for req in pending:  # libcamera completes every pending request, cancelled, when the camera stops
            req._status = Request.Status.Cancelled
            for fb in req._buffers.values():
                fb.metadata.status = FrameMetadata.Status.Cancelled
            self._manager._complete(req)

    @property
    def streams(self) -> set:
        return {sc.stream for sc in self._configured} if self._configured else set()

    @property
    def controls(self) -> dict:
        fps = max(f for sizes in self._sim.modes.values() for *_, f in sizes)
        return {controls.ExposureTime: ControlInfo(13, 1_000_000, 10000),
                controls.ExposureTimeMode: ControlInfo(0, 1, 0),
                controls.AnalogueGain: ControlInfo(1.0, 16.0, 1.0),
                controls.AnalogueGainMode: ControlInfo(0, 1, 0),
                controls.FrameDurationLimits: ControlInfo(int(1e6 / fps), 1_000_000, int(1e6 / fps))}

    @property
    def properties(self) -> dict:
        w, h = self._sim.pixel_array
        return {properties.Model: self._sim.model, properties.PixelArraySize: Size(w, h),
                properties.UnitCellSize: Size(1550, 1550), properties.Location: 2,
                properties.draft.ColorFilterArrangement: self._sim.cfa,
                properties.PixelArrayActiveAreas: [Rectangle(0, 0, w, h)]}

    def __str__(self):
        return f"<libcamera.Camera '{self._id}'>"

    # -- the simulated sensor --------------------------------------------------------------------------------
    def _apply(self, ctrls: dict) -> None:
        for cid, value in ctrls.items():
            if cid.name in ("ExposureTime", "AnalogueGain") and value:
                self._state[cid.name] = value

    def _run(self) -> None:
        sc = self._configured.at(0)
        fmt = str(sc.pixel_format)
        fps = next(f for w, h, f in self._sim.modes[fmt] if (w, h) == (sc.size.width, sc.size.height))
        next_ns = time.monotonic_ns()
        while self._running:
            # Frames back to back on an exact timeline, as a sensor reads them out.
            duration_us = max(int(1e6 / fps), int(self._state["ExposureTime"]) + 100)
            next_ns += duration_us * 1000
            time.sleep(max(0.0, (next_ns - time.monotonic_ns()) / 1e9))
            if self._sim.frozen or self._sim.disconnected:
                continue
            self._sequence += 1
            with self._lock:
                req = self._queue.pop(0) if self._queue else None
            if req is None:
                continue  # no buffer queued: the frame is lost, as on a real pipeline
            self._apply(req._controls)
            fb = next(iter(req._buffers.values()))
            data = sim.encode(self._sim.pattern(sc.size.width, sc.size.height, self._sequence), fmt, sc.stride,
                              self._sim.bit_depth)
            os.pwrite(fb.planes[0].fd, data, 0)
            ts = next_ns
            fb.metadata.status = FrameMetadata.Status.Success
            fb.metadata.sequence = self._sequence
            fb.metadata.timestamp = ts
            fb.metadata._planes = [FrameMetadata.Plane(len(data))]
            black16 = self._sim.black_level << (16 - self._sim.bit_depth)
            req._metadata = {controls.SensorTimestamp: ts, controls.ExposureTime: int(self._state["ExposureTime"]),
                             controls.AnalogueGain: float(self._state["AnalogueGain"]),
                             controls.FrameDuration: duration_us, controls.SensorBlackLevels: [black16] * 4}
            req._sequence = self._sequence
            req._status = Request.Status.Complete
            self._sim.frames_completed += 1
            self._manager._complete(req)


class CameraManager:
    _instance: "weakref.ref[CameraManager] | None" = None

    def __init__(self):
        self._event_fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        self._ready: list[Request] = []
        self._lock = threading.Lock()
        self._cameras = [Camera(s, self, i) for i, s in enumerate(sim.CAMERAS)]
        weakref.finalize(self, os.close, self._event_fd)

    @staticmethod
    def singleton() -> "CameraManager":
        cm = CameraManager._instance() if CameraManager._instance else None
        if cm is None:
            cm = CameraManager()
            CameraManager._instance = weakref.ref(cm)
        return cm

    version = "v0.5.0+fake"

    def get(self, id: str) -> Camera | None:  # noqa: A002
        return next((c for c in self._cameras if c.id == id), None)

    cameras = property(lambda self: list(self._cameras))
    event_fd = property(lambda self: self._event_fd)

    def get_ready_requests(self) -> list[Request]:
        try:
            os.eventfd_read(self._event_fd)
        except BlockingIOError:
            pass
        with self._lock:
            ready, self._ready = self._ready, []
        return ready

    def _complete(self, req: Request) -> None:
        with self._lock:
            self._ready.append(req)
        os.eventfd_write(self._event_fd, 1)
