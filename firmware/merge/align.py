"""Tile alignment of one burst frame onto the reference, coarse to fine, on the 2x2-binned luma.

After Hasinoff et al., "Burst photography for high dynamic range and low-light imaging on mobile cameras"
(SIGGRAPH Asia 2016), section 4: a four-level pyramid of the Bayer frame's 2x2-binned luma (one luma pixel
per Bayer quad, so a displacement in luma pixels is the same displacement in every Bayer plane), downsampled
by 2, 4 and 4. At the three coarse levels each tile searches a window (L2 distance) around the displacement
its level above found; at each level a tile also tries the displacements of the two nearest coarse tiles
besides its own and keeps the best, so tiles at a moving object's edge follow the right side. At the finest
level the tiles are the merge's tiles (16 px, every 8 px) and two Lucas-Kanade steps on a lightly smoothed
luma give sub-pixel displacements (Wronski et al. 2019 refine the same way).

Local motion is not an error here: a tile on a moving object follows the object where it can, and where
nothing matches the merge (``merge.py``) falls back to the reference tile. The residual per tile - mean squared
difference after alignment over the noise variance expected for it - is ~1 where the frames agree and grows with
motion; ``Alignment.motion`` summarises a frame for motion metering and the sidecar.

>>> grid = TileGrid.for_plane((760, 1014))                       # doctest: +SKIP
>>> a = align(ref_luma, alt_luma, grid, noise_var=lambda y: 1e-4 + 1e-3 * y)   # doctest: +SKIP
>>> a.shift.shape, a.motion                                      # doctest: +SKIP
((97, 129, 2), 3.1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import field

TILE = 16  # merge tile side in Bayer-plane (= binned luma) pixels
STEP = TILE // 2
# (downsampling from the level below, tile side, search radius) for levels 1..3; level 0 is the tile grid.
LEVELS = ((2, 16, 2), (4, 8, 4), (4, 8, 4))
SCALES = (1, 2, 8, 32)  # each level's pixel in luma pixels
LK_STEPS = 3
PENALTY = 2.0  # see _penalty
LK_PRIOR_PX = 2.0  # prior spread of a Lucas-Kanade step
LOCAL_PX = 0.5  # how far a tile may stray from the camera's motion on no evidence
# Variance of the sigma-1 Gaussian-smoothed luma, and of its central-difference gradient, per unit variance of
# the luma's white noise (measured on a large noise image; 1 / (4 pi) for the first, as theory has it).
SMOOTHED_VAR = 0.0796
GRADIENT_VAR = 0.0251


@dataclass(frozen=True)
class TileGrid:
    """The merge's tiles on a plane of ``shape``: side 16, every 8, covering every pixel twice per axis.

    Tile (i, j) starts at plane pixel (8 i - 8, 8 j - 8); the plane is padded by 8 on the top and left.
    """

    shape: tuple[int, int]  # the Bayer plane's (rows, cols)
    rows: int
    cols: int

    @classmethod
    def for_plane(cls, shape: tuple[int, int]) -> "TileGrid":
        h, w = shape
        return cls((h, w), -(-h // STEP) + 1, -(-w // STEP) + 1)

    @property
    def padded(self) -> tuple[int, int]:
        """Rows and columns of the padded plane the tiles cover."""
        return STEP * (self.rows + 1), STEP * (self.cols + 1)

    def origins(self) -> tuple[np.ndarray, np.ndarray]:
        """Tile origins in padded-plane pixels, (rows*cols,) each, row-major."""
        oy, ox = np.meshgrid(np.arange(self.rows) * STEP, np.arange(self.cols) * STEP, indexing="ij")
        return oy.ravel(), ox.ravel()


@dataclass(frozen=True)
class Alignment:
    shift: np.ndarray  # (rows, cols, 2) float32: (dy, dx) in plane pixels; alt(x + shift) matches ref(x)
    residual: np.ndarray  # (rows, cols) float32: mean squared difference / expected noise variance

    @property
    def motion(self) -> float:
        """The frame's global displacement from the reference in plane pixels (median over tiles)."""
        return float(np.hypot(*np.median(self.shift.reshape(-1, 2), axis=0)))


def pad_plane(img: np.ndarray, grid: TileGrid) -> np.ndarray:
    """``img`` (a plane-sized array) padded by reflection to ``grid.padded``, 8 pixels on the top and left."""
    ph, pw = grid.padded
    h, w = img.shape
    return cv2.copyMakeBorder(img, STEP, ph - h - STEP, STEP, pw - w - STEP, cv2.BORDER_REFLECT_101)


