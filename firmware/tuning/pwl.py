"""Piecewise-linear functions as libcamera's ``ipa::Pwl`` reads them: a flat list ``[x0, y0, x1, y1, ...]``."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np


class Pwl:
    """A piecewise-linear function with increasing x.

    >>> Pwl([0, 0, 10, 100]).eval(2.5)
    25.0
    """

    def __init__(self, flat: Sequence[float] | float):
        if isinstance(flat, (int, float)):
            flat = [0.0, float(flat)]  # libcamera: a scalar is a one-point (constant) function
        values = np.asarray(list(flat), dtype=float)
        if values.size % 2 or values.size < 2:
            raise ValueError(f"a piecewise-linear function needs x, y pairs, got {values.size} numbers")
        self.x = values[0::2].copy()
        self.y = values[1::2].copy()
        if np.any(np.diff(self.x) <= 0):
            raise ValueError("piecewise-linear x values must be strictly increasing")

    @classmethod
    def from_points(cls, xs: Iterable[float], ys: Iterable[float]) -> "Pwl":
        return cls([v for pair in zip(xs, ys) for v in pair])

    @property
    def domain(self) -> tuple[float, float]:
        return float(self.x[0]), float(self.x[-1])

    def clamp(self, x):
        return np.clip(x, self.x[0], self.x[-1])

    def eval(self, x):
        """Value at ``x``; like libcamera, the end segments extend linearly (callers clamp where needed)."""
        x_arr = np.asarray(x, dtype=float)
        if len(self.x) == 1:
            out = np.full_like(x_arr, self.y[0])
        else:
            i = np.clip(np.searchsorted(self.x, x_arr, side="right") - 1, 0, len(self.x) - 2)
            x0, x1, y0, y1 = self.x[i], self.x[i + 1], self.y[i], self.y[i + 1]
            out = y0 + (x_arr - x0) * (y1 - y0) / (x1 - x0)
        return float(out) if out.ndim == 0 else out

    def flat(self) -> list[float]:
        return [float(v) for pair in zip(self.x, self.y) for v in pair]

    def __repr__(self) -> str:
        return f"Pwl({self.flat()!r})"
