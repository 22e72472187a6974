"""The develop recipe: which tuning, which look, which denoiser, which output - and the one ``develop``.

A recipe is a frozen value; the ISP pipeline it describes is built on first use and kept (with the looked
tuning and the denoiser's loaded model), so a writer or viewfinder made per capture or per frame costs
nothing to build again. The pipelines' own tables are cached by tuning content (``firmware.isp.cache``).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass

import numpy as np

from ..actions import DenoiseMode
from ..denoise import make_denoiser
from ..errors import DenoiserUnavailable
from ..frame import FrameInfo
from ..isp import Pipeline, build_pipeline, build_preview_pipeline
from ..isp.cache import Memo
from ..tuning import TuningFile
from ..tuning.looks import apply_look

_PIPELINES = 16  # recipes whose pipelines are kept (looks x denoise modes x preview sizes in use)


@dataclass(frozen=True)
class Recipe:
    """How to develop a frame. ``preview_size`` set: the preview pipeline (bilinear demosaic, no DPC, denoise or
    sharpening) scaled to that size; otherwise the still pipeline with ``demosaic`` and ``output_bits``."""

    tuning: TuningFile  # the sensor's calibrated base tuning
    look: str | None = None  # composed onto the tuning (``tuning/looks/``); None: the base as it is
    denoise: DenoiseMode = DenoiseMode.OFF
    demosaic: str = "hq"
    output_bits: int = 8
    preview_size: tuple[int, int] | None = None
    threads: int = 2  # the denoiser's
    local_tone: float = 0.0  # a merged frame's local tone mapping (``merge.tone``), 0 .. 1; 0: none

    def replace(self, **changes) -> "Recipe":
        return dataclasses.replace(self, **changes)

    @property
    def key(self) -> tuple:
        """What identifies the pipeline this recipe builds (the tuning by identity: it is held while cached)."""
        return (id(self.tuning), self.look, self.denoise, self.demosaic, self.output_bits, self.preview_size,
                self.threads, self.local_tone)


class _Pipelines:
    """The pipelines of the recipes in use (least recently used dropped beyond ``size``) and their denoisers."""

    def __init__(self, size: int):
        self._pipelines = Memo(size)
        self._lock = threading.Lock()
        self._denoisers: dict[tuple[DenoiseMode, int], object] = {}

    def get(self, recipe: Recipe) -> Pipeline:
        # The base tuning is kept with its pipeline, so its id() cannot be reused by another file meanwhile.
        return self._pipelines.get(recipe.key, lambda: (recipe.tuning, self._build(recipe)))[1]

    def clear(self) -> None:
        self._pipelines.clear()
        with self._lock:
            self._denoisers.clear()

    def denoiser(self, mode: DenoiseMode, threads: int):
        if mode is DenoiseMode.OFF:
            return None
        key = (DenoiseMode(mode), threads)
        with self._lock:
            if key in self._denoisers:
                return self._denoisers[key]
        try:
            den = make_denoiser(mode, threads)
        except (NotImplementedError, ImportError, OSError, ValueError, RuntimeError) as exc:
            raise DenoiserUnavailable(f"denoise {mode}: the denoiser cannot run here: {exc}") from exc
        with self._lock:
            return self._denoisers.setdefault(key, den)

    def _build(self, recipe: Recipe) -> Pipeline:
        tuning = apply_look(recipe.tuning, recipe.look) if recipe.look else recipe.tuning
        if recipe.preview_size is not None:
            return build_preview_pipeline(tuning, size=recipe.preview_size)
        pipe = build_pipeline(tuning, demosaic=recipe.demosaic, output_bits=recipe.output_bits,
                              denoiser=self.denoiser(recipe.denoise, recipe.threads))
        if recipe.local_tone:
            from ..merge.tone import with_local_tone

            pipe = with_local_tone(pipe, recipe.local_tone)
        return pipe


_cache = _Pipelines(_PIPELINES)


def pipeline_for(recipe: Recipe) -> Pipeline:
    """The ISP pipeline ``recipe`` develops with (built on first use). Raises ``DenoiserUnavailable`` when its
    denoiser cannot run here, and the tuning's or look's error when either cannot be built into an ISP."""
    return _cache.get(recipe)


def denoiser(mode: DenoiseMode, threads: int = 2):
    """The raw denoiser for ``mode`` (None for ``off``), its model loaded once per process."""
    return _cache.denoiser(mode, threads)


def release() -> None:
    """Let go of every pipeline and denoiser built so far: a camera that stops frees its models (the next
    recipe loads them afresh). Pipelines already handed out keep working."""
    _cache.clear()


def develop(raw: np.ndarray, frame: FrameInfo, recipe: Recipe) -> np.ndarray:
    """``raw`` (a Bayer frame described by ``frame``) developed as ``recipe`` says: 8- or 16-bit sRGB."""
    return pipeline_for(recipe).run(raw, frame)
