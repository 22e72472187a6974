"""Local tone mapping for a merged raw: HDR+'s exposure fusion of synthetic exposures, as an ISP stage.

A merged HDR frame holds more range than a picture can show: its reference was exposed for the highlights,
and the camera's AE would have exposed ``tone_gain`` times longer. Following Hasinoff et al. (2016, section
6), the stage makes two synthetic exposures of the frame's luma - a *long* one at ``tone_gain`` (the shadows
and midtones as a normal exposure renders them) and a *short* one that keeps the brightest part of the
picture below white - each gamma-encoded; fuses them with Mertens' well-exposedness weights; and turns the fused
luma back into a gain for each 2x2 quad. The fusion is the two-scale one of Li, Kang and Hu ("Image fusion
with guided filtering", IEEE TIP 2013) rather than Mertens' Laplacian pyramid: the weights are refined by a
guided filter with each exposure as its own guide, so they change where the picture changes - a pyramid blurs
them across the window frame, and the wall beside a bright window comes out darker than the rest of it (a
halo). Base layers blend with wide, smooth weights, details with sharp ones. The gain multiplies all four Bayer sites alike, so
white balance, colour matrix and the look's tone curve downstream see a frame with the same colours and a
smaller range: the look keeps its character (Authentic's deep shadows and rolled-off highlights come from its
own curve). Skies stay bright - the short exposure puts them near 0.9, not at mid-grey - because fusion only
lowers what the long exposure clips.

The stage sits after lens shading (so vignetting does not read as a shadow to lift) and before white balance:

>>> pipe = with_local_tone(build_pipeline(tuning, denoiser=d))       # doctest: +SKIP
>>> info = merged.frame_info(replace(frame, extra={"tone_gain": plan.tone_gain}))   # doctest: +SKIP
>>> rgb = pipe.run(merged.raw, info)                                  # doctest: +SKIP
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
BASE_RADIUS = 1 / 16  # of the picture's shorter side: the scale of the base layers (where range is compressed)
DETAIL_RADIUS = 3  # quads: the detail weights' scale


def _box(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """He, Sun and Tang's guided filter (ECCV 2010): ``src`` smoothed over radius ``r`` where ``guide`` is
    flat, following ``guide``'s edges where it is not (``eps`` sets which variations count as edges)."""
    mean_i, mean_p = _box(guide, r), _box(src, r)
    a = (_box(guide * src, r) - mean_i * mean_p) / (_box(guide * guide, r) - mean_i * mean_i + eps)
    b = mean_p - a * mean_i
    return _box(a, r) * guide + _box(b, r)


def fuse(luma: np.ndarray, gain: float) -> np.ndarray:
    """The fused luma (linear, 0..1) of a frame's luma (linear, 0..1) brought up by ``gain``."""
    bright = float(np.quantile(luma, HIGHLIGHT)) if luma.size else 1.0
    short_gain = min(gain, HIGHLIGHT_LEVEL / max(bright, 1e-6))
    exposures = [np.asarray(srgb_encode(np.clip(luma * g, 0.0, 1.0)), np.float32) for g in (gain, short_gain)]
    weights = [np.exp(-0.5 * ((e - 0.5) / SIGMA) ** 2).astype(np.float32) + np.float32(1e-4) for e in exposures]
    size = min(luma.shape)
    wide, fine = max(int(size * BASE_RADIUS), 2), DETAIL_RADIUS
    base_w = [np.maximum(guided_filter(e, w, wide, 0.3), 0) for e, w in zip(exposures, weights)]
    detail_w = [np.maximum(guided_filter(e, w, fine, 1e-6), 0) for e, w in zip(exposures, weights)]
    fused = np.zeros_like(luma, dtype=np.float32)
    for group in (base_w, detail_w):
        total = group[0] + group[1] + np.float32(1e-6)
        group[0] /= total
        group[1] /= total
    for e, wb, wd in zip(exposures, base_w, detail_w):
        base = _box(e, wide)
        fused += wb * base + wd * (e - base)
    return np.asarray(srgb_decode(fused), np.float32)


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
        # Each quad's four sites take its own gain: interpolating across a hard edge would mix both sides' gains.
        ratio = np.repeat(np.repeat(ratio, 2, axis=0), 2, axis=1)
        out = image.astype(np.float32) * ratio
        np.clip(out, 0, 65535, out=out)
        return out.astype(np.uint16)


def with_local_tone(pipeline: Pipeline, strength: float = 1.0) -> Pipeline:
    """``pipeline`` with ``LocalToneStage`` inserted after lens shading (else after black level / denoise)."""
    names = pipeline.names()
    after = max(i for i, n in enumerate(names) if n in ("rpi.black_level", "rpi.dpc", "denoise", "rpi.alsc"))
    stages = list(pipeline.stages)
    return Pipeline(stages[:after + 1] + [LocalToneStage(strength)] + stages[after + 1:])
