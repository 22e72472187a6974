"""``rpi.black_level`` from dark frames and ``rpi.lux`` from the ColorChecker captures.

Black level: the mean of each CFA plane of the dark frames (hot pixels clipped out), on the 16-bit scale;
without dark frames, the DNGs' own BlackLevel tags. Lux: libcamera estimates scene lux as
``(ref_exposure/exposure) (ref_gain/gain) (Y/ref_Y) ref_lux``, Y being the mean green level on the 16-bit
scale; each ColorChecker capture (lux from its name) gives the constant, and the capture with the median
constant becomes the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import TuningError
from .images import Capture
from .noise import to_reference


@dataclass
class BlackFit:
    level16: tuple[float, float, float]  # R, G, B
    source: str
    samples: list[tuple[float, float]]  # (0, variance at reference) from the dark frames, for the noise fit


def _clipped_mean_var(p: np.ndarray) -> tuple[float, float]:
    med = float(np.median(p))
    mad = float(np.median(np.abs(p - med))) * 1.4826 + 0.5
    keep = p[np.abs(p - med) < 6 * mad]
    return float(keep.mean()), float(keep.var())


def fit_black(darks: list[Capture], others: list[Capture], mode_factor: int) -> BlackFit:
    if darks:
        sums = {"R": [], "G": [], "B": []}
        samples = []
        for cap in darks:
            sites = cap.sites()
            for name, plane in cap.planes().items():
                # planes() subtracts the tagged black; add it back to measure the true one.
                mean, var = _clipped_mean_var(plane)
                sums[name[0]].append((mean + cap.black[sites[name]]) * cap.scale16)
                samples.append(to_reference(0.0, var, cap.scale16, cap.gain or 1.0, mode_factor))
            cap.release()
        level = tuple(float(np.mean(sums[c])) for c in "RGB")
        return BlackFit(level, f"{len(darks)} dark frames", samples)
    caps = others or []
    if not caps:
        raise TuningError("no captures to take a black level from")
    tags = {tuple(round(b * c.scale16) for b in c.black) for c in caps}
    if len(tags) > 1:
        raise TuningError("the DNGs disagree on the black level and there are no dark frames (dark_N.dng) to settle it")
    b = caps[0].black
    s = caps[0].scale16
    return BlackFit((b[0] * s, 0.5 * (b[1] + b[2]) * s, b[3] * s), "the DNGs' BlackLevel tags", [])


def black_block(fit: BlackFit) -> dict:
    r, g, b = (int(round(v)) for v in fit.level16)
    p = {"black_level": g}
    if max(abs(r - g), abs(b - g)) > max(16, 0.005 * g):
        p.update(black_level_r=r, black_level_g=g, black_level_b=b)
    return p


@dataclass
class LuxFit:
    shutter_us: float
    gain: float
    lux: float
    y16: float
    spread: float  # max/min of the per-capture constants: how consistent the captures are


def frame_y16(cap: Capture) -> float:
    """Mean green level of the whole frame, normalised to the 16-bit scale as libcamera's statistics are."""
    p = cap.planes()
    g = 0.5 * (float(p["Gr"].mean()) + float(p["Gb"].mean()))
    return g / (cap.white - float(np.mean(cap.black))) * 65535.0


def fit_lux(charts: list[tuple[Capture, float]]) -> LuxFit | None:
    """The reference from (capture, its ``frame_y16``) pairs; None when no capture says how it was exposed."""
    rows = [(cap.lux * cap.exposure_us * cap.gain / y, cap, y) for cap, y in charts
            if cap.exposure_us and cap.gain and cap.lux and y > 0]
    if not rows:
        return None
    rows.sort(key=lambda r: r[0])
    _, cap, y = rows[len(rows) // 2]
    return LuxFit(cap.exposure_us, cap.gain, cap.lux, y, rows[-1][0] / rows[0][0])


def lux_block(fit: LuxFit, base: dict | None) -> dict:
    p = dict(base or {})
    p.update(reference_shutter_speed=int(round(fit.shutter_us)), reference_gain=round(fit.gain, 3),
             reference_aperture=p.get("reference_aperture", 1.0), reference_lux=int(round(fit.lux)),
             reference_Y=int(round(fit.y16)))
    return p
