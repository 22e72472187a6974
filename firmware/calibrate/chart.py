"""Find the ColorChecker's 24 patches in a raw capture, and measure them.

Finding (when no patch file came with the capture): on a half-resolution, variance-stabilised (square-root)
RGB image, patches are uniform squares separated by the chart's dark gaps. Low-gradient connected regions that
are square and of a common size are patch candidates; their centres are put on a grid (pitch and angle from
nearest neighbours), an affine map from grid indices to the image is fitted, and the grid that maps onto the
chart's 6x4 layout is read in whichever of the four orientations makes the patches' brightness best match the
chart's reference. Missing candidates (the black patch barely differs from the chart's frame) are filled in
by the fit. Works for a chart filling 15-80 % of the width, tilted by up to ~15 degrees, any quarter turn.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..errors import TuningError
from .images import Capture, PatchRect

COLS, ROWS = 6, 4
SAMPLE = 0.4  # side of the sampled square, as a fraction of the patch pitch (the patch itself is 0.8)


def _rgb(cap: Capture) -> np.ndarray:
    p = cap.planes()
    return np.dstack([p["R"], 0.5 * (p["Gr"] + p["Gb"]), p["B"]])


def _candidates(img: np.ndarray) -> np.ndarray:
    """(N, 4) centre x, centre y, width, height of uniform square regions in ``img`` (h, w, 3)."""
    norm = np.sqrt(np.clip(img / max(float(np.percentile(img, 99.5)), 1e-6), 0.0, None)).astype(np.float32)
    norm = cv2.GaussianBlur(norm, (0, 0), 1.0)
    grad = sum(np.hypot(cv2.Sobel(norm[..., c], cv2.CV_32F, 1, 0), cv2.Sobel(norm[..., c], cv2.CV_32F, 0, 1))
               for c in range(3))
    # Patch interiors are flat to noise level; edges between patches are much steeper than that.
    flat = (grad < max(4.0 * float(np.median(grad)), 0.02)).astype(np.uint8)
    flat = cv2.morphologyEx(flat, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, _, stats, cents = cv2.connectedComponentsWithStats(flat, connectivity=4)
    h, w = flat.shape
    out = []
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if area < 30 or x == 0 or y == 0 or x + bw >= w or y + bh >= h:
            continue
        if not 0.6 < bw / bh < 1.6 or area < 0.7 * bw * bh:
            continue
        out.append((cents[i][0], cents[i][1], bw, bh))
    out = np.asarray(out, dtype=float).reshape(-1, 4)
    if len(out) < 8:
        return out
    # Keep the largest family of similar sizes: the chart's patches.
    side = np.sqrt(out[:, 2] * out[:, 3])
    best = max(side, key=lambda s: np.sum(np.abs(side / s - 1.0) < 0.25))
    return out[np.abs(side / best - 1.0) < 0.25]


def _grid(cands: np.ndarray):
    """Integer grid coordinates of each candidate, the grid's angle and pitch."""
    xy = cands[:, :2]
    d = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    np.fill_diagonal(d, np.inf)
    nn = d.argmin(axis=1)
    pitch = float(np.median(d[np.arange(len(xy)), nn]))
    vec = xy[nn] - xy
    ang = np.arctan2(vec[:, 1], vec[:, 0]) % (math.pi / 2)
    ang = np.where(ang > math.pi / 4, ang - math.pi / 2, ang)  # fold to -45..45 degrees
    theta = float(np.median(ang))
    c, s = math.cos(theta), math.sin(theta)
    uv = xy @ np.array([[c, -s], [s, c]])  # rotate by -theta: grid axes become image axes
    ij = np.rint((uv - uv.min(axis=0)) / pitch).astype(int)
    return ij, pitch


def _fit_affine(ij: np.ndarray, xy: np.ndarray) -> np.ndarray:
    a = np.column_stack([ij, np.ones(len(ij))])
    coef, *_ = np.linalg.lstsq(a, xy, rcond=None)
    return coef  # (3, 2): [i, j, 1] @ coef = (x, y)


def _orientations(ncols: int, nrows: int):
    """Maps from chart (col, row) to detected grid (i, j) for each quarter turn that fits the grid's shape."""
    maps = []
    if (ncols, nrows) == (COLS, ROWS):
        maps.append(lambda c, r: (c, r))
        maps.append(lambda c, r: (COLS - 1 - c, ROWS - 1 - r))
    if (ncols, nrows) == (ROWS, COLS):
        maps.append(lambda c, r: (ROWS - 1 - r, c))
        maps.append(lambda c, r: (r, COLS - 1 - c))
    return maps


