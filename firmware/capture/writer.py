"""Develop a picked frame and put it on disk: DNG, JPEG and JSON sidecar, each written atomically."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..formats.dng import encode_dng
from ..formats.identity import CameraIdentity
from ..formats.jpeg import encode_jpeg, exif_bytes
from ..formats.sidecar import encode_sidecar
from ..isp import FrameInfo, Pipeline, build_pipeline
from ..isp.noise import NoiseProfile
from ..sensor.request import CompletedRequest
from ..storage.atomic import atomic_write, clean_leftovers
from ..storage.naming import unique_stem
from ..tuning import TuningFile

log = logging.getLogger(__name__)


@dataclass
class CaptureResult:
    stem: str
    files: list[Path]
    sequence: int
    press_ns: int
    timestamp_ns: int
    exposure_start_ns: int
    frame_duration_us: int
    develop_s: float
    timings: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def lag_ns(self) -> int:
        """Exposure start minus press: negative or zero means the exposure was already running."""
        return self.exposure_start_ns - self.press_ns

    @property
    def lag_frames(self) -> int:
        """Frames between the one exposing at the press and the one taken (0 = zero shutter lag)."""
        if self.lag_ns <= 0:
            return 0
        return math.ceil(self.lag_ns / (self.frame_duration_us * 1000))


class CaptureWriter:
    def __init__(self, directory: str | Path, tuning: TuningFile, *, cfa: str, bit_depth: int,
                 identity: CameraIdentity, binning: int = 1, raw: bool = True, jpeg_quality: int = 93, sidecar: bool = True,
                 pipeline: Pipeline | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        for p in clean_leftovers(self.directory):
            log.warning("removed %s, left half-written by an earlier crash", p)
        self.tuning = tuning
        self.cfa = cfa
        self.bit_depth = bit_depth
        self.binning = binning
        self.identity = identity
        self.raw = raw
        self.jpeg_quality = jpeg_quality
        self.sidecar = sidecar
        self.pipeline = pipeline or build_pipeline(tuning)

    def write(self, request: CompletedRequest, press_ns: int, wall_ns: int) -> CaptureResult:
        t0 = time.perf_counter()
        md = request.get_metadata()
        raw = request.make_array("raw")
        timings = {"render": time.perf_counter() - t0}
        stem = unique_stem(self.directory, wall_ns)
        files = []
        if self.raw:
            t = time.perf_counter()
            dng = encode_dng(raw, md, cfa=self.cfa, bit_depth=self.bit_depth, tuning=self.tuning,
                             identity=self.identity, wall_ns=wall_ns, mode_factor=self.binning)
            files.append(atomic_write(self.directory / f"{stem}.dng", dng))
            timings["dng"] = time.perf_counter() - t
        t = time.perf_counter()
        shift = 16 - self.bit_depth
        noise = NoiseProfile.from_tuning(self.tuning, float(md.get("AnalogueGain", 1.0)),
                                         float(sum(md.get("SensorBlackLevels", (0,) * 4)) / 4),
                                         float(((1 << self.bit_depth) - 1) << shift), self.binning)
        frame = FrameInfo.from_metadata(md, self.cfa, self.bit_depth, noise)
        rgb = self.pipeline.run(raw, frame)
        timings["isp"] = time.perf_counter() - t
        t = time.perf_counter()
        jpeg = encode_jpeg(rgb, exif_bytes(md, self.identity, wall_ns, size=(rgb.shape[1], rgb.shape[0])),
                           self.jpeg_quality)
        files.append(atomic_write(self.directory / f"{stem}.jpg", jpeg))
        timings["jpeg"] = time.perf_counter() - t
        result = CaptureResult(stem=stem, files=files, sequence=request.sequence, press_ns=press_ns,
                               timestamp_ns=request.timestamp_ns, exposure_start_ns=request.exposure_start_ns,
                               frame_duration_us=int(md.get("FrameDuration", 0)) or 1,
                               develop_s=time.perf_counter() - t0, timings=timings, metadata=md)
        if self.sidecar:
            capture = {"stem": stem, "files": [p.name for p in files], "sequence": request.sequence,
                       "press_ns": press_ns, "wall_time_ns": wall_ns, "lag_ms": result.lag_ns / 1e6,
                       "lag_frames": result.lag_frames, "tuning": self.tuning.source,
                       "isp_stages": self.pipeline.names(), "timings_s": timings}
            files.append(atomic_write(self.directory / f"{stem}.json", encode_sidecar(md, capture)))
        log.info("captured %s (%s) lag %.1f ms", stem, ", ".join(p.suffix for p in files), result.lag_ns / 1e6)
        return result
