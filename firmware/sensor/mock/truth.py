"""Ground truth of the mock sensor, straight from its physics: what calibration should find.

Tests compare calibrated results against these (shading within 2 %, white balance curve, noise). Nothing on
the capture path uses them: the mock's IPA and our ISP only ever see the tuning file, as on a real camera.
The chart's reference colours are the ground floor's (``firmware.colour.chart``); functions that take a
``model`` default to the hand-made IMX477's camera.
"""

from __future__ import annotations

import numpy as np

from ...colour import chart
from ..protocol import SensorMode
from . import optics, spectral
from .models import SensorModel
from .render import mode_levels


def _camera(model: SensorModel | None):
    return spectral.DEFAULT_CAMERA if model is None else model.camera


def white_rgb(lighting: spectral.Lighting, model: SensorModel | None = None) -> np.ndarray:
    """Camera response (3,) of a perfect white at the optical centre."""
    return _camera(model).responses(np.ones((1, len(spectral.WAVELENGTHS))), lighting)[0]


def neutral_rb(ct: float, source: str = "auto", model: SensorModel | None = None) -> tuple[float, float]:
    """(R/G, B/G) of a grey under the light - one point of ``rpi.awb``'s ``ct_curve``."""
    w = white_rgb(spectral.Lighting(ct, source, 1000.0), model)
    return float(w[0] / w[1]), float(w[2] / w[1])


def colorchecker_camera(lighting: spectral.Lighting, model: SensorModel | None = None) -> np.ndarray:
    """Raw camera responses (24, 3) of the ColorChecker patches (no shading)."""
    _, refl = spectral.colorchecker_reflectances()
    return _camera(model).responses(refl, lighting)


def colorchecker_xyz() -> np.ndarray:
    """The chart's reference: XYZ (24, 3) of each patch under D65, white Y = 1."""
    return chart.reference_xyz(6500.0, "d65")


def colorchecker_srgb_linear() -> np.ndarray:
    """The chart's reference in linear sRGB (24, 3): what a perfect camera + CCM would output."""
    return chart.reference_srgb_linear(6500.0, "d65")


def shading(model: SensorModel, lighting: spectral.Lighting, grid: tuple[int, int],
            mode: SensorMode | None = None) -> np.ndarray:
    """The optics' true per-channel gain averaged over each cell of a grid (rows, cols, 3) on a mode."""
    mode = mode or model.info.mode()
    cols, rows = grid
    fx, fy = optics.array_coords(model, mode)
    # Sample each cell densely enough that its mean is exact to well below 0.1 %.
    xx = np.array([fx[int(i)] for i in np.linspace(0, len(fx) - 1, cols * 16)])
    yy = np.array([fy[int(i)] for i in np.linspace(0, len(fy) - 1, rows * 16)])
    s = optics.shading_at(model, lighting, xx[None, :], yy[:, None])
    return s.reshape(rows, 16, cols, 16, 3).mean(axis=(1, 3))


def noise_variance_16(model: SensorModel, mode: SensorMode, level_16, gain: float = 1.0):
    """Noise variance on libcamera's 16-bit scale at a signal level above black (16-bit)."""
    lv = mode_levels(model, mode)
    scale = 2.0 ** (16 - lv.bit_depth)
    return lv.variance_dn(np.asarray(level_16) / scale, gain) * scale**2


def colorchecker_xyz_adapted(ct: float, source: str = "auto") -> np.ndarray:
    """The chart under the light at ``ct``, carried to D65 with the Bradford transform (white Y = 1).

    What an observer adapted to that light sees; the reference ``camtune calibrate --reference adapted`` fits
    colour matrices to. At 6500 K daylight it equals ``colorchecker_xyz()``.
    """
    return chart.reference_xyz(ct, "adapted", spectral.Lighting(ct, source).source)


def colorchecker_srgb_linear_adapted(ct: float, source: str = "auto") -> np.ndarray:
    """``colorchecker_xyz_adapted`` in linear sRGB (24, 3): the chart's reference for a shot under ``ct``."""
    return chart.reference_srgb_linear(ct, "adapted", spectral.Lighting(ct, source).source)


def colorchecker_srgb_reference(ct: float = 6500.0, source: str = "auto") -> np.ndarray:
    """The chart's reference as an sRGB file can hold it (24, 3): the adapted values clipped to the gamut.

    The cyan patch lies just outside sRGB (linear red about -0.03); no sRGB image can show it. This is the
    target for developed JPEGs and TIFFs.
    """
    return chart.reference_srgb(ct, "adapted", spectral.Lighting(ct, source).source)


def noise_profile(model: SensorModel, mode: SensorMode | None = None) -> tuple[float, float]:
    """libcamera's ``rpi.noise`` (reference_constant, reference_slope) that describes the model exactly.

    The gain-1 profile of a full-resolution readout, fitted as std = constant + slope sqrt(level) over the
    16-bit levels 0..60000 (the form libcamera uses; the physics is var = k level + read^2).
    """
    mode = mode or model.info.mode()
    levels = np.linspace(0, 60000, 61)
    std = np.sqrt(noise_variance_16(model, mode, levels))
    slope, const = np.polyfit(np.sqrt(levels), std, 1)
    return float(const), float(slope)
