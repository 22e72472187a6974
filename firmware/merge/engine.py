"""``merge_burst``: align every frame of a burst onto a reference and merge them into one raw frame.

>>> merged = merge_burst(frames, reference=0)                  # doctest: +SKIP
>>> merged.raw.dtype, merged.noise, merged.frames_merged       # doctest: +SKIP
(dtype('uint16'), NoiseProfile(shot=2.1e-05, read=3.0e-07), 7.4)
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import cv2
import numpy as np

from ..frame import NoiseProfile
from .align import Reference, TileGrid, align
from .burst import MERGED_BLACK, MERGED_WHITE, BurstFrame, FrameReport, MergedRaw, check_burst
from .merge import CLIP, WIENER_K, merge_planes

log = logging.getLogger(__name__)


def choose_reference(frames: Sequence[BurstFrame], candidates: int = 3) -> int:
    """The reference a merge should keep: among the shortest exposures (their highlights survive), the
    sharpest of the first ``candidates`` (HDR+ picks the sharpest of the first three: least hand blur)."""
    shortest = min(f.exposure for f in frames)
    pool = [i for i, f in enumerate(frames) if f.exposure <= shortest * 1.01][:candidates]
    if len(pool) == 1:
        return pool[0]

    def sharpness(i: int) -> float:
        y = frames[i].luma()
        y = cv2.resize(y, (y.shape[1] // 2, y.shape[0] // 2), interpolation=cv2.INTER_AREA)
        return float(cv2.Laplacian(y, cv2.CV_32F).var() / max(float(y.mean()), 1e-6) ** 2)

    return max(pool, key=sharpness)


def _merged_profile(ref: NoiseProfile, level: np.ndarray, var: np.ndarray) -> NoiseProfile:
    """The merged frame's profile: the reference's, each term scaled by how much the merge reduced the noise
    where that term dominates (median over tiles) - the shot term by the bright tiles, the read term by the
    dark ones, which a bracket's long frames clean more. Tiles where motion kept the reference count too, so the
    profile describes the frame as it is, not the best of it."""
    x = np.maximum(level.ravel(), 0.0)
    single = ref.shot * x + ref.read
    ratio = var.ravel() / np.maximum(single, 1e-20)
    ok = np.isfinite(ratio) & (x < 0.95)
    shot_led = ok & (ref.shot * x > ref.read)
    read_led = ok & ~shot_led
    overall = float(np.median(ratio[ok])) if ok.any() else 1.0

    def scale(sel):
        return float(np.median(ratio[sel])) if sel.sum() >= 16 else overall

    return NoiseProfile(ref.shot * scale(shot_led), ref.read * scale(read_led))


def _to_mosaic(planes: np.ndarray) -> np.ndarray:
    """Merged planes (4, h/2, w/2) on the 0..1 scale -> the uint16 Bayer frame on the 16-bit scale."""
    _, h, w = planes.shape
    out = np.empty((2 * h, 2 * w), np.uint16)
    span = np.float32(MERGED_WHITE - MERGED_BLACK)
    for i in range(4):
        sy, sx = divmod(i, 2)
        p = planes[i] * span
        p += np.float32(MERGED_BLACK + 0.5)
        np.clip(p, 0, MERGED_WHITE, out=p)
        out[sy::2, sx::2] = p.astype(np.uint16)
    return out


def merge_burst(frames: Sequence[BurstFrame], reference: int | None = None, *, threads: int = 2,
                k: float = WIENER_K) -> MergedRaw:
    """Align and merge ``frames`` onto ``reference`` (default: ``choose_reference``) into a ``MergedRaw``.

    Frames may differ in exposure (the merge weighs each by its noise and ignores what a longer frame clipped),
    black level and noise profile; they must share size and CFA. ``threads`` work on bands of tiles.
    """
    check_burst(frames)
    if reference is None:
        reference = choose_reference(frames)
    if not 0 <= reference < len(frames):
        raise ValueError(f"reference {reference} is not a frame of this {len(frames)}-frame burst")
    times: dict[str, float] = {}
    t = time.perf_counter()
    ref = frames[reference]
    ratios = [f.exposure / ref.exposure for f in frames]
    grid = TileGrid.for_plane((ref.raw.shape[0] // 2, ref.raw.shape[1] // 2))
    ref_luma = ref.luma()
    views: dict[float, Reference] = {1.0: Reference(ref_luma, grid)}

    def view_for(ratio: float) -> Reference:
        # A longer frame clips first: compare both where neither is clipped, or clipping looks like motion.
        key = 1.0 if ratio <= 1.01 else ratio
        if key not in views:
            views[key] = Reference(np.minimum(ref_luma, np.float32(CLIP / ratio)), grid)
        return views[key]

    def align_one(i: int):
        f, r = frames[i], ratios[i]

        def noise_var(y):  # each luma pixel averages 4 sites: a quarter of their variance, in each frame
            y = np.maximum(y, 0.0)
            return 0.25 * (ref.noise.shot * y + ref.noise.read), 0.25 * (f.noise.shot * r * y + f.noise.read) / (r * r)

        luma = f.luma(r)
        return align(view_for(r), np.minimum(luma, np.float32(CLIP / r)) if r > 1.01 else luma, noise_var)

    for r in sorted(set(ratios)):
        view_for(r)  # built here, once each, before the threads share them
    others = [i for i in range(len(frames)) if i != reference]
    alignments: list = [None] * len(frames)
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for i, a in zip(others, pool.map(align_one, others)):
            alignments[i] = a
    reports = []
    times["align"] = time.perf_counter() - t
    t = time.perf_counter()
    planes, level, var, merged = merge_planes(frames, reference, ratios, alignments, grid, threads, k)
    times["merge"] = time.perf_counter() - t
    for i, f in enumerate(frames):
        a = alignments[i]
        reports.append(FrameReport(i, f.exposure, 0.0 if a is None else a.motion,
                                   1.0 if a is None else float(np.median(a.residual)), float(merged[i])))
    raw = _to_mosaic(planes)
    noise = _merged_profile(ref.noise, level, var)
    log.debug("merged %d frames onto %d in %.2f s (align %.2f s): %.1f frames' worth", len(frames), reference,
              sum(times.values()), times["align"], sum(r.merged for r in reports))
    return MergedRaw(raw=raw, noise=noise, reference=reference, exposure=ref.exposure, frames=tuple(reports),
                     timings=times)