def find_patches(cap: Capture, reference_y: np.ndarray) -> list[PatchRect]:
    """The 24 patch rectangles (raw pixel coordinates, chart order) of the chart in ``cap``."""
    img = _rgb(cap)
    f = max(1, img.shape[1] // 600)
    small = cv2.resize(img, (img.shape[1] // f, img.shape[0] // f), interpolation=cv2.INTER_AREA) if f > 1 else img
    cands = _candidates(small)
    where = f"{cap.path.name}: ColorChecker"
    if len(cands) < 12:
        raise TuningError(f"{where}: found {len(cands)} patch-like squares, need at least 12 of 24 "
                          "(is the chart in the frame, evenly lit and in focus? or pass a patch file)")
    ij, pitch = _grid(cands)
    ncols, nrows = ij.max(axis=0) + 1
    maps = _orientations(int(ncols), int(nrows))
    if not maps:
        raise TuningError(f"{where}: the patches found form a {ncols}x{nrows} grid, not the chart's 6x4")
    coef = _fit_affine(ij, cands[:, :2])
    resid = np.abs(np.column_stack([ij, np.ones(len(ij))]) @ coef - cands[:, :2]).max()
    if resid > 0.2 * pitch:
        raise TuningError(f"{where}: the patches do not lie on a regular grid (off by {resid / pitch:.0%} of a patch)")
    best = None
    for m in maps:
        centres = np.array([np.array([*m(k % COLS, k // COLS), 1.0]) @ coef for k in range(COLS * ROWS)])
        lum = _means(small, centres, SAMPLE * pitch)[:, 1]
        score = np.corrcoef(np.log(np.maximum(lum, 1e-6)), np.log(reference_y))[0, 1]
        if best is None or score > best[0]:
            best = (score, centres)
    score, centres = best
    if score < 0.9:
        raise TuningError(f"{where}: patch brightnesses do not match the chart (correlation {score:.2f})")
    half = SAMPLE * pitch * f  # the half-resolution image is half of the raw frame
    rects = []
    for k, (x, y) in enumerate(centres * f * 2):
        rects.append(PatchRect(k, int(round(x - half)), int(round(y - half)), int(round(2 * half)),
                               int(round(2 * half))))
    return rects


def _means(img: np.ndarray, centres: np.ndarray, side: float) -> np.ndarray:
    h = max(1, int(side / 2))
    out = []
    for x, y in centres:
        x, y = int(round(x)), int(round(y))
        cut = img[max(0, y - h):y + h, max(0, x - h):x + h]
        out.append(cut.reshape(-1, 3).mean(axis=0) if cut.size else np.full(3, np.nan))
    return np.asarray(out)


def _plane_cut(plane: np.ndarray, r: PatchRect) -> np.ndarray:
    # Raw rectangle -> the plane's samples wholly inside it (each plane is one CFA site, half resolution).
    x0, y0 = (r.x + 1) // 2, (r.y + 1) // 2
    x1, y1 = (r.x + r.width) // 2, (r.y + r.height) // 2
    return plane[y0:y1, x0:x1]


def patch_means(cap: Capture, rects: list[PatchRect]) -> np.ndarray:
    """Mean (R, G, B) above black of each patch, (24, 3), outliers (hot pixels) excluded."""
    planes = cap.planes()
    out = np.full((COLS * ROWS, 3), np.nan)
    for r in rects:
        vals = []
        for names in (("R",), ("Gr", "Gb"), ("B",)):
            cut = np.concatenate([_plane_cut(planes[n], r).ravel() for n in names])
            if cut.size < 16:
                raise TuningError(f"{cap.path.name}: patch {r.index} is too small to measure ({cut.size} samples)")
            med = np.median(cut)
            mad = np.median(np.abs(cut - med)) * 1.4826 + 1e-6
            vals.append(float(cut[np.abs(cut - med) < 5 * mad].mean()))
        out[r.index] = vals
    return out


def patch_noise(cap: Capture, rects: list[PatchRect]) -> list[tuple[float, float]]:
    """(mean, variance) in DN of every patch on every CFA plane, with the patch's shading gradient removed."""
    out = []
    for plane in cap.planes().values():
        for r in rects:
            cut = _plane_cut(plane, r).astype(np.float64)
            if cut.shape[0] < 4 or cut.shape[1] < 4:
                continue
            yy, xx = np.mgrid[0:cut.shape[0], 0:cut.shape[1]]
            a = np.column_stack([np.ones(cut.size), xx.ravel(), yy.ravel()])
            coef, *_ = np.linalg.lstsq(a, cut.ravel(), rcond=None)
            res = cut.ravel() - a @ coef
            sd = res.std()
            keep = np.abs(res) < 4 * sd + 1e-9
            out.append((float(coef[0] + coef[1] * (cut.shape[1] - 1) / 2 + coef[2] * (cut.shape[0] - 1) / 2),
                        float(res[keep].var())))
    return out
