"""Figures that describe a look: tone codes, chroma and colour difference from ``neutral`` on a ColorChecker.

Host-side (colour-science, through ``firmware.colour``): ``camtune looks``, the README table and the tests use
it. The chart is rendered as a perfectly calibrated camera would deliver it (the chart's linear sRGB under D65),
then through the look's colour transform, its saturation in good light (1000 lux) and its tone curve.
"""

from __future__ import annotations

import numpy as np

from ..colour.chart import reference_srgb_linear
from ..colour.spectra import colour_science
from .blocks import apply_saturation
from .curves import srgb_decode
from .looks import Look, load_look
from .pwl import Pwl
from .tone import tone_value

FIGURE_LUX = 1000.0


def render_chart(look: Look, linear_srgb: np.ndarray) -> np.ndarray:
    """Encoded (0..1) sRGB of linear sRGB values through the look, as the ISP would render them."""
    m = look.matrix
    if look.saturation is not None:
        m = apply_saturation(m, float(Pwl(look.saturation).eval(FIGURE_LUX)))
    lin = np.clip(np.asarray(linear_srgb) @ m.T, 0.0, 1.0)
    return tone_value(lin, look.contrast, look.mid_grey)


def chart_lab(encoded: np.ndarray) -> np.ndarray:
    """CIE Lab (D65) of encoded sRGB values, as a viewer would see them on an sRGB display."""
    colour = colour_science()
    xyz = colour.RGB_to_XYZ(srgb_decode(encoded), colour.RGB_COLOURSPACES["sRGB"], apply_cctf_decoding=False)
    return colour.XYZ_to_Lab(xyz, colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"])


def look_figures(look: Look | str) -> dict[str, float]:
    look = look if isinstance(look, Look) else load_look(look)
    neutral = load_look("neutral")
    ref = reference_srgb_linear(6500.0, "d65")
    lab = chart_lab(render_chart(look, ref))
    lab_n = chart_lab(render_chart(neutral, ref))
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    chroma_n = np.hypot(lab_n[:, 1], lab_n[:, 2])
    colour_patches = slice(0, 18)  # the six greys carry no chroma to compare
    de = colour_science().delta_E(lab, lab_n, method="CIE 2000")
    code = lambda x: 255.0 * float(tone_value(x, look.contrast, look.mid_grey))  # noqa: E731
    return {
        "mid_grey_8bit": code(0.18), "shadow_8bit": code(0.02), "highlight_8bit": code(0.90),
        "chroma_ratio": float(chroma[colour_patches].mean() / chroma_n[colour_patches].mean()),
        "max_chroma": float(chroma.max()),
        "delta_e_from_neutral": float(de.mean()),
        "falloff_kept": 1.0 - (look.luminance_strength if look.luminance_strength is not None else 1.0),
        "sharpen": float(look.sharpen_scale.get("strength", 1.0)),
    }
