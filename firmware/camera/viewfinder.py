"""The viewfinder: the live stream developed at low resolution, on demand, for previews, histograms and focus.

While someone watches (a ``camctl preview``/``histogram``/``focus``, the preview page's MJPEG stream), a thread
takes the newest frame from the capture engine's ring at up to ``[preview] fps``, develops its low-resolution
stream (picamera2's ``lores``; the mock renders one; other backends' raw frames are binned down by CFA site)
with the camera's develop recipe at preview size (bilinear demosaic, the current look's colour and tone) and
publishes it with its focus figure of merit. Nobody watching for ``idle_time`` seconds: the thread sleeps and
costs nothing.

>>> frame = camera.preview().latest()       # doctest: +SKIP
>>> frame.jpeg(), frame.focus               # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..capture.engine import CaptureEngine
from ..config.model import PreviewConfig
from ..develop import Recipe, develop, frame_facts
from ..errors import CameradError
from ..formats.jpeg import encode_jpeg
from ..frame import crop_fractions
from ..sensor.protocol import Sensor, SensorMode
from ..tuning import TuningFile
from . import analysis
from .settings import CameraSettings

log = logging.getLogger(__name__)


class ViewfinderError(CameradError):
    """No preview frame could be had (the camera is not streaming, or developing failed)."""


@dataclass
class PreviewFrame:
    """One developed preview frame (8-bit sRGB) and what was measured on it."""

    rgb: np.ndarray
    sequence: int
    timestamp_ns: int
    metadata: dict[str, Any]
    focus: float
    raw_clipped: float  # percent of photosites at the sensor's white level
    white_level: int
    _jpeg: dict[int, bytes] = field(default_factory=dict, repr=False)

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]

    def jpeg(self, quality: int = 80) -> bytes:
        if quality not in self._jpeg:
            self._jpeg[quality] = encode_jpeg(self.rgb, quality=quality, icc_profile=None)
        return self._jpeg[quality]

    def histogram(self, bins: int = 64) -> dict:
        out = analysis.histogram(self.rgb, bins)
        out["raw_clipped"] = self.raw_clipped
        return out


def bin_bayer(raw: np.ndarray, factor: int) -> np.ndarray:
    """A Bayer mosaic ``factor`` times smaller each way, each CFA site averaged over factor x factor of its own."""
    if factor <= 1:
        return raw
    h, w = raw.shape
    bh, bw = h // (2 * factor), w // (2 * factor)
    out = np.empty((2 * bh, 2 * bw), dtype=raw.dtype)
    for dy in (0, 1):
        for dx in (0, 1):
            site = raw[dy:2 * bh * factor:2, dx:2 * bw * factor:2].reshape(bh, factor, bw, factor)
            out[dy::2, dx::2] = site.mean(axis=(1, 3), dtype=np.float32).round().astype(raw.dtype)
    return out


class Viewed(Protocol):
    """What the viewfinder reads of the camera for each frame: its sensor, mode, tuning and look."""

    @property
    def sensor(self) -> Sensor: ...

    @property
    def mode(self) -> SensorMode: ...

    @property
    def tuning(self) -> TuningFile: ...

    @property
    def settings(self) -> CameraSettings: ...


class Viewfinder:
    def __init__(self, camera: Viewed, engine: CaptureEngine, cfg: PreviewConfig, *, width: int | None = None,
                 fps: float | None = None, idle_time: float = 3.0):
        self.camera = camera
        self.engine = engine
        self.width = width or cfg.width
        self.fps = fps or cfg.fps
        self.idle_time = idle_time
        self._cond = threading.Condition()
        self._frame: PreviewFrame | None = None
        self._demand_s = 0.0
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None
        self.focus_peak = 0.0
        self.frames = 0
        self.develop_s = 0.0  # CPU-side time spent developing, for the benchmark

    # -- readers -------------------------------------------------------------------------------------------
    def latest(self, timeout: float = 5.0) -> PreviewFrame:
        """The newest developed frame, waiting (up to ``timeout`` s) for the first one after a quiet spell."""
        return self._wait(lambda f: f is not None, timeout)

    def next_after(self, sequence: int | None, timeout: float = 5.0) -> PreviewFrame:
        """The first frame newer than ``sequence`` (an MJPEG stream's next frame)."""
        return self._wait(lambda f: f is not None and (sequence is None or f.sequence > sequence), timeout)

    def reset_focus_peak(self) -> None:
        self.focus_peak = 0.0

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _wait(self, ready, timeout: float) -> PreviewFrame:
        self._demand()
        with self._cond:
            if not self._cond.wait_for(lambda: ready(self._frame) or self._closing.is_set(), timeout):
                engine = self.engine.snapshot()
                why = self.error or engine.fault or ("the camera is not streaming" if not engine.streaming
                                                     else "no new frame")
                raise ViewfinderError(f"no preview frame within {timeout:g} s: {why}")
            if self._frame is None:
                raise ViewfinderError("the viewfinder is closed (camerad is stopping)")
            return self._frame

    def _demand(self) -> None:
        self._demand_s = time.monotonic()
        if self._closing.is_set():
            return
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="camerad-viewfinder", daemon=True)
                self._thread.start()
        self._wake.set()

    # -- the thread ----------------------------------------------------------------------------------------
    def _loop(self) -> None:
        last_seq = None
        while not self._closing.is_set():
            if time.monotonic() - self._demand_s > self.idle_time:
                with self._cond:
                    self._frame = None  # a frame from before a quiet spell is no preview
                self._wake.clear()
                self._wake.wait()
                last_seq = None
                continue
            t0 = time.monotonic()
            req = self.engine.newest_frame()
            if req is None or req.sequence == last_seq:
                if req is not None:
                    req.release()
                self._closing.wait(min(0.02, 1.0 / self.fps))
                continue
            try:
                frame = self._develop(req)
            except Exception as exc:  # noqa: BLE001 - a bad frame must not end the viewfinder
                if str(exc) != self.error:
                    log.error("viewfinder: developing frame %d failed: %s", req.sequence, exc)
                self.error = str(exc)
                self._closing.wait(1.0 / self.fps)
                continue
            finally:
                req.release()
            self.error = None
            last_seq = frame.sequence
            self.focus_peak = max(self.focus_peak, frame.focus)
            with self._cond:
                self._frame = frame
                self._cond.notify_all()
            self._closing.wait(max(0.0, 1.0 / self.fps - (time.monotonic() - t0)))
        with self._cond:
            self._frame = None
            self._cond.notify_all()

    def _develop(self, req) -> PreviewFrame:
        t0 = time.perf_counter()
        camera = self.camera
        mode, info = camera.mode, camera.sensor.info
        if "lores" in req.streams:
            bayer = req.make_array("lores")
        else:
            raw = req.make_array("raw")
            bayer = bin_bayer(raw, max(1, raw.shape[1] // (2 * self.width)))
        h, w = bayer.shape
        out_w = min(self.width, w)
        size = (out_w, max(2, int(round(h * out_w / w / 2)) * 2))
        md = req.get_metadata()
        white = (1 << mode.bit_depth) - 1
        raw_clipped = 100.0 * float(np.count_nonzero(bayer >= white)) / bayer.size
        frame = frame_facts(md, cfa=info.cfa, bit_depth=mode.bit_depth,
                            crop=crop_fractions(mode.crop, info.pixel_array_size))
        recipe = Recipe(camera.tuning, look=camera.settings.look, preview_size=size)
        rgb = develop(bayer, frame, recipe)
        out = PreviewFrame(rgb=rgb, sequence=req.sequence, timestamp_ns=req.timestamp_ns, metadata=md,
                           focus=analysis.focus_measure(rgb), raw_clipped=round(raw_clipped, 3), white_level=white)
        self.frames += 1
        self.develop_s += time.perf_counter() - t0
        return out
