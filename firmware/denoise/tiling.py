"""Run a fully convolutional model over a frame in tiles of one fixed shape, with no seams.

Tiles overlap by at least the model's receptive field and start on multiples of its down-sampling factor, so
every output pixel sees exactly the inputs (and the same pooling grid) it would in one pass over the whole
frame: the tiled result equals the untiled one. Tiles are spread evenly, so the overlap is shared out instead
of piling up in the last row and column. The frame is reflect-padded by the margin first, which both passes
see alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np


def _ceil_to(v: int, step: int) -> int:
    return -(-v // step) * step


@dataclass(frozen=True)
class Tiling:
    tile: tuple[int, int]  # (rows, cols) of the model's fixed input
    margin: int  # overlap kept on each side: at least the receptive field's radius
    align: int = 1  # tile starts are multiples of this (the model's total down-sampling)

    def __post_init__(self):
        th, tw = self.tile
        if self.margin % self.align or th % self.align or tw % self.align:
            raise ValueError(f"tile {self.tile} and margin {self.margin} must be multiples of {self.align}")
        if min(th, tw) - 2 * self.margin <= self.align:
            raise ValueError(f"tile {self.tile} leaves nothing inside a margin of {self.margin}")

    def padded_shape(self, h: int, w: int) -> tuple[int, int]:
        """The padded frame: margin on every side, at least one tile, and whole alignment steps beyond it."""
        th, tw = self.tile
        m = self.margin
        return (th + _ceil_to(max(h + 2 * m - th, 0), self.align),
                tw + _ceil_to(max(w + 2 * m - tw, 0), self.align))

    def _starts(self, padded: int, tile: int) -> list[int]:
        span = padded - tile
        if span == 0:
            return [0]
        step = tile - 2 * self.margin - self.align  # room for rounding each start to the alignment
        n = math.ceil(span / step) + 1
        return [int(round(i * span / (n - 1) / self.align)) * self.align for i in range(n)]

    def _cuts(self, starts: list[int], tile: int, padded: int) -> list[tuple[int, int, int]]:
        """(tile start, first row kept, row after the last kept) per tile: overlaps split down the middle."""
        bounds = [0] + [(s + tile + nxt) // 2 for s, nxt in zip(starts, starts[1:])] + [padded]
        return [(s, bounds[i], bounds[i + 1]) for i, s in enumerate(starts)]

    def plan(self, h: int, w: int) -> list[tuple[int, int]]:
        """Tile origins (row, col) in the padded frame for an h x w input."""
        ph, pw = self.padded_shape(h, w)
        return [(y, x) for y in self._starts(ph, self.tile[0]) for x in self._starts(pw, self.tile[1])]

    @staticmethod
    def _sources(n: int, before: int, after: int) -> np.ndarray:
        """For each padded position along an axis of length ``n``, the position it copies."""
        # Reflection cannot reach further than the frame is long; past that, edge values fill the rest.
        first = (min(before, n - 1), min(after, n - 1))
        reflected = np.pad(np.arange(n), first, mode="reflect")
        return np.pad(reflected, (before - first[0], after - first[1]), mode="edge")

    def empty(self, h: int, w: int, channels: int, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
        """An unfilled padded frame for an h x w input and the view of it where the input goes."""
        ph, pw = self.padded_shape(h, w)
        padded = np.empty((ph, pw, channels), dtype)
        m = self.margin
        return padded, padded[m:m + h, m:m + w]

    def fill_margins(self, padded: np.ndarray, h: int, w: int) -> None:
        """Reflect the input (already in place) into the margins of its padded frame."""
        ph, pw = padded.shape[:2]
        m = self.margin
        rows = self._sources(h, m, ph - h - m) + m
        cols = self._sources(w, m, pw - w - m) + m
        inner = slice(m, m + w)
        padded[:m, inner] = padded[rows[:m], inner]
        padded[m + h:, inner] = padded[rows[m + h:], inner]
        padded[:, :m] = padded[:, cols[:m]]
        padded[:, m + w:] = padded[:, cols[m + w:]]

    def pad(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        m = self.margin
        padded = np.empty(self.padded_shape(h, w) + image.shape[2:], image.dtype)
        padded[m:m + h, m:m + w] = image
        self.fill_margins(padded, h, w)
        return padded

    def run(self, image: np.ndarray, fn: Callable[[np.ndarray], np.ndarray],
            emit: Callable[[int, int, int, int, np.ndarray], None] | None = None) -> np.ndarray | None:
        """Apply ``fn`` (tile (th, tw, c) → same) tile by tile over an (h, w, c) image.

        Without ``emit``, returns the (h, w, c) output. With it, hands each tile's share of the output over as
        ``emit(r0, r1, c0, c1, values)`` (frame rows r0:r1, columns c0:c1) and returns None: the shares cover
        the frame once, and ``values`` may be a view into ``fn``'s buffers, good until the next tile.
        """
        return self.run_padded(self.pad(image), image.shape[0], image.shape[1], fn, emit)

    def run_padded(self, padded: np.ndarray, h: int, w: int, fn: Callable[[np.ndarray], np.ndarray],
                   emit: Callable[[int, int, int, int, np.ndarray], None] | None = None) -> np.ndarray | None:
        """``run`` on a frame already padded (``empty`` + ``fill_margins``): saves a copy of the frame."""
        ph, pw = padded.shape[:2]
        th, tw = self.tile
        m = self.margin
        out = None
        if emit is None:
            out = np.empty((h, w) + padded.shape[2:], padded.dtype)

            def emit(r0, r1, c0, c1, values):
                out[r0:r1, c0:c1] = values

        rows = self._cuts(self._starts(ph, th), th, ph)
        cols = self._cuts(self._starts(pw, tw), tw, pw)
        for y, r0, r1 in rows:
            r0, r1 = max(r0, m), min(r1, m + h)  # the frame's rows this tile keeps (none of the padding)
            for x, c0, c1 in cols:
                c0, c1 = max(c0, m), min(c1, m + w)
                if r0 >= r1 or c0 >= c1:
                    continue
                res = fn(padded[y:y + th, x:x + tw])
                emit(r0 - m, r1 - m, c0 - m, c1 - m, res[r0 - y:r1 - y, c0 - x:c1 - x])
                del res  # a runtime's output view must be gone before it runs again
        return out

    def redundancy(self, h: int, w: int) -> float:
        """Pixels the model processes per output pixel."""
        return len(self.plan(h, w)) * self.tile[0] * self.tile[1] / (h * w)
