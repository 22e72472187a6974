"""An ordered chain of stages, checked when it is built, run on one frame at a time.

>>> pipe = build_pipeline(tuning)                                        # doctest: +SKIP
>>> rgb8 = pipe.run(raw, frame)                                          # doctest: +SKIP
>>> rgb8, steps = pipe.run(raw, frame, save_intermediates=True)          # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from typing import Sequence

import numpy as np

from ..tuning import TuningFile
from .frame import FrameInfo
from .stage import Stage

log = logging.getLogger(__name__)


class Pipeline:
    def __init__(self, stages: Sequence[Stage]):
        if not stages:
            raise ValueError("a pipeline needs at least one stage")
        for a, b in zip(stages, stages[1:]):
            if a.output != b.input:
                raise ValueError(f"stage {b.name} takes {b.input}, but {a.name} before it gives {a.output}")
        self.stages = list(stages)
        self.timings: dict[str, float] = {}

    @property
    def input(self):
        return self.stages[0].input

    @property
    def output(self):
        return self.stages[-1].output

    def run(self, image: np.ndarray, frame: FrameInfo, save_intermediates: bool = False):
        """Process one frame; with ``save_intermediates`` also return every stage's output by name."""
        self.input.check(image, self.stages[0].name, "input")
        steps: dict[str, np.ndarray] = {}
        for stage in self.stages:
            t = time.perf_counter()
            image = stage.process(image, frame)
            self.timings[stage.name] = time.perf_counter() - t
            stage.output.check(image, stage.name, "output")
            if save_intermediates:
                # Stages may work in place on their input for speed, so keep a copy of each step.
                steps[stage.name] = image.copy()
        log.debug("isp: %s", ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in self.timings.items()))
        return (image, steps) if save_intermediates else image

    def names(self) -> list[str]:
        return [s.name for s in self.stages]


def build_pipeline(tuning: TuningFile, *, demosaic: str = "hq", output_bits: int = 8,
                   denoiser=None) -> Pipeline:
    """The still pipeline for ``tuning``: every stage whose block the file enables, in libcamera's order.

    ``denoiser`` (a ``denoise.Denoiser``) fills the raw denoise hook; None leaves the stage out.
    """
    from .black_level import BlackLevelStage
    from .ccm import CcmStage
    from .contrast import ContrastStage
    from .demosaic import DemosaicStage
    from .denoise import DenoiseStage
    from .output import OutputStage
    from .white_balance import WhiteBalanceStage

    stages: list[Stage] = [BlackLevelStage(tuning)]
    if denoiser is not None:
        stages.append(DenoiseStage(denoiser))
    stages += [
        WhiteBalanceStage(tuning),
        DemosaicStage(demosaic),
        CcmStage(tuning),
        ContrastStage(tuning),
    ]
    if output_bits == 8:
        stages.append(OutputStage())
    return Pipeline(stages)