def _gather(img: np.ndarray, oy: np.ndarray, ox: np.ndarray, size: int, margin: int) -> np.ndarray:
    """Patches (n, size, size) of ``img`` at origins (oy, ox); origins off the image are clamped to it."""
    padded = cv2.copyMakeBorder(img, margin, margin, margin, margin, cv2.BORDER_REPLICATE)
    win = sliding_window_view(padded, (size, size))
    y = np.clip(oy + margin, 0, win.shape[0] - 1)
    x = np.clip(ox + margin, 0, win.shape[1] - 1)
    return win[y, x]


def _ssd(ref_tiles: np.ndarray, patches: np.ndarray, t: int, r: int) -> np.ndarray:
    """SSD (n, 2r+1, 2r+1) of each tile against every offset of its patch (n, t+2r, t+2r)."""
    cost = np.empty((len(ref_tiles), 2 * r + 1, 2 * r + 1), np.float32)
    for a in range(2 * r + 1):
        for b in range(2 * r + 1):
            d = patches[:, a:a + t, b:b + t] - ref_tiles
            cost[:, a, b] = np.einsum("nij,nij->n", d, d)
    return cost


def _candidates(coarse: np.ndarray, factor: float, oy, ox, t: int, coarse_step: int) -> list[np.ndarray]:
    """Initial displacements (n, 2) for tiles at (oy, ox), scaled to this level: the coarse field's median
    over the 3x3 coarse tiles around the tile's centre (the smooth motion of the camera), its value at the
    tile's own coarse tile, and at the two neighbours on the centre's side (a moving object's edge)."""
    rows, cols = coarse.shape[:2]
    cy = (oy + t / 2) / factor / coarse_step - 0.5
    cx = (ox + t / 2) / factor / coarse_step - 0.5
    iy, ix = np.clip(np.rint(cy).astype(int), 0, rows - 1), np.clip(np.rint(cx).astype(int), 0, cols - 1)
    ny = np.clip(iy + np.where(cy > iy, 1, -1), 0, rows - 1)
    nx = np.clip(ix + np.where(cx > ix, 1, -1), 0, cols - 1)
    padded = np.pad(coarse, ((1, 1), (1, 1), (0, 0)), mode="edge")
    med = np.median(sliding_window_view(padded, (3, 3), axis=(0, 1)).reshape(rows, cols, 2, 9), axis=3)
    out = [np.rint(med[iy, ix] * factor)]
    out += [np.rint(coarse[a, b] * factor) for a, b in ((iy, ix), (ny, ix), (iy, nx))]
    return [c.astype(np.int64) for c in out]


def _penalty(var: np.ndarray, n: int) -> np.ndarray:
    """SSD cost of one pixel of displacement away from the smooth field: a couple of standard deviations of an
    SSD of pure noise (variance ``var`` per pixel of the difference, ``n`` pixels). In noise, the field stays
    smooth; a moving object whose match is clearly better still gets its own displacement."""
    return PENALTY * var * math.sqrt(2 * n)


def _best_candidate(ref_tiles, alt, oy, ox, t, cands, margin, var):
    """Of the candidate displacements, the one with the lowest SSD plus the penalty for leaving the first."""
    best, best_cost = cands[0], None
    pen = _penalty(var, t * t)
    for c in cands:
        d = _gather(alt, oy + c[:, 0], ox + c[:, 1], t, margin) - ref_tiles
        cost = np.einsum("nij,nij->n", d, d) + pen * np.abs(c - cands[0]).sum(axis=1)
        if best_cost is None:
            best_cost = cost
        else:
            better = cost < best_cost
            best = np.where(better[:, None], c, best)
            best_cost = np.where(better, cost, best_cost)
    return best


