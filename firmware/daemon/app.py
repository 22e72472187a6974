"""The daemon's parts wired together: sensor, capture engine, writer and GPIO controls."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from pathlib import Path

from ..clock import Clock, SystemClock
from ..config import Config
from ..formats.identity import CameraIdentity
from ..gpio.board import GpioBoard, open_board
from ..sensor.protocol import Sensor
from ..sensor.select import open_sensor
from ..tuning import TuningFile
from ..capture.engine import CaptureEngine
from ..capture.writer import CaptureResult, CaptureWriter

log = logging.getLogger(__name__)

SHUTTER_PIN = 17  # BCM numbering; the board profiles in hw/ name the pins per board

# Lens figures for EXIF until a board profile supplies them: the official 6 mm CS-mount lens on the HQ camera
# and Camera Module 3's fixed lens.
_LENSES = {"imx477": (6.0, 1.2, "6mm CS-mount"), "imx708": (4.74, 1.8, "Camera Module 3")}


class Camerad:
    def __init__(self, config: Config, *, sensor: Sensor | None = None, board: GpioBoard | None = None,
                 clock: Clock | None = None, captures: str | Path | None = None):
        self.config = config
        self.clock = clock or SystemClock()
        self.sensor = sensor or open_sensor(config, self.clock)
        info = self.sensor.info
        self.mode = info.mode(config.sensor.mode)
        self.sensor.configure(self.mode, config.sensor.buffer_count)
        self.tuning = self._tuning()
        self.writer = CaptureWriter(captures or config.capture.directory, self.tuning, cfa=info.cfa,
                                    bit_depth=self.mode.bit_depth, binning=self.mode.binning,
                                    identity=self._identity(),
                                    raw=config.capture.raw, jpeg_quality=config.capture.jpeg_quality,
                                    sidecar=config.capture.sidecar)
        # The ring holds buffers; leave the sensor enough to keep streaming while captures are developed.
        ring = max(1, config.sensor.buffer_count - 3)
        self.engine = CaptureEngine(self.sensor, self.writer, zsl=config.capture.zsl, ring_size=ring,
                                    frame_timeout=config.sensor.frame_timeout, clock=self.clock)
        self.board = board or open_board(config.gpio.backend)
        self.captures: list[Future] = []
        self.board.button(SHUTTER_PIN, when_pressed=self._on_shutter)

    def _tuning(self) -> TuningFile:
        if self.config.sensor.tuning:
            return TuningFile.load(self.config.sensor.tuning)
        tuning = getattr(self.sensor, "tuning", None)
        if tuning is None:
            raise RuntimeError("no tuning file: set sensor.tuning in the configuration")
        return tuning

    def _identity(self) -> CameraIdentity:
        model = self.sensor.info.model
        focal, fnum, lens = _LENSES.get(model, (None, None, None))
        mock = self.sensor.__class__.__name__ == "MockSensor"
        return CameraIdentity(make="camerad", model=f"{model} (mock)" if mock else model, focal_length_mm=focal,
                              f_number=fnum, lens_model=lens)

    def _on_shutter(self) -> None:
        # Runs on gpiozero's pin thread: timestamp the press and hand it on, nothing more.
        self.captures.append(self.engine.capture(self.clock.monotonic_ns()))

    def capture(self) -> "Future[CaptureResult]":
        fut = self.engine.capture()
        self.captures.append(fut)
        return fut

    def start(self) -> None:
        self.engine.start()

    def stop(self) -> None:
        self.engine.stop()
        self.board.close()
        self.sensor.close()
