"""Robust merge of an aligned burst on the raw Bayer planes, tile by tile in the frequency domain.

HDR+'s pairwise temporal Wiener filter (Hasinoff et al. 2016, section 5): each Bayer plane is cut into 16x16
tiles every 8 pixels, windowed with a raised cosine (which sums to one at that overlap), and transformed. For
every other frame z the tile's spectrum T_z is pulled towards the reference's T_0 frequency by frequency:

    A_z(w) = |D_z(w)|^2 / (|D_z(w)|^2 + k sigma_D^2),   D_z = T_0 - T_z,   merged_z = T_z + A_z D_z

where sigma_D^2 is what |D_z|^2 would be if the two tiles differed by noise alone - from the frames' noise
profiles (variance = S x + O) at the tile's level. Where a frame differs by noise, A is small and it merges;
where it differs by more (motion, misalignment, an object that moved) A goes to one and the reference's tile is
kept, so moving things never ghost. The frames are then averaged with exposure-aware weights: the inverse of
each frame's noise variance at the tile's level, zero for a tile a longer frame has clipped - so an AEB
bracket's long frames fill the shadows and its short ones the highlights.

Sub-pixel displacements are applied before the window, by Keys' cubic interpolation (a = -0.5) of a slightly
larger patch: the window stays where the reference's is, so the tiles still sum exactly to one. Interpolation
smooths a frame's noise a little (to 41 % of its variance at half a pixel); the expected differences and the
merged noise take that into account. (A phase ramp on the transformed tile keeps the noise but moves the window
with the content: the tiles then no longer sum to one, and flat bright areas show it.)

Work runs in bands of tile rows on a few threads (scipy's FFTs and numpy's kernels release the GIL); each band
gathers its tiles from every frame straight from the uint16 frames, so memory beyond the inputs stays at the
merged planes plus a few megabytes per thread.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from .align import STEP, TILE, Alignment, TileGrid

WIENER_K = 8.0  # HDR+'s c: how many noise variances a difference must exceed before the reference wins
CLIP = 0.97  # a longer frame's sample this close to its white counts as clipped
BAND_ROWS = 2  # tile rows per unit of work

_W1 = (0.5 - 0.5 * np.cos(2 * np.pi * (np.arange(TILE) + 0.5) / TILE)).astype(np.float32)
WINDOW = np.outer(_W1, _W1)
_W2 = float(np.sum(WINDOW**2))  # E|F(w)|^2 of windowed white noise of unit variance
_WSUM = float(np.sum(WINDOW))  # DC of a windowed tile of ones


def _reflect(idx: np.ndarray, n: int) -> np.ndarray:
    """Reflect indices into 0..n-1 about the edges without repeating them: keeps the CFA's parity."""
    period = 2 * (n - 1)
    idx = np.abs(idx) % period
    return np.where(idx >= n, period - idx, idx)


MARGIN = 2  # extra plane pixels around a tile for the cubic interpolation's taps


