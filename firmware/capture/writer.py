"""Develop a taken frame and put it on disk: DNG, JPEG and JSON sidecar, written all or nothing.

The three files of a capture are staged under temporary names, fsynced, then renamed together and the
directory fsynced (``storage.atomic.write_group``): a crash or a full disk never leaves part of a capture
under a final name, and the leftovers of a crash are removed when the next writer starts. The frame's facts
are derived once (``firmware.develop.frame_facts``) and shared by the DNG and the JPEG's ``develop`` run.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..develop import Recipe, develop, frame_facts, pipeline_for
from ..formats.dng import encode_dng
from ..formats.dng_recipe import capture_recipe, xmp_packet
from ..formats.identity import CameraIdentity
from ..formats.jpeg import encode_jpeg, exif_bytes
from ..formats.previews import thumbnail_jpeg
from ..formats.sidecar import encode_sidecar
from ..storage.atomic import clean_leftovers, write_group
from ..storage.naming import unique_stem

log = logging.getLogger(__name__)


@dataclass
class RawFrame:
    """A taken frame copied out of its sensor buffer: what the developer needs, nothing the sensor owns."""

    raw: Any  # numpy (h, w) uint16, right-aligned at the mode's bit depth
    metadata: dict[str, Any]
    sequence: int
    timestamp_ns: int
    exposure_start_ns: int


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
    info: dict[str, Any] = field(default_factory=dict)

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
    """Develops and writes captures into ``directory`` by one ``Recipe`` and one set of options.

    A writer is immutable once made: a reload or a new look makes a new writer, and captures already
    queued finish with the writer they were taken with. The DNG's colour tags come from the recipe's base
    tuning; the JPEG is developed with the look composed onto it.
    """

    def __init__(self, directory: str | Path, recipe: Recipe, *, cfa: str, bit_depth: int,
                 identity: CameraIdentity, binning: int = 1, raw: bool = True, jpeg_quality: int = 93,
                 sidecar: bool = True, clean: bool = True, crop: tuple[float, float, float, float] | None = None,
                 dng_compression: str = "none"):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        if clean:
            for p in clean_leftovers(self.directory):
                log.warning("removed %s, left half-written by an earlier crash", p)
        self.recipe = recipe
        self.cfa = cfa
        self.bit_depth = bit_depth
        self.binning = binning
        # The mode's field of view as fractions of the pixel array: lens shading uses that part of its grid.
        self.crop = crop
        self.identity = identity
        self.raw = raw
        self.jpeg_quality = jpeg_quality
        self.sidecar = sidecar
        self.dng_compression = dng_compression  # "none" or "ljpeg" (formats.dng_data)
        self._taken: set[str] = set()

    def replace(self, **changes) -> "CaptureWriter":
        """A writer like this one with some options changed (no leftover cleaning: it is the same directory)."""
        opts = dict(directory=self.directory, recipe=self.recipe, cfa=self.cfa, bit_depth=self.bit_depth,
                    identity=self.identity, binning=self.binning, raw=self.raw, jpeg_quality=self.jpeg_quality,
                    sidecar=self.sidecar, clean=False, crop=self.crop, dng_compression=self.dng_compression)
        opts.update(changes)
        return CaptureWriter(**opts)

    def estimate_bytes(self, width: int, height: int) -> int:
        """Disk space one capture will take at most: uncompressed DNG, a generous JPEG, the sidecar."""
        dng = width * height * 2 + 256 * 1024 if self.raw else 0
        return dng + width * height + 64 * 1024

    def write(self, frame: RawFrame, press_ns: int, wall_ns: int, info: dict[str, Any] | None = None
              ) -> CaptureResult:
        t0 = time.perf_counter()
        md = frame.metadata
        raw = frame.raw
        stem = unique_stem(self.directory, wall_ns, self._taken)
        files: list[tuple[str, Any]] = []
        timings: dict[str, float] = {}
        tuning, look = self.recipe.tuning, self.recipe.look
        frame_info = frame_facts(md, cfa=self.cfa, bit_depth=self.bit_depth, tuning=tuning,
                                 mode_factor=self.binning, crop=self.crop)
        pipeline = pipeline_for(self.recipe)
        recipe = capture_recipe(tuning, look=look, pipeline=pipeline, metadata=md, crop=self.crop)
        t = time.perf_counter()
        rgb = develop(raw, frame_info, self.recipe)
        timings["isp"] = time.perf_counter() - t
        if self.raw:  # after the ISP: the DNG carries the developed picture as its preview
            t = time.perf_counter()
            dng = encode_dng(raw, md, frame_info, tuning=tuning, identity=self.identity, wall_ns=wall_ns, look=look,
                             preview=rgb, recipe=recipe, compression=self.dng_compression)
            files.append((f"{stem}.dng", dng))
            timings["dng"] = time.perf_counter() - t
        t = time.perf_counter()
        exif = exif_bytes(md, self.identity, wall_ns, size=(rgb.shape[1], rgb.shape[0]), thumbnail=thumbnail_jpeg(rgb))
        jpeg = encode_jpeg(rgb, exif, self.jpeg_quality, xmp=xmp_packet(recipe, self.identity.software))
        files.append((f"{stem}.jpg", jpeg))
        timings["jpeg"] = time.perf_counter() - t
        result = CaptureResult(stem=stem, files=[], sequence=frame.sequence, press_ns=press_ns,
                               timestamp_ns=frame.timestamp_ns, exposure_start_ns=frame.exposure_start_ns,
                               frame_duration_us=int(md.get("FrameDuration", 0)) or 1,
                               develop_s=0.0, timings=timings, metadata=md, info=dict(info or {}))
        if self.sidecar:
            capture = {"stem": stem, "files": [name for name, _ in files] + [f"{stem}.json"],
                       "sequence": frame.sequence, "press_ns": press_ns, "wall_time_ns": wall_ns,
                       "lag_ms": result.lag_ns / 1e6, "lag_frames": result.lag_frames, "tuning": tuning.source,
                       "look": look, "isp_stages": pipeline.names(), "timings_s": timings, "recipe": recipe.to_dict(),
                       "denoise": {"mode": recipe.denoise, "runtime": recipe.denoise_runtime},
                       **result.info}
            files.append((f"{stem}.json", encode_sidecar(md, capture)))
        self._taken.add(stem)
        try:
            t = time.perf_counter()
            result.files = write_group(self.directory, files)
            timings["write"] = time.perf_counter() - t
        finally:
            self._taken.discard(stem)
        result.develop_s = time.perf_counter() - t0
        log.info("captured %s (%s) lag %.1f ms", stem, ", ".join(p.suffix for p in result.files), result.lag_ns / 1e6)
        return result
