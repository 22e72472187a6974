"""The calibration report: one PNG with the pictures a tuning engineer looks at first.

* ColorChecker swatches per colour temperature: each patch shows the reference (top), the camera after white
  balance alone (middle, "before") and after the fitted matrix (bottom, "after"), with its CIEDE2000;
* CIEDE2000 per patch for every colour temperature;
* the lens shading found: light fall-off and the red and blue colour shading at the extreme colour temperatures;
* the AWB curve with each capture's neutral (from the whole chart and from the greys alone) and the
  transverse search band;
* the noise fit: measured standard deviation against sqrt(level) with libcamera's line.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..storage.atomic import atomic_write
from ..tuning.curves import srgb_encode
from . import reference as ref
from .run import Calibration

MAX_CHARTS = 4


def _figure():
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    return Figure(figsize=(18, 13), dpi=90, layout="constrained")


def _swatches(ax, reference: np.ndarray, before: np.ndarray, after: np.ndarray, de: np.ndarray, title: str):
    img = np.ones((4 * 12, 6 * 12, 3))
    for k in range(24):
        r, c = divmod(k, 6)
        y, x = r * 12 + 1, c * 12 + 1
        img[y:y + 3, x:x + 10] = reference[k]
        img[y + 3:y + 7, x:x + 10] = before[k]
        img[y + 7:y + 11, x:x + 10] = after[k]
    ax.imshow(img, interpolation="nearest")
    for k in range(24):
        r, c = divmod(k, 6)
        ax.text(c * 12 + 6, r * 12 + 9.5, f"{de[k]:.1f}", ha="center", va="center", fontsize=7,
                color="white" if after[k].mean() < 0.5 else "black")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def _encoded(linear: np.ndarray) -> np.ndarray:
    return srgb_encode(np.clip(linear, 0.0, 1.0))


def render(cal: Calibration):
    fig = _figure()
    grid = fig.add_gridspec(3, 4)
    shots = list(zip(cal.charts, cal.ccms))
    if len(shots) > MAX_CHARTS:
        idx = np.unique(np.linspace(0, len(shots) - 1, MAX_CHARTS).round().astype(int))
        shots = [shots[i] for i in idx]
    to_srgb = np.linalg.inv(ref.SRGB_TO_XYZ)
    for i, (shot, fit) in enumerate(shots):
        r, b = cal.awb.rb(shot.capture.ct)
        wb = shot.corrected / np.array([r, 1.0, b])
        k = ref.reference_xyz(fit.ct, cal.reference)[18:24, 1].sum() / wb[18:24, 1].sum()
        reference = _encoded(ref.reference_xyz(fit.ct, cal.reference) @ to_srgb.T)
        before = _encoded(wb * k)
        after = _encoded(wb @ fit.matrix.T * fit.scale)
        _swatches(fig.add_subplot(grid[0, i]), reference, before, after, fit.delta_e,
                  f"{shot.capture.path.name}: mean dE00 {fit.mean_delta_e:.2f} (white balance only "
                  f"{fit.delta_e_wb_only.mean():.1f})\nreference / before / after")
    ax = fig.add_subplot(grid[1, :2])
    width = 0.8 / len(cal.ccms)
    for j, fit in enumerate(cal.ccms):
        ax.bar(np.arange(24) + j * width, fit.delta_e, width, label=f"{fit.ct:g} K: mean {fit.mean_delta_e:.2f}")
    ax.set_xticks(np.arange(24) + 0.4 - width / 2, [str(k + 1) for k in range(24)], fontsize=7)
    ax.set_xlabel("ColorChecker patch")
    ax.set_ylabel("CIEDE2000")
    ax.set_title(f"Colour error after calibration (reference: {cal.reference})")
    ax.legend(fontsize=8)
    if cal.alsc is not None:
        a = cal.alsc
        panels = [("light fall-off (% of centre)", 100.0 / a.luminance * a.luminance.min(), "gray")]
        for ct in (a.cts[0], a.cts[-1]):
            panels.append((f"red gain {ct:g} K", a.cr[ct], "Reds"))
            panels.append((f"blue gain {ct:g} K", a.cb[ct], "Blues"))
        sub = grid[1, 2:].subgridspec(2, 3)
        for n, (title, table, cmap) in enumerate(panels[:6]):
            ax = fig.add_subplot(sub[n // 3, n % 3])
            im = ax.imshow(table, cmap=cmap)
            fig.colorbar(im, ax=ax, shrink=0.8)
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    ax = fig.add_subplot(grid[2, :2])
    aw = cal.awb
    ax.plot(aw.r, aw.b, "-", color="k", label="ct_curve")
    for ct, r, b in zip(aw.cts, aw.r, aw.b):
        ax.annotate(f"{ct:g} K", (r, b), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.plot([m[1] for m in aw.measured], [m[2] for m in aw.measured], "o", label="neutral from the chart")
    ax.plot([s.grey_neutral[0] for s in cal.charts], [s.grey_neutral[1] for s in cal.charts], "x",
            label="grey patches alone")
    t = np.array([[-d[1], d[0]] for d in np.diff(np.column_stack([aw.r, aw.b]), axis=0)])
    if len(t):
        t = t / np.linalg.norm(t, axis=1, keepdims=True)
        t = np.vstack([t, t[-1]])
        for sign, width_, style in ((1, aw.transverse_pos, ":"), (-1, aw.transverse_neg, ":")):
            ax.plot(np.array(aw.r) - sign * width_ * t[:, 0], np.array(aw.b) - sign * width_ * t[:, 1], style,
                    color="grey")
    ax.set_xlabel("r = R/G")
    ax.set_ylabel("b = B/G")
    ax.set_title(f"AWB curve, transverse +{aw.transverse_pos:g} / -{aw.transverse_neg:g}")
    ax.legend(fontsize=8)
    ax = fig.add_subplot(grid[2, 2:])
    s = cal.noise.samples
    ax.plot(np.sqrt(s[:, 0]), np.sqrt(s[:, 1]), ".", alpha=0.4, label="patches and dark frames")
    x = np.linspace(0, np.sqrt(max(s[:, 0].max(), 1.0)), 50)
    ax.plot(x, cal.noise.constant + cal.noise.slope * x, "-", color="k",
            label=f"rpi.noise: {cal.noise.constant:.2f} + {cal.noise.slope:.3f} sqrt(level)")
    ax.set_xlabel("sqrt(level), 16-bit scale")
    ax.set_ylabel("noise std at gain 1, full resolution")
    ax.set_title(f"Noise profile (mode factor {cal.mode_factor})")
    ax.legend(fontsize=8)
    fig.suptitle(f"camtune calibrate: {cal.tuning.source} -> {cal.platform.name}", fontsize=12)
    return fig


def write_report(cal: Calibration, path: Path) -> None:
    """Write the report PNG atomically."""
    buf = io.BytesIO()
    render(cal).savefig(buf, format="png")
    atomic_write(path, buf.getvalue())
