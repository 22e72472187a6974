"""Bayer layout helpers shared by the raw stages."""

from __future__ import annotations

import numpy as np

from ..frame import check_cfa  # the CFA orders are per-frame facts (ground floor)


def per_site(image: np.ndarray, values) -> np.ndarray:
    """A (2, 2) block of per-site values broadcast over a Bayer image viewed as (h/2, 2, w/2, 2)."""
    return np.asarray(values, dtype=image.dtype).reshape(1, 2, 1, 2)


def blocks(image: np.ndarray) -> np.ndarray:
    """View a Bayer image (h, w) as (h/2, 2, w/2, 2) so a 2x2 table applies to every CFA block."""
    h, w = image.shape
    if h % 2 or w % 2:
        raise ValueError(f"Bayer images need even dimensions, got {w}x{h}")
    return image.reshape(h // 2, 2, w // 2, 2)


def site_gains(cfa: str, r: float, g: float, b: float) -> list[float]:
    """The four per-site values for a colour triple, in CFA order."""
    by = {"R": r, "G": g, "B": b}
    return [by[c] for c in check_cfa(cfa)]
