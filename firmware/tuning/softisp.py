"""Export a Raspberry Pi tuning file for libcamera's software ISP (the ``simple``/``softisp`` IPA, YAML version 1).

Boards without a Raspberry Pi ISP (the Snapdragon kit) run libcamera's soft ISP, whose tuning is a much
smaller YAML file: ``BlackLevel`` (``blackLevel`` on the 16-bit scale), ``Awb`` (grey world, no keys),
``Ccm`` (``ccms`` by colour temperature, interpolated like ``rpi.ccm``), ``Adjust`` and ``Agc``. What carries
over from an RPi file and a look:

* the black level and the calibrated CCMs with the look's colour transform already composed in;
* the look's saturation, folded into the matrices at one scene brightness (``lux``), with the same BT.601
  formula libcamera uses (the soft ISP has no lux-dependent saturation);
* the look's tone curve cannot be a tuning key in released libcamera (v0.7 removed ``Lut``; gamma and contrast
  are the ``Gamma`` and ``Contrast`` controls). We fit the soft ISP's gamma + S-curve model to the look's
  curve and write the values as a comment for the application to set, or - with ``adjust_keys`` - as the
  ``Adjust`` keys of the unmerged libcamera PR #19.

Lens shading, noise and the AWB curve have no soft-ISP equivalent and are left out (named in the header).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import TuningError
from .blocks import BlackLevel, Ccm, Contrast, apply_saturation
from .file import TuningFile


def softisp_tone(x, gamma: float, contrast: float):
    """The soft ISP's tone map (``Adjust``/``Lut``): an S-curve about 0.5 then a power of 1/gamma."""
    e = math.tan(min(max(contrast * math.pi / 4, 0.0), math.pi / 2 - 1e-5))
    x = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    s = np.where(x < 0.5, 0.5 * np.power(x / 0.5, e), 1.0 - 0.5 * np.power((1.0 - x) / 0.5, e))
    return np.power(s, 1.0 / gamma)


def fit_adjust(tf: TuningFile) -> tuple[float, float, float]:
    """(gamma, contrast, rms error) of the soft ISP curve closest to the file's ``rpi.contrast`` curve."""
    from scipy.optimize import minimize

    curve = Contrast.read(tf).gamma
    # Weight the shadows and midtones, where a tone curve's character lives: log-spaced inputs.
    x = np.geomspace(1.0 / 1024, 1.0, 96)
    target = curve.eval(x * 65535.0) / 65535.0

    def err(p):
        return float(np.mean((softisp_tone(x, p[0], p[1]) - target) ** 2))

    best = minimize(err, [2.2, 1.0], method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-10})
    gamma = float(np.clip(best.x[0], 0.1, 10.0))
    contrast = float(np.clip(best.x[1], 0.0, 2.0))
    return gamma, contrast, math.sqrt(err([gamma, contrast]))


def _matrix_rows(m: np.ndarray, indent: str) -> str:
    rows = [", ".join(f"{v: .5f}" for v in m[r]) for r in range(3)]
    return f"[ {rows[0]},\n{indent}  {rows[1]},\n{indent}  {rows[2]} ]"


def export_softisp(tf: TuningFile, lux: float = 400.0, adjust_keys: bool = False) -> str:
    """The soft-ISP YAML text for ``tf``."""
    try:
        ccm = Ccm.read(tf)
    except (TuningError, KeyError, ValueError) as exc:
        raise TuningError(f"{tf.source}: rpi.ccm: needed for the soft ISP's Ccm: {exc}") from None
    sat = float(ccm.saturation.eval(np.clip(lux, *ccm.saturation.domain))) if ccm.saturation else 1.0
    black = BlackLevel.read(tf)
    lines = [
        f"# libcamera software-ISP tuning, written by camtune export-softisp from {tf.source}",
        f"# Colour: {len(ccm.cts)} CCMs ({', '.join(f'{c:g}' for c in ccm.cts)} K)"
        + (f", saturation {sat:.3g} (the rpi.ccm saturation at {lux:g} lux) folded in" if ccm.saturation else ""),
    ]
    adjust = None
    if tf.block("rpi.contrast") is not None:
        gamma, contrast, rms = fit_adjust(tf)
        adjust = (gamma, contrast)
        lines.append(f"# Tone: the rpi.contrast curve is closest to Gamma={gamma:.3f} Contrast={contrast:.3f} "
                     f"(rms {rms * 255:.1f}/255);")
        lines.append("#   released libcamera takes these as controls, not tuning keys: set them in the application.")
    lines.append("# Not expressible in this format (left out): lens shading (rpi.alsc), the AWB ct_curve, noise "
                 "profile, sharpening.")
    lines += ["%YAML 1.1", "---", "version: 1", "algorithms:", "  - BlackLevel:",
              f"      blackLevel: {int(round(np.mean([black.r, black.g, black.b])))}", "  - Awb:", "  - Ccm:",
              "      ccms:"]
    for ct, m in zip(ccm.cts, ccm.matrices):
        m = apply_saturation(m, sat) if sat != 1.0 else m
        lines.append(f"        - ct: {int(round(ct))}")
        lines.append(f"          ccm: {_matrix_rows(np.round(m, 5), '               ')}")
    lines.append("  - Adjust:")
    if adjust_keys and adjust is not None:
        lines += ["      # Keys of libcamera PR #19 (unmerged): ignored by released versions.",
                  f"      gamma: {adjust[0]:.3f}", f"      contrast: {adjust[1]:.3f}", "      saturation: 1.0"]
    lines += ["  - Agc:", "..."]
    return "\n".join(lines) + "\n"
