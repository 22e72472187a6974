"""Robust merge of an aligned burst on the raw Bayer planes, tile by tile in the frequency domain.

HDR+'s pairwise temporal Wiener filter (Hasinoff et al. 2016, section 5): each Bayer plane is cut into 16x16
tiles every 8 pixels, windowed with a raised cosine (which sums to one at that overlap), and transformed. For
every other frame z the tile's spectrum T_z is pulled towards the reference's T_0 frequency by frequency:

    A_z(w) = |D_z(w)|^2 / (|D_z(w)|^2 + k sigma_D^2),   D_z = T_0 - T_z,   merged_z = T_z + A_z D_z

where sigma_D^2 is what |D_z|^2 would be if the two tiles differed by noise alone - from the frames' noise
profiles (variance = S x + O) at the tile's level. Where a frame differs by noise, A is small and it merges;
where it differs by more (motion, misalignment, an object that moved) A goes to one and the reference's tile is
kept, so moving things never ghost. The frames are then averaged with exposure-aware weights: the inverse of
each frame's noise variance at the tile's level, zero for a tile where that frame is clipped (beyond white
nothing is known, and resampling a clipped edge would darken it) - so an AEB bracket's long frames fill the
shadows and its short ones the highlights, and clipped lamps stay as the reference has them.

Each other frame is resampled onto the reference before it is cut into tiles: OpenCV's bicubic remap along the
displacement field (interpolated between the tiles' centres), so sub-pixel shifts cost one pass per plane and
the window stays where the reference's is (the tiles still sum exactly to one). Interpolation smooths a frame's
noise a little (to about 40 % of its variance at half a pixel); the expected differences and the merged noise
take that into account. (A phase ramp on the transformed tile keeps the noise but moves the window with the
content: the tiles then no longer sum to one, and flat bright areas show it.)

Work runs in bands of four tile rows on a few threads (OpenCV, scipy's FFTs and numpy's kernels release the
GIL); each band reads its rows of every frame straight from the uint16 frames, so memory beyond the inputs
stays at the merged planes plus a few megabytes per thread.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from .align import STEP, TILE, Alignment, TileGrid

WIENER_K = 8.0  # HDR+'s c: how many noise variances a difference must exceed before the reference wins
IMBALANCE = 16.0  # at most this much more is asked of a frame cleaner than the reference (see merge_band)
CLIP = 0.97  # a frame's sample this close to its white counts as clipped
BAND_ROWS = 4  # tile rows per unit of work

_W1 = (0.5 - 0.5 * np.cos(2 * np.pi * (np.arange(TILE) + 0.5) / TILE)).astype(np.float32)
WINDOW = np.outer(_W1, _W1)
_W2 = float(np.sum(WINDOW**2))  # E|F(w)|^2 of windowed white noise of unit variance
_WSUM = float(np.sum(WINDOW))  # DC of a windowed tile of ones


def _reflect(idx: np.ndarray, n: int) -> np.ndarray:
    """Reflect indices into 0..n-1 about the edges without repeating them (so a Bayer site stays one)."""
    period = 2 * (n - 1)
    idx = np.abs(idx) % period
    return np.where(idx >= n, period - idx, idx)


def _cubic_kept(frac: np.ndarray) -> np.ndarray:
    """Share of white noise's variance that OpenCV's bicubic interpolation (a = -0.75) keeps at a fraction."""
    a = -0.75
    t = np.abs(frac)
    d = np.stack([1 + t, t, 1 - t, 2 - t], axis=-1)
    w = np.where(d <= 1, (a + 2) * d**3 - (a + 3) * d**2 + 1, a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a)
    return np.sum(w * w, axis=-1)


def _pixel_field(field: np.ndarray, y0: int, x0: int, h: int, w: int) -> np.ndarray:
    """The displacement (h, w, 2) at unpadded plane pixels y0.., x0..: linear between the tiles' centres
    (tile i's centre is at pixel 8 i - 0.5, so pixel y sits at tile (y + 0.5) / 8), held beyond the last."""
    m = np.array([[1 / STEP, 0, (x0 + 0.5) / STEP], [0, 1 / STEP, (y0 + 0.5) / STEP]])
    return cv2.warpAffine(field, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


class _Source:
    """One frame as the band workers read it: normalisation per site, noise, and its displacement field."""

    def __init__(self, frame, ratio: float, shift: np.ndarray | None, clip: bool):
        self.raw = frame.raw
        self.black = np.asarray(frame.black_levels, np.float32)
        self.scale = (1.0 / (frame.span * ratio)).astype(np.float32)
        self.ratio = ratio
        self.shot, self.read = frame.noise.shot, frame.noise.read
        self.shift = shift  # (rows, cols, 2) plane pixels, None for the reference
        self.clip = CLIP / ratio if clip else None  # on the reference's normalised scale

    def variance(self, level: np.ndarray) -> np.ndarray:
        """Noise variance of this frame, on the reference's scale, at reference-scale ``level``."""
        return (self.shot * self.ratio * np.maximum(level, 0.0) + self.read) / (self.ratio * self.ratio)

    def _quads(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        """Plane rows y0..y1, columns x0..x1 as (h, w, 4) float32 quads (the CFA's four sites), normalised:
        0 at black, 1 at the reference's white; reflected about the frame's edges where the range leaves it."""
        h, w = self.raw.shape[0] // 2, self.raw.shape[1] // 2
        if 0 <= y0 and y1 <= h:
            rows = self.raw[2 * y0:2 * y1]
        else:
            r = _reflect(np.arange(y0, y1), h)
            rows = self.raw[np.stack([2 * r, 2 * r + 1], axis=1).ravel()]
        if 0 <= x0 and x1 <= w:
            block = rows[:, 2 * x0:2 * x1]
        else:
            c = _reflect(np.arange(x0, x1), w)
            block = rows[:, np.stack([2 * c, 2 * c + 1], axis=1).ravel()]
        out = cv2.merge([block[0::2, 0::2], block[0::2, 1::2], block[1::2, 0::2], block[1::2, 1::2]])
        out = out.astype(np.float32)
        out -= self.black
        out *= self.scale
        return out

    def band(self, grid: TileGrid, r0: int, r1: int):
        """This frame on the reference's padded plane rows 8 r0 .. 8 r1 + 8, all columns: (h, w, 4) quads,
        the share of noise variance resampling kept per tile (n, 1), and clipped tiles (n, 4) or None."""
        y0, h = STEP * r0 - STEP, STEP * (r1 - r0 + 1)  # unpadded plane rows of the band
        x0, w = -STEP, STEP * (grid.cols + 1)
        kept = np.ones(((r1 - r0) * grid.cols, 1), np.float32)
        if self.shift is None:
            quads = self._quads(y0, y0 + h, x0, x0 + w)
        else:
            d = _pixel_field(self.shift, y0, x0, h, w)
            map_y = d[..., 0] + np.arange(y0, y0 + h, dtype=np.float32)[:, None]
            map_x = d[..., 1] + np.arange(x0, x0 + w, dtype=np.float32)[None, :]
            sy0, sy1 = int(np.floor(map_y.min())) - 2, int(np.ceil(map_y.max())) + 3
            sx0, sx1 = int(np.floor(map_x.min())) - 2, int(np.ceil(map_x.max())) + 3
            src = self._quads(sy0, sy1, sx0, sx1)
            map_y -= sy0
            map_x -= sx0
            quads = cv2.remap(src, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
            s = self.shift[r0:r1].reshape(-1, 2)
            f = s - np.rint(s)
            kept = (_cubic_kept(f[:, 0]) * _cubic_kept(f[:, 1]))[:, None].astype(np.float32)
        clipped = None
        if self.clip is not None and quads.max() >= self.clip:  # most bands have nothing clipped
            hb, wb = quads.shape[0] // STEP, quads.shape[1] // STEP
            blocks = quads.reshape(hb, STEP, wb, STEP, 4).max(axis=(1, 3)) >= self.clip
            # A tile is clipped where any of its 2 x 2 blocks of 8 x 8 is.
            clipped = (blocks[:-1, :-1] | blocks[1:, :-1] | blocks[:-1, 1:] | blocks[1:, 1:]).reshape(-1, 4)
        return quads, kept, clipped


def _tiles(quads: np.ndarray) -> np.ndarray:
    """Windowed tiles (n, 4, 16, 16), row-major, every 8 pixels of a band's (8 rows + 8, 8 cols + 8, 4) quads."""
    view = sliding_window_view(quads, (TILE, TILE), axis=(0, 1))[::STEP, ::STEP]
    out = np.empty(view.shape, np.float32)
    np.multiply(view, WINDOW, out=out)
    return out.reshape(-1, 4, TILE, TILE)


def merge_band(sources: list[_Source], grid: TileGrid, r0: int, r1: int, k: float):
    """Merge tile rows r0..r1: (first tile row, merged planes block, (levels, merged variances, shares))."""
    ref = sources[0]
    quads, _, _ = ref.band(grid, r0, r1)
    f0 = scipy.fft.rfft2(_tiles(quads))
    level = f0[..., 0, 0].real / _WSUM  # (n, 4) mean of each tile on the reference's scale
    var0 = ref.variance(level)
    w0 = 1.0 / var0
    acc = f0 * w0[..., None, None].astype(np.float32)
    wsum = w0.copy()
    keep0 = w0.copy()  # weight on the reference's spectrum: its own, plus what other frames hand back
    spread = np.zeros_like(w0)  # sum over frames of (weight x (1 - A))^2 x variance: the merged noise
    merged_share = []
    for src in sources[1:]:
        quads, kept, clipped = src.band(grid, r0, r1)
        f = scipy.fft.rfft2(_tiles(quads))
        var = src.variance(level) * kept
        wz = 1.0 / var
        if clipped is not None:
            wz = np.where(clipped, 0.0, wz)
        d = f0 - f
        a = np.abs(d)
        a *= a  # |D|^2
        # A frame much cleaner than the reference (a bracket's long frame) would take the reference's noise in
        # with every A it gets from noise alone (~1/k): ask more of the difference before handing back to it.
        kz = k * np.clip(var0 / var, 1.0, IMBALANCE)
        np.divide(a, a + ((var0 + var) * _W2 * kz).astype(np.float32)[..., None, None], out=a)
        abar = a.mean(axis=(2, 3))
        # acc += wz (F + A D), in place: these arrays are the band's largest.
        wzb = wz[..., None, None].astype(np.float32)
        a *= wzb
        d *= a
        f *= wzb
        acc += f
        acc += d
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
                       clip=i != reference) for i in order]
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
