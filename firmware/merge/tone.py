"""Local tone mapping for a merged raw: HDR+'s exposure fusion of synthetic exposures, as an ISP stage.

A merged HDR frame holds more range than a picture can show: its reference was exposed for the highlights,
and the camera's AE would have exposed ``tone_gain`` times longer. Following Hasinoff et al. (2016, section
6), the stage makes two synthetic exposures of the frame's luma - a *long* one at ``tone_gain`` (the shadows
and midtones as a normal exposure renders them) and a *short* one that keeps the brightest part of the
picture below white - each gamma-encoded; fuses them with Mertens' well-exposedness weights across a Laplacian
pyramid (so the transition follows the picture's structure at every scale: no halos at the window frame); and
turns the fused luma back into a gain for each 2x2 quad. The gain multiplies all four Bayer sites alike, so
white balance, colour matrix and the look's tone curve downstream see a frame with the same colours and a
smaller range: the look keeps its character (Authentic's deep shadows and rolled-off highlights come from its
own curve). Skies stay bright - the short exposure puts them near 0.9, not at mid-grey - because fusion only
lowers what the long exposure clips.

The stage sits after lens shading (so vignetting does not read as a shadow to lift) and before white balance:

>>> pipe = with_local_tone(build_pipeline(tuning, denoiser=d))       # doctest: +SKIP
>>> rgb = pipe.run(merged.raw, merged.frame_info(frame, tone_gain=plan.tone_gain))   # doctest: +SKIP
"""

from __future__ import annotations

import cv2
import numpy as np

from ..isp.pipeline import Pipeline
from ..isp.stage import BAYER_LINEAR16, Stage
from ..tuning.curves import srgb_decode, srgb_encode

SIGMA = 0.2  # Mertens' well-exposedness spread
HIGHLIGHT = 0.995  # luma quantile the short exposure puts at ...
HIGHLIGHT_LEVEL = 0.9  # ... this linear level (encoded ~0.95): bright skies stay bright
MIN_SIZE = 8  # coarsest pyramid level's shorter side


def _laplacian(img: np.ndarray, levels: int) -> list[np.ndarray]:
    out, cur = [], img
    for _ in range(levels):
        down = cv2.pyrDown(cur)
        out.append(cur - cv2.pyrUp(down, dstsize=(cur.shape[1], cur.shape[0])))
        cur = down
    out.append(cur)
    return out


def _gaussian(img: np.ndarray, levels: int) -> list[np.ndarray]:
    out = [img]
    for _ in range(levels):
        out.append(cv2.pyrDown(out[-1]))
    return out


def fuse(luma: np.ndarray, gain: float) -> np.ndarray:
    """The fused luma (linear, 0..1) of a frame's luma (linear, 0..1) brought up by ``gain``."""
    bright = float(np.quantile(luma, HIGHLIGHT)) if luma.size else 1.0
    short_gain = min(gain, HIGHLIGHT_LEVEL / max(bright, 1e-6))
    exposures = [np.asarray(srgb_encode(np.clip(luma * g, 0.0, 1.0)), np.float32) for g in (gain, short_gain)]
    weights = [np.exp(-0.5 * ((e - 0.5) / SIGMA) ** 2).astype(np.float32) + 1e-6 for e in exposures]
    total = weights[0] + weights[1]
    levels = max(int(np.log2(max(min(luma.shape) / MIN_SIZE, 1.0))), 1)
    fused = None
    for e, w in zip(exposures, weights):
        pyr = [g * lap for g, lap in zip(_gaussian(w / total, levels), _laplacian(e, levels))]
        fused = pyr if fused is None else [a + b for a, b in zip(fused, pyr)]
    out = fused[-1]
    for lap in reversed(fused[:-1]):
        out = cv2.pyrUp(out, dstsize=(lap.shape[1], lap.shape[0])) + lap
    return np.asarray(srgb_decode(out), np.float32)


class LocalToneStage(Stage):
    """Exposure fusion on a merged Bayer frame; ``frame.extra["tone_gain"]`` is the synthetic long exposure."""

    name = "merge.tone"
    input = BAYER_LINEAR16
    output = BAYER_LINEAR16

    def __init__(self, strength: float = 1.0):
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"local tone strength must be within 0..1, got {strength!r}")
        self.strength = strength  # 1: full fusion; 0: a plain digital gain with the highlights clipped

    def process(self, image, frame):
        gain = float(frame.extra.get("tone_gain", 1.0)) if frame.extra else 1.0
        h, w = image.shape
        quads = image.reshape(h // 2, 2, w // 2, 2).astype(np.float32).mean(axis=(1, 3)) * np.float32(1 / 65535)
        fused = fuse(quads, gain)
        target = np.float32(1 - self.strength) * np.minimum(quads * np.float32(gain), 1) + \
            np.float32(self.strength) * fused
        # Regularised at black, where the ratio would be noise over noise: there it tends to the plain gain.
        eps = np.float32(1e-4)
        ratio = (target + eps * np.float32(gain)) / (np.maximum(quads, 0) + eps)
        ratio = cv2.resize(ratio, (w, h), interpolation=cv2.INTER_LINEAR)
        out = image.astype(np.float32) * ratio
        np.clip(out, 0, 65535, out=out)
        return out.astype(np.uint16)


def with_local_tone(pipeline: Pipeline, strength: float = 1.0) -> Pipeline:
    """``pipeline`` with ``LocalToneStage`` inserted after lens shading (else after black level / denoise)."""
    names = pipeline.names()
    after = max(i for i, n in enumerate(names) if n in ("rpi.black_level", "rpi.dpc", "denoise", "rpi.alsc"))
    stages = list(pipeline.stages)
    return Pipeline(stages[:after + 1] + [LocalToneStage(strength)] + stages[after + 1:])