def _keys(t: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution weights (n, 4) for taps at -1, 0, 1, 2 around a fraction t in [0, 1)."""
    a = -0.5
    d = np.stack([1 + t, t, 1 - t, 2 - t], axis=1)
    near = (a + 2) * d**3 - (a + 3) * d**2 + 1
    far = a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a
    return np.where(d <= 1, near, far).astype(np.float32)


def _taps(frac: np.ndarray) -> np.ndarray:
    """Weights (n, 5) on patch offsets 0..4 that sample a 20-pixel patch at x + 2 + frac for x in 0..15."""
    base = np.floor(frac).astype(np.int64)  # -1 or 0 for frac in [-0.5, 0.5]
    w = _keys(frac - base)
    out = np.zeros((len(frac), 5), np.float32)
    out[np.arange(len(frac))[:, None], base[:, None] + 1 + np.arange(4)[None, :]] = w
    return out


def _interpolate(p: np.ndarray, wy: np.ndarray, wx: np.ndarray) -> np.ndarray:
    """(n, 4, 20, 20) patches -> (n, 4, 16, 16) tiles sampled at the fractional offsets the weights encode."""
    rows = sum(wy[:, j, None, None, None] * p[:, :, j:j + TILE, :] for j in range(5))
    return sum(wx[:, j, None, None, None] * rows[:, :, :, j:j + TILE] for j in range(5))


class _Source:
    """One frame as the band workers read it: normalisation per site, noise, and its tiles' displacements."""

    def __init__(self, frame, ratio: float, shift: np.ndarray | None, clip: bool):
        self.raw = frame.raw
        self.black = np.asarray(frame.black_levels, np.float32).reshape(1, 4, 1, 1)
        self.scale = (1.0 / (frame.span * ratio)).astype(np.float32).reshape(1, 4, 1, 1)
        self.ratio = ratio
        self.shot, self.read = frame.noise.shot, frame.noise.read
        self.shift = shift  # (rows, cols, 2) plane pixels, None for the reference
        self.clip = (frame.white_level - (1 - CLIP) * frame.span.min()) if clip else None

    def variance(self, level: np.ndarray) -> np.ndarray:
        """Noise variance of this frame, on the reference's scale, at reference-scale ``level``."""
        return (self.shot * self.ratio * np.maximum(level, 0.0) + self.read) / (self.ratio * self.ratio)

    def tiles(self, grid: TileGrid, rows: slice, oy: np.ndarray, ox: np.ndarray):
        """Windowed tiles (n, 4, 16, 16) float32 of this frame for the band, the share of its noise variance
        the interpolation kept (n, 1), and which tiles hold clipped samples (n, 4) or None."""
        if self.shift is None:
            size, dy, dx = TILE, 0, 0
        else:
            size = TILE + 2 * MARGIN
            s = self.shift[rows].reshape(-1, 2)
            whole = np.rint(s).astype(np.int64)
            dy, dx = whole[:, 0] - MARGIN, whole[:, 1] - MARGIN
            frac = (s - whole).astype(np.float32)
        # Plane origin of each tile (or patch) in the unpadded plane, then its raw window of twice the size.
        py, px = oy - STEP + dy, ox - STEP + dx
        h, w = self.raw.shape
        y0, x0 = int(np.min(py)), int(np.min(px))
        rows_idx = _reflect(np.arange(2 * y0, 2 * (int(np.max(py)) + size)), h)
        cols_idx = _reflect(np.arange(2 * x0, 2 * (int(np.max(px)) + size)), w)
        band = self.raw[rows_idx][:, cols_idx]
        g = sliding_window_view(band, (2 * size, 2 * size))[2 * (py - y0), 2 * (px - x0)]
        q = g.reshape(-1, size, 2, size, 2)
        clipped = None
        if self.clip is not None:
            clipped = (q.max(axis=(1, 3)) >= self.clip).reshape(-1, 4)
        t = q.transpose(0, 2, 4, 1, 3).reshape(-1, 4, size, size).astype(np.float32)
        t -= self.black
        t *= self.scale
        kept = np.ones((len(oy), 1), np.float32)
        if self.shift is not None:
            wy, wx = _taps(frac[:, 0]), _taps(frac[:, 1])
            t = _interpolate(t, wy, wx)
            kept = (np.sum(wy * wy, axis=1) * np.sum(wx * wx, axis=1))[:, None]
        t *= WINDOW
        return t, kept, clipped


def merge_band(sources: list[_Source], grid: TileGrid, r0: int, r1: int, k: float):
    """Merge tile rows r0..r1: (first tile row, merged planes block, (levels, merged variances, shares))."""
    rows = slice(r0, r1)
    oy, ox = grid.origins()
    sel = slice(r0 * grid.cols, r1 * grid.cols)
    oy, ox = oy[sel], ox[sel]
    ref = sources[0]
    t0, _, _ = ref.tiles(grid, rows, oy, ox)
    f0 = scipy.fft.rfft2(t0)
    level = f0[..., 0, 0].real / _WSUM  # (n, 4) mean of each tile on the reference's scale
    var0 = ref.variance(level)
    w0 = 1.0 / var0
    acc = f0 * w0[..., None, None].astype(np.float32)
    wsum = w0.copy()
    keep0 = w0.copy()  # weight on the reference's spectrum: its own, plus what other frames hand back
    spread = np.zeros_like(w0)  # sum over frames of (weight x (1 - A))^2 x variance: the merged noise
    merged_share = []
    for src in sources[1:]:
        t, kept, clipped = src.tiles(grid, rows, oy, ox)
        f = scipy.fft.rfft2(t)
        var = src.variance(level) * kept
        wz = 1.0 / var
        if clipped is not None:
            wz = np.where(clipped, 0.0, wz)
        d = f0 - f
        p = d.real * d.real
        p += d.imag * d.imag
        noise = ((var0 + var) * (_W2 * k)).astype(np.float32)[..., None, None]
        a = p / (p + noise)
        f += a * d
        acc += f * wz[..., None, None].astype(np.float32)
        abar = a.mean(axis=(2, 3))
        wsum += wz
        keep0 += wz * abar
        spread += (wz * (1.0 - abar)) ** 2 * var
        merged_share.append(np.where(wz > 0, 1.0 - abar, 0.0).mean())
    acc /= wsum[..., None, None].astype(np.float32)
    out = scipy.fft.irfft2(acc, s=(TILE, TILE)).astype(np.float32)
    merged_var = (keep0**2 * var0 + spread) / wsum**2
    return r0, _overlap_add(out, r1 - r0, grid.cols), (level, merged_var, np.asarray(merged_share))


def _overlap_add(tiles: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Sum (rows*cols, 4, 16, 16) tiles placed every 8 pixels into a (4, 8 rows + 8, 8 cols + 8) block."""
    t = tiles.reshape(rows, cols, 4, 2, STEP, 2, STEP)
    out = np.zeros((4, rows + 1, STEP, cols + 1, STEP), np.float32)
    for a in (0, 1):
        for b in (0, 1):
            out[:, a:a + rows, :, b:b + cols, :] += t[:, :, :, a, :, b, :].transpose(2, 0, 3, 1, 4)
    return out.reshape(4, (rows + 1) * STEP, (cols + 1) * STEP)


def merge_planes(frames, reference: int, ratios, alignments: list[Alignment | None], grid: TileGrid,
                 threads: int = 2, k: float = WIENER_K):
    """Merged planes (4, h/2, w/2) float32 on the reference's normalised scale, and per-tile statistics."""
    order = [reference] + [i for i in range(len(frames)) if i != reference]
    sources = [_Source(frames[i], ratios[i], None if i == reference else alignments[i].shift,
                       clip=ratios[i] > ratios[reference] * 1.01) for i in order]
    ph, pw = grid.padded
    planes = np.zeros((4, ph, pw), np.float32)
    bands = [(r, min(r + BAND_ROWS, grid.rows)) for r in range(0, grid.rows, BAND_ROWS)]
    stats = []
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for r0, block, st in pool.map(lambda b: merge_band(sources, grid, b[0], b[1], k), bands):
            top = r0 * STEP
            planes[:, top:top + block.shape[1]] += block
            stats.append(st)
    h, w = grid.shape
    out = planes[:, STEP:STEP + h, STEP:STEP + w]
    level = np.concatenate([s[0] for s in stats])
    var = np.concatenate([s[1] for s in stats])
    share = np.mean(np.stack([s[2] for s in stats]), axis=0) if len(frames) > 1 else np.zeros(0)
    merged = np.ones(len(frames))
    for pos, i in enumerate(order[1:]):
        merged[i] = share[pos]
    return out, level, var, merged
