"""What an operator reads off a preview frame: histogram and clipping, a focus figure of merit, zebras, peaking.

All work on the developed 8-bit sRGB preview (what the operator sees), except the raw clipping figure, which
counts photosites at the sensor's white level (what a raw developer cannot recover).

>>> import numpy as np
>>> rgb = np.zeros((4, 4, 3), np.uint8); rgb[0, 0] = 255
>>> histogram(rgb, bins=4)["clipped"]["r"]
6.25
"""

from __future__ import annotations

import cv2
import numpy as np

# BT.709 luma weights on the encoded values (what a video waveform shows).
LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
ZEBRA_LEVEL = 250  # 8-bit level from which a channel counts as clipped for the zebras
ZEBRA_PERIOD = 8  # pixels per stripe pair
PEAKING_MIN = 24.0  # weakest Laplacian (8-bit levels) that peaking marks, however soft the picture is
PEAKING_TOP = 97.0  # and only the strongest edges: this percentile of the centre's edge strength upwards


def luma(rgb: np.ndarray) -> np.ndarray:
    return (rgb.astype(np.float32) @ LUMA).astype(np.float32)


def histogram(rgb: np.ndarray, bins: int = 64, raw: np.ndarray | None = None,
              white_level: int | None = None) -> dict:
    """Per-channel and luma histograms (counts in ``bins`` bins over 0..255) and clipping in percent.

    ``clipped``: pixels at 255 (highlights gone in the picture); ``crushed``: pixels at 0; ``raw_clipped``:
    photosites of ``raw`` at ``white_level``, when given.
    """
    n = rgb.shape[0] * rgb.shape[1]
    out: dict = {"bins": bins, "pixels": n}
    planes = {"r": rgb[..., 0], "g": rgb[..., 1], "b": rgb[..., 2], "luma": np.clip(luma(rgb) + 0.5, 0, 255)
              .astype(np.uint8)}
    edges = (np.arange(256) * bins) // 256  # which bin each 8-bit level falls in
    for name, plane in planes.items():
        counts = np.bincount(plane.ravel(), minlength=256)
        out[name] = np.bincount(edges, weights=counts, minlength=bins).astype(int).tolist()
    out["clipped"] = {k: round(100.0 * float(np.count_nonzero(planes[k] >= 255)) / n, 3) for k in planes}
    out["crushed"] = {k: round(100.0 * float(np.count_nonzero(planes[k] == 0)) / n, 3) for k in planes}
    if raw is not None and white_level is not None:
        out["raw_clipped"] = round(100.0 * float(np.count_nonzero(raw >= white_level)) / raw.size, 3)
    return out


def focus_measure(rgb: np.ndarray, window: float = 0.5) -> float:
    """How sharp the centre of the picture is: RMS luma gradient over the central ``window`` of each side,
    in percent of the mean luma per pixel (so it hardly moves when the exposure does). Higher is sharper."""
    y = luma(rgb)
    h, w = y.shape
    dh, dw = int(h * (1 - window) / 2), int(w * (1 - window) / 2)
    c = y[dh:h - dh, dw:w - dw]
    gx = cv2.Sobel(c, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(c, cv2.CV_32F, 0, 1, ksize=3)
    energy = float(np.mean(gx * gx + gy * gy))
    return 100.0 * float(np.sqrt(energy)) / max(float(c.mean()), 1.0)


def zebras(rgb: np.ndarray, level: int = ZEBRA_LEVEL) -> np.ndarray:
    """A copy with diagonal black-and-white stripes over pixels where any channel is at or above ``level``."""
    out = rgb.copy()
    hot = (rgb >= level).any(axis=2)
    if hot.any():
        h, w = hot.shape
        yy, xx = np.ogrid[:h, :w]
        stripe = ((xx + yy) // (ZEBRA_PERIOD // 2)) % 2 == 0
        out[hot & stripe] = 0
        out[hot & ~stripe] = 255
    return out


def peaking(rgb: np.ndarray, colour: tuple[int, int, int] = (255, 0, 0)) -> np.ndarray:
    """A copy with the in-focus edges (the strongest Laplacian responses) painted in ``colour``."""
    y = luma(rgb)
    lap = np.abs(cv2.Laplacian(cv2.GaussianBlur(y, (3, 3), 0), cv2.CV_32F, ksize=3))
    threshold = max(PEAKING_MIN, float(np.percentile(lap, PEAKING_TOP)))
    out = rgb.copy()
    out[lap >= threshold] = colour
    return out