def _search_level(ref, alt, coarse, factor, t, r, coarse_step, noise_var, scale):
    """One coarse level: displacement (rows, cols, 2) of non-overlapping t-tiles, integer pixels.

    ``scale``: this level's pixels per luma pixel along an axis; a level pixel averages scale^2 luma pixels.
    """
    rows, cols = ref.shape[0] // t, ref.shape[1] // t
    oy, ox = np.meshgrid(np.arange(rows) * t, np.arange(cols) * t, indexing="ij")
    oy, ox = oy.ravel(), ox.ravel()
    ref_tiles = sliding_window_view(ref, (t, t))[oy, ox]
    var = sum(noise_var(ref_tiles.mean(axis=(1, 2)))) / (scale * scale)
    if coarse is None:
        init = np.zeros((len(oy), 2), np.int64)
    else:
        init = _best_candidate(ref_tiles, alt, oy, ox, t, _candidates(coarse, factor, oy, ox, t, coarse_step),
                               _margin(coarse, factor, t, r), var)
    margin = int(np.abs(init).max(initial=0)) + r + t
    patches = _gather(alt, oy + init[:, 0] - r, ox + init[:, 1] - r, t + 2 * r, margin)
    offsets = np.abs(np.arange(-r, r + 1))
    cost = _ssd(ref_tiles, patches, t, r)
    cost += _penalty(var, t * t)[:, None, None] * (offsets[:, None] + offsets[None, :])
    k = np.argmin(cost.reshape(len(oy), -1), axis=1)
    ky, kx = k // (2 * r + 1), k % (2 * r + 1)
    best = init + np.stack([ky - r, kx - r], axis=1)
    return (best + _subpixel(cost, ky, kx)).reshape(rows, cols, 2).astype(np.float32)


def _subpixel(cost: np.ndarray, ky: np.ndarray, kx: np.ndarray) -> np.ndarray:
    """Where a parabola through the minimum and its two neighbours bottoms out, per axis (n, 2), +-0.5."""
    n, size, _ = cost.shape
    i = np.arange(n)
    out = np.zeros((n, 2), np.float32)
    for axis, (k, other) in enumerate(((ky, kx), (kx, ky))):
        lo, hi = np.clip(k - 1, 0, size - 1), np.clip(k + 1, 0, size - 1)
        at = (lambda j: cost[i, j, other]) if axis == 0 else (lambda j: cost[i, other, j])
        c0, cm, cp = at(k), at(lo), at(hi)
        curv = cm - 2 * c0 + cp
        ok = (k > 0) & (k < size - 1) & (curv > 0)
        out[:, axis] = np.where(ok, np.clip(0.5 * (cm - cp) / np.where(ok, curv, 1), -0.5, 0.5), 0.0)
    return out


def _margin(coarse, factor, t, r) -> int:
    return int(math.ceil(np.abs(coarse).max(initial=0) * factor)) + r + t


