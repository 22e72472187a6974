"""The mock sensor: a ``Sensor`` backend whose frames come from a physical model instead of a camera.

Time is real (or simulated, with a ``FakeClock``): frame n of a stream started at t0 has SensorTimestamp
``t0 + sum of frame durations``, whether or not anyone is looking. Frames are not rendered when they happen,
only when someone asks for their pixels - each request carries what it needs (timestamp, exposure, gain,
light) to render itself later, deterministically. So an idle stream costs a few microseconds per frame, and a
frame picked from a zero-shutter-lag ring seconds later is exactly what the sensor would have read out then.

Buffers behave like libcamera's: ``buffer_count`` of them; a frame that completes while every buffer is held
by someone (the ring, a writer) is dropped, and ``frames_dropped`` counts it.

Each request also carries a ``"lores"`` stream, as picamera2's low-resolution stream does: the same exposure
rendered straight at about 640 pixels wide (still raw Bayer, same black and white levels), for the preview
and the focus aid. It costs nothing unless read. A simulated manual-focus ring (``set_focus``) defocuses the
lens: the extra blur joins the lens's own blur before mosaicking, so captures and previews blur alike.

>>> cam = MockSensor("imx477", scene="colorchecker")            # doctest: +SKIP
>>> cam.configure(cam.info.mode("2028x1520")); cam.start()      # doctest: +SKIP
>>> with cam.next_request(timeout=1.0) as req:                  # doctest: +SKIP
...     raw = req.make_array("raw"); ct = req.metadata["ColourTemperature"]
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import threading
from typing import Any, Mapping

from ...boards import SensorBackend
from ...clock import Clock, SystemClock
from ...errors import SensorDisconnected, SensorStateError, SensorTimeout, SensorUnavailable
from ...tuning import TuningFile
from ...tuning.blocks import Ccm
from .. import controls as ctl
from ..protocol import SensorInfo, SensorMode
from ..request import CompletedRequest, FrameBuffer
from .faults import FAULTS, Faults
from .ipa import FrameSettings, MockIpa
from .models import SensorModel, sensor_model
from .render import Renderer, mode_levels
from .scenes import make_scene
from .spectral import Lighting
from .tuning_default import default_tuning

log = logging.getLogger(__name__)

_STARTUP_FRAMES = 3  # frame periods between start() and the first SensorTimestamp
_CONTROL_LATENCY_FRAMES = 2  # libcamera applies controls a couple of frames late
LORES_WIDTH = 640  # the low-resolution stream's width (picamera2's usual lores size)
# Defocus blur (Gaussian sigma, in pixel-array pixels) per unit of focus-ring travel away from sharp focus:
# the whole ring's travel (0..1) blurs a 12 MP frame by up to ~20 px, as a fast lens would.
DEFOCUS_PX_PER_TRAVEL = 40.0


class MockSensor:
    backend = SensorBackend.MOCK
    is_mock = True

    def __init__(self, model: str | SensorModel = "imx477", scene: str = "colorchecker",
                 lighting: Lighting | None = None, tuning: TuningFile | None = None, seed: int = 0,
                 hot_pixels: int = 16, clock: Clock | None = None):
        # A model name is one of the hand-made mocks; a SensorModel comes from elsewhere (like.py: a mock like a
        # stock-tuned sensor, which brings its own tuning file).
        self.model = model if isinstance(model, SensorModel) else sensor_model(model)
        self.lighting = lighting or Lighting()
        self.tuning = tuning or default_tuning(self.model.info.model)
        self.seed = seed
        self._clock = clock or SystemClock()
        self._scene = make_scene(scene, self.model.info.pixel_array_size, seed)
        self._hot_pixels = hot_pixels
        # The focus ring: sharp at ``focus_sharp``; the ring starts there, so an untouched mock is in focus.
        self.focus_sharp = 0.5
        self.focus_position = self.focus_sharp
        self._renderer = self._lores_renderer = None
        self._make_renderers()
        self._scene_name = scene
        self._ccm = self._read_ccm()
        lo_fd = min(m.min_frame_duration_us for m in self.model.info.modes)
        self._table = ctl.standard_controls(exposure_us=self.model.exposure_range_us, gain=self.model.gain_range,
                                            frame_duration_us=(lo_fd, 1_000_000_000))
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._cancel = threading.Event()
        self.faults = Faults()
        self._open = True
        self._mode: SensorMode | None = None
        self._streaming = False
        self._buffer_count = 0
        self._free: list[int] = []
        self._queue: collections.deque[CompletedRequest] = collections.deque()
        self._pending: list[tuple[int, dict]] = []
        self._initial: dict[str, Any] = {}
        self._generation = 0
        self._opened_ns = self._clock.monotonic_ns()
        self.frames_completed = 0
        self.frames_dropped = 0

    def _read_ccm(self) -> Ccm | None:
        try:
            return Ccm.read(self.tuning)
        except Exception:  # an uncalibrated file may lack rpi.ccm; metadata then carries no matrix
            return None

    # -- Sensor protocol -----------------------------------------------------------------------------------
    @property
    def info(self) -> SensorInfo:
        return self.model.info

    @property
    def camera_controls(self) -> dict[str, tuple[Any, Any, Any]]:
        return ctl.advertised(self._table)

    @property
    def is_streaming(self) -> bool:
        return self._streaming

    @property
    def mode(self) -> SensorMode | None:
        return self._mode

    @property
    def lens(self) -> "MockSensor":
        """The simulated manual-focus ring (``set_focus``, ``focus_position``, ``focus_sharp``, ``defocus_px``)."""
        return self

    def request_bytes(self, mode: SensorMode) -> int:
        """A 16-bit raw frame (the lores stream is rendered only when read)."""
        return mode.size[0] * mode.size[1] * 2

    def configure(self, mode: SensorMode, buffer_count: int = 4) -> None:
        with self._lock:
            self._check_open()
            if self._streaming:
                raise SensorStateError("Camera must be stopped before configuring")
            if mode not in self.model.info.modes:
                raise SensorStateError(f"{mode.name} is not a mode of {self.model.info.model}")
            if buffer_count < 1:
                raise SensorStateError(f"buffer_count must be at least 1, got {buffer_count}")
            self._mode = mode
            self._buffer_count = buffer_count
            self._levels = mode_levels(self.model, mode)
            self._ipa = MockIpa(self.tuning, self._levels, mode, self.model.gain_range, self.model.exposure_range_us,
                                array_size=self.model.info.pixel_array_size, cfa=self.model.info.cfa)
            self._ipa.apply_controls(self._initial)

    def start(self) -> None:
        with self._lock:
            self._check_open()
            if self._mode is None:
                raise SensorStateError("Camera has not been configured")
            if self._streaming:
                return
            # Compute the scene's signal now, not in the first frame's deadline.
            self._renderer.signal(self._mode, self.lighting)
            self._cancel.clear()
            self._generation += 1
            self._free = list(range(self._buffer_count))
            self._queue.clear()
            self._sequence = 0
            self._stats = None
            self._settings = self._ipa.next_frame(None)
            now = self._clock.monotonic_ns()
            self._next_ts = now + _STARTUP_FRAMES * self._settings.frame_duration_us * 1000
            self._streaming = True
            log.debug("mock %s streaming %s", self.model.info.model, self._mode.name)

    def stop(self) -> None:
        with self._lock:
            self._streaming = False
            self._cancel.set()
            while self._queue:
                self._queue.popleft().release()
            self._wake.notify_all()

    def close(self) -> None:
        self.stop()
        with self._lock:
            self._open = False

    def set_controls(self, controls: Mapping[str, Any]) -> None:
        checked = ctl.check_controls(self._table, controls)
        with self._lock:
            self._check_open()
            if self._streaming:
                self._pending.append((self._clock.monotonic_ns(), checked))
            else:
                # Before start they take effect from the first frame, as picamera2's config controls do.
                self._initial.update(checked)
                if self._mode is not None:
                    self._ipa.apply_controls(checked)

    def next_request(self, timeout: float | None = None) -> CompletedRequest:
        deadline = None if timeout is None else self._clock.monotonic_ns() + int(timeout * 1e9)
        while True:
            with self._lock:
                self._check_open()
                if not self._streaming:
                    raise SensorStateError("Camera is not streaming")
                self._advance(self._clock.monotonic_ns())
                if self._queue:
                    return self._queue.popleft()
                due = self._next_completion_ns()
            now = self._clock.monotonic_ns()
            if deadline is not None and now >= deadline:
                raise SensorTimeout(f"mock {self.model.info.model}: no frame within {timeout:.3f} s")
            wake = due if deadline is None else min(due, deadline)
            if wake == math.inf:
                wake = now + 50_000_000  # frozen and no deadline: poll for stop()/faults
            if not self._clock.sleep_until(int(wake), self._cancel):
                raise SensorStateError("Camera was stopped while waiting for a frame")

    # -- mock-only controls ------------------------------------------------------------------------------------
    def set_lighting(self, lighting: Lighting) -> None:
        """Change the light on the scene (colour temperature, source, lux) from the next frame on."""
        with self._lock:
            self.lighting = lighting
            if self._streaming:
                self._renderer.signal(self._mode, lighting)

    def set_focus(self, position: float) -> None:
        """Turn the simulated manual-focus ring to ``position`` (0 .. 1; sharp at ``focus_sharp``)."""
        position = float(position)
        if not (0.0 <= position <= 1.0):
            raise ValueError(f"focus position must be between 0 and 1, got {position!r}")
        with self._lock:
            self.focus_position = position
            self._make_renderers()
            if self._streaming:
                self._renderer.signal(self._mode, self.lighting)

    @property
    def defocus_px(self) -> float:
        """The ring's extra blur (Gaussian sigma in pixel-array pixels); 0 in focus."""
        return DEFOCUS_PX_PER_TRAVEL * abs(self.focus_position - self.focus_sharp)

    def _make_renderers(self) -> None:
        # Defocus is more lens blur: a model whose blur adds in quadrature, so focus does not touch the noise
        # physics and an untouched ring renders exactly what the plain model does.
        model = self.model
        if self.defocus_px:
            model = dataclasses.replace(model, blur_sigma_px=math.hypot(model.blur_sigma_px, self.defocus_px))
        self._renderer = Renderer(model, self._scene, self.seed, self._hot_pixels)
        # Its own renderer (and signal cache), so previews never evict the full-resolution signal.
        self._lores_renderer = Renderer(model, self._scene, self.seed, self._hot_pixels)

    def lores_mode(self, mode: SensorMode | None = None) -> SensorMode:
        """The low-resolution stream's geometry for ``mode``: same field of view, ~640 pixels wide."""
        mode = mode or self._mode
        w, h = mode.size
        lw = min(w, LORES_WIDTH)
        lh = max(2, int(round(h * lw / w / 2)) * 2)
        return SensorMode((lw, lh), mode.bit_depth, mode.max_fps, mode.crop, mode.binning)

    def scene_cache_bytes(self) -> int:
        """Bytes of scene signal the mock keeps cached (benchmarks subtract it: a real sensor has none)."""
        return sum(r.cached_bytes() for r in (self._renderer, self._lores_renderer) if r is not None)

    def patches(self):
        """Where the scene's ColorChecker patches are in the configured mode (None for other scenes)."""
        return self._renderer.patches(self._mode)

    def inject(self, fault: str, *, seconds: float = 3.0, frames: int = 1) -> None:
        """Make the sensor misbehave: ``timeout`` (stall ``seconds``), ``drop`` (lose ``frames``),
        ``disconnect`` or ``freeze``."""
        with self._lock:
            if fault == "timeout":
                self.faults.stall_until_ns = self._clock.monotonic_ns() + int(seconds * 1e9)
            elif fault == "drop":
                self.faults.drop_frames += frames
            elif fault == "disconnect":
                self.faults.disconnected = True
            elif fault == "freeze":
                self.faults.frozen = True
            else:
                raise ValueError(f"unknown fault {fault!r} (faults: {', '.join(FAULTS)})")
            self._wake.notify_all()

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    @property
    def levels(self):
        return self._levels

    # -- internals -----------------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if not self._open:
            raise SensorUnavailable("Camera not opened (it was closed)")
        if self.faults.disconnected:
            raise SensorDisconnected(f"mock {self.model.info.model}: camera disconnected")

    def _completion_ns(self, ts: int) -> int:
        # Readout of the whole array takes about the mode's shortest frame time.
        return ts + self._mode.min_frame_duration_us * 1000

    def _next_completion_ns(self) -> float:
        if self.faults.frozen:
            return math.inf
        return max(self._completion_ns(self._next_ts), self.faults.stall_until_ns)

    def _advance(self, now: int) -> None:
        """Complete every frame whose readout finished by ``now``: loops step, requests queue or drop."""
        while not self.faults.frozen and self._completion_ns(self._next_ts) <= now:
            ts = self._next_ts
            self._apply_pending(ts)
            settings = self._settings
            self._settings = self._ipa.next_frame(self._renderer.signal(self._mode, self.lighting))
            self._next_ts = ts + settings.frame_duration_us * 1000
            seq = self._sequence
            self._sequence += 1
            self.frames_completed += 1
            stalled = self._completion_ns(ts) < self.faults.stall_until_ns
            if stalled or self.faults.drop_frames or not self._free:
                if self.faults.drop_frames and not stalled:
                    self.faults.drop_frames -= 1
                self.frames_dropped += 1
                continue
            self._queue.append(self._make_request(seq, ts, settings))
        if self._queue:
            self._wake.notify_all()

    def _apply_pending(self, ts: int) -> None:
        horizon = ts - _CONTROL_LATENCY_FRAMES * self._settings.frame_duration_us * 1000
        keep = []
        for t, controls in self._pending:
            if t <= horizon:
                self._ipa.apply_controls(controls)
            else:
                keep.append((t, controls))
        self._pending = keep

    def _make_request(self, seq: int, ts: int, s: FrameSettings) -> CompletedRequest:
        index = self._free.pop()
        mode, lighting, renderer, lores_renderer = self._mode, self.lighting, self._renderer, self._lores_renderer
        lores_mode = self.lores_mode(mode)
        raw = FrameBuffer(index, lambda: renderer.render(mode, lighting, s.exposure_us, s.gain, ts))
        # The lores stream shares the raw buffer's slot (index -1: it is not a buffer of the pool).
        lores = FrameBuffer(-1, lambda: lores_renderer.render(lores_mode, lighting, s.exposure_us, s.gain, ts))
        gen = self._generation
        return CompletedRequest(seq, self._metadata(ts, s), {"raw": raw, "lores": lores},
                                on_free=lambda bufs: self._return_buffers(bufs, gen))

    def _return_buffers(self, buffers: list[FrameBuffer], generation: int) -> None:
        with self._lock:
            # A buffer from before the last start() belongs to a pool that no longer exists.
            if generation == self._generation:
                self._free.extend(b.index for b in buffers if b.index >= 0)

    def _metadata(self, ts: int, s: FrameSettings) -> dict[str, Any]:
        t0, t1 = self.model.temperature_c
        warm = 1.0 - math.exp(-(ts - self._opened_ns) / 600e9)
        black16 = self.model.info.black_level_16
        md = {
            "SensorTimestamp": ts,
            "ExposureTime": s.exposure_us,
            "AnalogueGain": round(s.gain, 4),
            "DigitalGain": 1.0,
            "ColourGains": (round(s.colour_gains[0], 4), round(s.colour_gains[1], 4)),
            "ColourTemperature": int(round(s.ct)),
            "Lux": round(s.lux, 2),
            "SensorBlackLevels": (black16, black16, black16, black16),
            "FrameDuration": s.frame_duration_us,
            "SensorTemperature": round(t0 + (t1 - t0) * warm, 2),
            "AeLocked": not self._ipa.controls["AeEnable"],
        }
        if self._ccm is not None:
            md["ColourCorrectionMatrix"] = tuple(round(float(v), 5) for v in self._ccm.at(s.ct).ravel())
        return md
