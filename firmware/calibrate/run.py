"""Run a whole calibration: captures in a directory -> a libcamera tuning file, and what it measured.

The order matters, as in the Raspberry Pi tool: black level first (everything is measured above it), lens
shading next (ColorChecker patches are measured after shading correction, as libcamera's AWB sees them), then
the neutral of each ColorChecker capture, the AWB curve through them, the colour matrices white-balanced on
that curve, the noise profile and the lux reference. Blocks calibration does not measure come from the base
file (or ``defaults.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import TuningError
from ..tuning.defaults import default_tuning
from ..tuning.file import TuningFile
from ..tuning.hardware import Platform, platform_for
from ..tuning.validate import check
from . import reference as ref
from .alsc import AlscFit, alsc_block, fit_alsc
from .awb import AwbFit, awb_block, fit_awb, neutral
from .ccm import CcmFit, ccm_block, chart_neutral, fit_ccm
from .chart import find_patches, patch_means, patch_noise
from .images import Capture, PatchRect, mode_factor, scan
from .levels import BlackFit, LuxFit, black_block, fit_black, fit_lux, frame_y16, lux_block
from .noise import NoiseFit, fit_noise, noise_block, to_reference

# Canonical block order of libcamera's files, for inserting a block the base lacks.
ORDER = ("rpi.black_level", "rpi.dpc", "rpi.lux", "rpi.noise", "rpi.geq", "rpi.sdn", "rpi.denoise", "rpi.awb",
         "rpi.nn.awb", "rpi.agc", "rpi.alsc", "rpi.contrast", "rpi.ccm", "rpi.sharpen")
CLIP = 0.9  # a patch brighter than this fraction of full scale may have clipped: left out of colour fits


@dataclass
class ChartShot:
    """One ColorChecker capture, measured."""

    capture: Capture
    rects: list[PatchRect]
    found: bool  # patches located in the picture (True) or read from the patch file
    raw_means: np.ndarray  # (24, 3) above black
    corrected: np.ndarray  # (24, 3) after full-strength lens shading correction
    used: np.ndarray  # (24,) bool, not clipped
    neutral: tuple[float, float]  # from the whole chart
    grey_neutral: tuple[float, float]  # from the grey patches alone


@dataclass
class Calibration:
    tuning: TuningFile
    platform: Platform
    reference: str
    mode_factor: int
    black: BlackFit
    alsc: AlscFit | None
    awb: AwbFit
    charts: list[ChartShot]
    ccms: list[CcmFit]
    noise: NoiseFit
    lux: LuxFit | None
    notes: list[str] = field(default_factory=list)


def _put(tf: TuningFile, name: str, params: dict) -> None:
    if tf.block(name, enabled_only=False) is not None:
        tf.set_block(name, params)
        return
    names = tf.names()
    rank = ORDER.index(name)
    before = [i for i, n in enumerate(names) if n in ORDER and ORDER.index(n) < rank]
    tf.algorithms.insert(before[-1] + 1 if before else 0, (name, params))


def shading_at(alsc: AlscFit | None, ct: float, rects: list[PatchRect], size: tuple[int, int]) -> np.ndarray:
    """(24, 3) full-strength correction gains at each patch centre, bilinear between grid cell centres."""
    out = np.ones((24, 3))
    if alsc is None:
        return out
    from scipy.ndimage import map_coordinates

    gains = alsc.gains(ct)
    rows, cols = gains.shape[:2]
    w, h = size
    for r in rects:
        cx, cy = r.centre
        u, v = cx / w * cols - 0.5, cy / h * rows - 0.5
        out[r.index] = [map_coordinates(gains[..., c], [[v], [u]], order=1, mode="nearest")[0] for c in range(3)]
    return out


def calibrate(directory: Path, target: str, base: Path | None = None, reference: str = "adapted",
              progress=lambda msg: None, max_gain: float = 16.0) -> Calibration:
    platform = platform_for(target)
    if base is not None:  # a broken base is reported now, not after the long steps
        base_tf = TuningFile.load(base)
        if base_tf.target != platform.target:
            raise TuningError(f"{base}: base is for {base_tf.target}, not {platform.target} ({platform.name})")
        check(base_tf, platform)
    caps, notes = scan(Path(directory))
    darks = [c for c in caps if c.kind == "dark"]
    flats = [c for c in caps if c.kind == "alsc"]
    charts = [c for c in caps if c.kind == "macbeth"]
    progress(f"{len(charts)} ColorChecker, {len(flats)} flat-field and {len(darks)} dark captures in {directory}")
    if not charts:
        raise TuningError(f"{directory}: no ColorChecker captures (<name>_<ct>k_<lux>l.dng): colour cannot be calibrated")
    factors = {mode_factor(c) for c in caps}
    mf = max(f for f, _ in factors)
    notes += [n for _, n in factors if n]
    if len({f for f, _ in factors}) > 1:
        notes.append("captures were made in modes with different binning; using the largest factor for noise")

    progress("black level")
    black = fit_black(darks, charts + flats, mf)
    alsc = fit_alsc(flats, platform.alsc_grid, progress) if flats else None
    if alsc is None:
        notes.append("no flat fields: lens shading not calibrated (rpi.alsc kept from the base), "
                     "ColorChecker patches measured without shading correction")

    ref_y = ref.reference_xyz(6500.0, "d65")[:, 1]
    shots: list[ChartShot] = []
    noise_samples = list(black.samples)
    levels = []
    for i, cap in enumerate(charts, 1):
        progress(f"ColorChecker {cap.path.name} ({i}/{len(charts)})")
        rects = cap.patches or find_patches(cap, ref_y)
        means = patch_means(cap, rects)
        used = means.max(axis=1) < CLIP * (cap.white - max(cap.black))
        if used.sum() < 18:
            raise TuningError(f"{cap.path.name}: {int((~used).sum())} patches near clipping: expose the chart less")
        gain = cap.gain or 1.0
        noise_samples += [to_reference(m, v, cap.scale16, gain, mf) for m, v in patch_noise(cap, rects)
                          if m < CLIP * (cap.white - max(cap.black))]
        corrected = means * shading_at(alsc, cap.ct, rects, (cap.width, cap.height))
        n = chart_neutral(corrected, cap.ct, reference, used)
        g = neutral(corrected)
        if max(abs(n[0] / g[0] - 1), abs(n[1] / g[1] - 1)) > 0.05:
            notes.append(f"{cap.path.name}: the chart's neutral and its grey patches disagree by over 5 %: "
                         "check the patches were found right")
        shots.append(ChartShot(cap, rects, cap.patches is None, means, corrected, used, n, g))
        levels.append((cap, frame_y16(cap)))
        cap.release()
    lux = fit_lux(levels)
    if lux is None:
        notes.append("no exposure/gain in the ColorChecker DNGs: rpi.lux kept from the base")

    progress("AWB curve")
    awb = fit_awb([(s.capture.ct, *s.neutral) for s in shots])
    if awb.dropped:
        notes.append("AWB: dropped " + ", ".join(f"{c:g} K" for c in awb.dropped) + " (out of order on the curve)")
    ccms = []
    for i, s in enumerate(shots, 1):
        progress(f"colour matrix {s.capture.ct:g} K ({i}/{len(shots)})")
        r, b = awb.rb(s.capture.ct)
        ccms.append(fit_ccm(s.corrected / np.array([r, 1.0, b]), s.capture.ct, reference, s.used))
    progress("noise profile")
    noise = fit_noise(noise_samples)

    tf = base_tf if base is not None else default_tuning(platform, max_gain=max_gain)
    tf.source = str(directory)
    _put(tf, "rpi.black_level", black_block(black))
    if lux is not None:
        _put(tf, "rpi.lux", lux_block(lux, tf.block("rpi.lux")))
    _put(tf, "rpi.noise", noise_block(noise))
    _put(tf, "rpi.awb", awb_block(awb, tf.block("rpi.awb")))
    if alsc is not None:
        _put(tf, "rpi.alsc", alsc_block(alsc, tf.block("rpi.alsc")))
    _put(tf, "rpi.ccm", ccm_block(ccms, tf.block("rpi.ccm")))
    check(tf, platform)
    return Calibration(tf, platform, reference, mf, black, alsc, awb, shots, ccms, noise, lux, notes)
