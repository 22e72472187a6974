"""An ordered chain of stages, checked when it is built, run on one frame at a time.

``run`` takes consecutive band stages through the frame together, band by band on a few threads
(``bands.py``), stopping only where a stage needs a statistic of the whole frame first (AWB's search, the
adaptive contrast stretch) or works on whole frames (denoise, preview scaling).

>>> pipe = build_pipeline(tuning)                                        # doctest: +SKIP
>>> rgb8 = pipe.run(raw, frame)                                          # doctest: +SKIP
>>> rgb8, steps = pipe.run(raw, frame, save_intermediates=True)          # doctest: +SKIP
>>> preview = build_preview_pipeline(tuning, size=(1014, 760))           # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from typing import Sequence

import numpy as np

from ..frame import FrameInfo
from ..tuning import TuningFile
from ..tuning.blocks import Alsc, Awb, BlackLevel, Ccm, Contrast, Dpc, Sharpen
from ..tuning.hardware import platform_for
from .alsc import AlscStage
from .bands import run_bands
from .black_level import BlackLevelStage
from .ccm import CcmStage
from .contrast import ContrastStage
from .stage import Stage
from .white_balance import WhiteBalanceStage

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
        self.frame: FrameInfo | None = None  # the last frame as the stages saw it (after AWB's estimate)

    @property
    def input(self):
        return self.stages[0].input

    @property
    def output(self):
        return self.stages[-1].output

    def run(self, image: np.ndarray, frame: FrameInfo, save_intermediates: bool = False):
        """Process one frame; with ``save_intermediates`` also return every stage's output by name.

        Stages that work on bands run band by band on several threads (``bands.py``); intermediates are then
        never whole frames. ``save_intermediates`` runs each stage on the whole frame instead, which gives the
        same result (the tests compare them bit for bit).
        """
        self.input.check(image, self.stages[0].name, "input")
        self.timings = {}
        if save_intermediates:
            image, steps, frame = self._run_whole(image, frame)
        else:
            image, frame = self._run_banded(image, frame)
        self.frame = frame
        log.debug("isp: %s", ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in self.timings.items()))
        return (image, steps) if save_intermediates else image

    def _run_whole(self, image, frame):
        steps: dict[str, np.ndarray] = {}
        given = image
        for stage in self.stages:
            image, frame = self._whole_frame_stage(stage, image, frame, given)
            # Stages may work in place on their input for speed, so keep a copy of each step.
            steps[stage.name] = image.copy()
        return image, steps, frame

    def _run_banded(self, image, frame):
        stages, i, given = self.stages, 0, image
        while i < len(stages):
            if stages[i].halo is None:
                image, frame = self._whole_frame_stage(stages[i], image, frame, given)
                i += 1
                continue
            # The longest run of band stages from here in which only the first needs to see the whole frame.
            kernels = []
            for stage in stages[i:]:
                whole = stage.needs_frame(frame)
                if stage.halo is None or (whole and kernels):
                    break
                t = time.perf_counter()
                seen = image if whole else None
                frame = stage.refine(seen, frame)
                kernels.append(stage.prepare(frame, image.shape, seen))
                self.timings[stage.name] = time.perf_counter() - t
            image = run_bands(stages[i:i + len(kernels)], kernels, image, self.timings)
            i += len(kernels)
        return image, frame

    def _whole_frame_stage(self, stage, image, frame, given):
        t = time.perf_counter()
        if stage.in_place and image is given:
            image = image.copy()  # never write the caller's frame
        frame = stage.refine(image, frame)
        image = stage.process(image, frame)
        self.timings[stage.name] = time.perf_counter() - t
        stage.output.check(image, stage.name, "output")
        return image, frame

    def names(self) -> list[str]:
        return [s.name for s in self.stages]


def build_pipeline(tuning: TuningFile, *, demosaic: str = "hq", output_bits: int = 8, denoiser=None,
                   sharpen: bool = True, saturation: float = 1.0) -> Pipeline:
    """The still pipeline for ``tuning``: every stage whose block the file enables, in libcamera's order.

    black level, DPC, [denoise], lens shading, highlights, white balance, demosaic, CCM, tone, sharpening.
    ``denoiser`` (a ``denoise.Denoiser``) fills the raw denoise hook; None leaves the stage out. ``output_bits`` 8 gives
    sRGB for JPEG, 16 keeps 16-bit sRGB (TIFF). Stages whose block is absent or disabled are left out, as
    libcamera leaves their algorithms out. Each block is read once, by its module in ``tuning.blocks``; a
    block that cannot be read raises ``TuningError`` naming the file, block and key.
    """
    from .demosaic import DemosaicStage
    from .denoise import DenoiseStage
    from .dpc import DpcStage
    from .sharpen import SharpenStage

    if output_bits not in (8, 16):
        raise ValueError(f"output_bits must be 8 or 16, got {output_bits}")
    b = _Blocks(tuning)
    stages: list[Stage] = [b.black_level()]
    dpc = Dpc.read(tuning)
    if dpc is not None and dpc.strength:
        stages.append(DpcStage(tuning, strength=dpc.strength))  # the tuning's rpi.noise for frames without one
    if denoiser is not None:
        stages.append(DenoiseStage(denoiser))
    ccm = b.ccm(saturation)
    stages += b.shading_and_balance(ccm) + [DemosaicStage(demosaic), ccm,
                                            ContrastStage(Contrast.read(tuning), bits=output_bits)]
    sharp = Sharpen.read(tuning) if sharpen else None
    if sharp is not None:
        stages.append(SharpenStage(sharp, bits=output_bits))
    return Pipeline(stages)


def build_preview_pipeline(tuning: TuningFile, *, size: tuple[int, int] | None = None,
                           saturation: float = 1.0) -> Pipeline:
    """The preview pipeline: bilinear demosaic, optional downscale in linear light, 8-bit sRGB.

    It keeps every colour stage of the still pipeline (black level, lens shading, white balance, CCM, tone)
    and leaves out what a preview does not need: defective-pixel correction, denoising and sharpening.
    """
    from .demosaic import DemosaicStage
    from .scale import ScaleStage

    b = _Blocks(tuning)
    ccm = b.ccm(saturation)
    stages: list[Stage] = [b.black_level()] + b.shading_and_balance(ccm) + [DemosaicStage("fast")]
    if size is not None:
        stages.append(ScaleStage(size))
    stages += [ccm, ContrastStage(Contrast.read(tuning), bits=8)]
    return Pipeline(stages)


class _Blocks:
    """The typed blocks both pipelines share, read once per build."""

    def __init__(self, tuning: TuningFile):
        self.tuning = tuning
        self.awb = Awb.read(tuning)

    def black_level(self) -> Stage:
        return BlackLevelStage(BlackLevel.read(self.tuning))

    def shading_and_balance(self, ccm: Stage) -> list[Stage]:
        """Lens shading, highlights (before white balance and ``ccm`` saturate), white balance."""
        from .highlights import HighlightStage

        alsc = Alsc.read(self.tuning)
        grid = platform_for(self.tuning.target).alsc_grid if self.tuning.target in ("bcm2835", "pisp") else (16, 12)
        wb = WhiteBalanceStage(self.awb, grid)
        return ([AlscStage(alsc, self.awb.curve)] if alsc is not None else []) + [HighlightStage(wb, ccm), wb]

    def ccm(self, saturation: float) -> Stage:
        return CcmStage(Ccm.read(self.tuning), self.awb.curve, saturation)