def pyramid(luma: np.ndarray) -> list[np.ndarray]:
    """The binned luma and its three downsampled levels (box filter: each pixel the mean of its block)."""
    levels = [luma]
    for f, _, _ in LEVELS:
        prev = levels[-1]
        levels.append(cv2.resize(prev, (max(prev.shape[1] // f, 1), max(prev.shape[0] // f, 1)),
                                 interpolation=cv2.INTER_AREA))
    return levels


class Reference:
    """What aligning onto one reference needs, computed once per burst: its pyramid, and at the finest level
    its tiles, smoothed tiles and gradients. The finest level aligns every other merge tile (16 px every 16);
    the merge's tiles in between take the mean of their neighbours' displacements."""

    def __init__(self, luma: np.ndarray, grid: TileGrid):
        self.grid = grid
        self.levels = pyramid(luma)
        self.padded = pad_plane(luma, grid)
        self.smooth = cv2.GaussianBlur(self.padded, (0, 0), 1.0)
        self.rows, self.cols = (grid.rows + 1) // 2, (grid.cols + 1) // 2
        oy, ox = np.meshgrid(np.arange(self.rows) * TILE, np.arange(self.cols) * TILE, indexing="ij")
        self.oy, self.ox = oy.ravel(), ox.ravel()
        self.tiles = sliding_window_view(self.padded, (TILE, TILE))[self.oy, self.ox]
        self.smooth_tiles = sliding_window_view(self.smooth, (TILE, TILE))[self.oy, self.ox]
        gy, gx = np.gradient(self.smooth)
        self.gy = sliding_window_view(gy.astype(np.float32), (TILE, TILE))[self.oy, self.ox]
        self.gx = sliding_window_view(gx.astype(np.float32), (TILE, TILE))[self.oy, self.ox]
        self.hessian = tuple(_tile_dot(a, b) for a, b in ((self.gx, self.gx), (self.gx, self.gy),
                                                           (self.gy, self.gy)))
        self.level_mean = self.tiles.mean(axis=(1, 2))


def _tile_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-tile sum of products of two (n, t, t) stacks."""
    return np.einsum("nij,nij->n", a, b)


def align(ref: Reference, luma: np.ndarray, noise_var: Callable) -> Alignment:
    """Displacements of ``luma`` (a frame's binned luma, brightness matched to the reference's) per merge tile.

    ``noise_var(level) -> (reference, frame)``: the noise variance of one luma pixel of each at a luma level;
    it sets the search's penalties, the Lucas-Kanade steps' weights and the residual's scale.
    """
    levels = pyramid(luma)
    coarse, step = None, 1
    for lv in range(len(LEVELS), 0, -1):
        if min(levels[lv].shape) < 2 * LEVELS[lv - 1][1]:
            continue  # a small frame: start where a level holds a couple of tiles
        factor, t, r = LEVELS[lv][0] if lv < len(LEVELS) else 1, LEVELS[lv - 1][1], LEVELS[lv - 1][2]
        coarse = _search_level(ref.levels[lv], levels[lv], coarse, factor, t, r, step, noise_var, SCALES[lv])
        step = t
    if coarse is None:
        raise ValueError(f"a {luma.shape[1]}x{luma.shape[0]} luma is too small to align")
    padded = pad_plane(luma, ref.grid)
    smooth = cv2.GaussianBlur(padded, (0, 0), 1.0)
    oy, ox = ref.oy, ref.ox
    var_ref, var_alt = noise_var(ref.level_mean)
    var = np.maximum(var_ref + var_alt, 1e-12).astype(np.float32)
    # Candidates from level 1; the tiles' origins there are offset by the merge grid's 8-pixel padding.
    init = _best_candidate(ref.smooth_tiles, smooth, oy, ox, TILE,
                           _candidates(coarse, LEVELS[0][0], oy - STEP, ox - STEP, TILE, step),
                           _margin(coarse, LEVELS[0][0], TILE, 2), var * SMOOTHED_VAR)
    shift = init.astype(np.float32)
    sxx, sxy, syy = ref.hessian
    # The reference's own noise adds n * GRADIENT_VAR * var to each diagonal term without carrying any
    # displacement: left in, it shrinks every estimate towards zero in the dark (attenuation bias).
    floor = np.maximum(var_ref, 0.0) * (TILE * TILE * GRADIENT_VAR)
    sxx, syy = np.maximum(sxx - floor, 0.01 * floor), np.maximum(syy - floor, 0.01 * floor)
    limit = np.sqrt(0.95 * sxx * syy)
    sxy = np.clip(sxy, -limit, limit)  # stays positive definite
    damp = var * SMOOTHED_VAR / LK_PRIOR_PX**2  # a weak prior: flat tiles must not run off before the fit
    margin = int(np.abs(init).max(initial=0)) + TILE + LK_STEPS + 2
    for _ in range(LK_STEPS):
        whole = np.rint(shift).astype(np.int64)
        e = _gather(smooth, oy + whole[:, 0], ox + whole[:, 1], TILE, margin) - ref.smooth_tiles
        bx, by = _tile_dot(ref.gx, e), _tile_dot(ref.gy, e)
        a, b, c = sxx + damp, sxy, syy + damp
        det = a * c - b * b
        step_yx = np.stack([-(a * by - b * bx) / det, -(c * bx - b * by) / det], axis=1)
        shift = whole + np.clip(step_yx, -1.0, 1.0)
    # Each estimate's information ((dy, dx) order): the smoothed difference is correlated over about
    # 1/SMOOTHED_VAR pixels, so an estimate's variance is var / H. Then the camera's motion fitted to all.
    info = np.stack([np.stack([syy, sxy], -1), np.stack([sxy, sxx], -1)], -2) / var[:, None, None]
    shift = field.combine(shift, info, field.global_motion(shift, info, oy, ox), 1.0 / LOCAL_PX**2)
    whole = np.rint(shift).astype(np.int64)
    frac = (shift - whole).astype(np.float32)
    d = _gather(padded, oy + whole[:, 0], ox + whole[:, 1], TILE, margin) - ref.tiles
    # First-order correction for the fractional part, so the residual measures what the merge will see.
    d += ref.gy * frac[:, 0, None, None] + ref.gx * frac[:, 1, None, None]
    residual = _tile_dot(d, d) / (TILE * TILE) / var
    rows, cols = ref.grid.rows, ref.grid.cols
    return Alignment(field.upsample(shift.reshape(ref.rows, ref.cols, 2).astype(np.float32), rows, cols),
                     field.upsample(residual.reshape(ref.rows, ref.cols).astype(np.float32), rows, cols))
