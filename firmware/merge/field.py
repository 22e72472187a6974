"""The displacement field between two frames as a whole: the camera's motion fitted to all tiles, each tile's
estimate weighed against it, and the field carried from the alignment tiles to the merge's tiles.

A tile's Lucas-Kanade estimate comes with its information (the inverse of its covariance: the tile's gradient
structure over the noise). Hand shake moves the whole picture - a translation and a small rotation - so an
affine field fitted to every tile by its information, robustly (Huber weights: a moving object or a tile lost in
the dark does not bend it), is the best guess wherever a tile says little; where a tile's own evidence is
strong (texture, a moving object), it keeps its own estimate. That is what makes alignment hold at 0.5 lux,
where most single tiles cannot see their displacement through the noise.
"""

from __future__ import annotations

import numpy as np

HUBER = 3.0  # Mahalanobis distance beyond which a tile's vote is down-weighted
INFO_CAP = 400.0  # (0.05 px)^-2: no tile counts for more than that, so a few sharp ones cannot outvote the rest


def global_motion(shift: np.ndarray, info: np.ndarray, oy: np.ndarray, ox: np.ndarray) -> np.ndarray:
    """The affine field (n, 2) that best explains the displacements ``shift`` (n, 2, (dy, dx)) of tiles at
    (oy, ox), each weighed by its information ``info`` (n, 2, 2)."""
    n = len(shift)
    scale = max(float(np.ptp(oy)), float(np.ptp(ox)), 1.0)
    phi = np.stack([np.ones(n), (oy - oy.mean()) / scale, (ox - ox.mean()) / scale], axis=1)
    trace = np.maximum(info[:, 0, 0] + info[:, 1, 1], 1e-12)
    info = info * np.minimum(1.0, INFO_CAP / trace)[:, None, None]
    weight = np.ones(n)
    fit = np.zeros_like(shift)
    for _ in range(4):
        w = info * weight[:, None, None]
        jyy, jyx, jxx = w[:, 0, 0], w[:, 0, 1], w[:, 1, 1]
        # Normal equations of sum (d - Phi p)^T J (d - Phi p) with p = (p_y, p_x), three terms each.
        lhs = np.empty((6, 6))
        lhs[:3, :3] = (phi * jyy[:, None]).T @ phi
        lhs[:3, 3:] = lhs[3:, :3] = (phi * jyx[:, None]).T @ phi
        lhs[3:, 3:] = (phi * jxx[:, None]).T @ phi
        rhs = np.concatenate([phi.T @ (jyy * shift[:, 0] + jyx * shift[:, 1]),
                              phi.T @ (jyx * shift[:, 0] + jxx * shift[:, 1])])
        params = np.linalg.lstsq(lhs + 1e-9 * np.eye(6), rhs, rcond=None)[0]
        fit = np.stack([phi @ params[:3], phi @ params[3:]], axis=1)
        r = shift - fit
        dist = np.sqrt(np.maximum(np.einsum("nk,nkl,nl->n", r, info, r), 1e-12))
        weight = np.minimum(1.0, HUBER / dist)
    return fit


def combine(shift: np.ndarray, info: np.ndarray, prior: np.ndarray, prior_info: float) -> np.ndarray:
    """Each tile's estimate and the prior, by their information: (J + P)^-1 (J d + P d_prior)."""
    total = info + prior_info * np.eye(2)
    rhs = np.einsum("nkl,nl->nk", info, shift) + prior_info * prior
    return np.linalg.solve(total, rhs[..., None])[..., 0]


def upsample(field: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """A field on every other tile (ceil(rows/2), ceil(cols/2), ...) -> every tile (rows, cols, ...): even tiles
    keep their value, odd ones take the mean of their two (or four) neighbours, which they overlap by half."""
    def axis(n, m):
        pos = np.arange(n) / 2.0
        lo = np.minimum(np.floor(pos).astype(int), m - 1)
        hi = np.minimum(lo + 1, m - 1)
        return lo, hi, (pos - lo).astype(np.float32)

    y0, y1, wy = axis(rows, field.shape[0])
    x0, x1, wx = axis(cols, field.shape[1])
    extra = (None,) * (field.ndim - 2)
    wy, wx = wy[(slice(None), None) + extra], wx[(None, slice(None)) + extra]
    top = field[y0][:, x0] * (1 - wx) + field[y0][:, x1] * wx
    bottom = field[y1][:, x0] * (1 - wx) + field[y1][:, x1] * wx
    return (top * (1 - wy) + bottom * wy).astype(field.dtype)
