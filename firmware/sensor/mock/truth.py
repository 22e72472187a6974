"""Ground truth of the mock sensor, straight from its physics: what calibration should find.

Tests compare calibrated results against these (shading within 2 %, white balance curve, noise). Nothing on
the capture path uses them: the mock's IPA and our ISP only ever see the tuning file, as on a real camera.
"""

from __future__ import annotations

import numpy as np

from ..protocol import SensorMode
from . import optics, spectral
from .models import SensorModel
from .render import mode_levels


def white_rgb(lighting: spectral.Lighting) -> np.ndarray:
    """Camera response (3,) of a perfect white at the optical centre."""
    return spectral.responses(np.ones((1, len(spectral.WAVELENGTHS))), lighting)[0]


def neutral_rb(ct: float, source: str = "auto") -> tuple[float, float]:
    """(R/G, B/G) of a grey under the light - one point of ``rpi.awb``'s ``ct_curve``."""
    w = white_rgb(spectral.Lighting(ct, source, 1000.0))
    return float(w[0] / w[1]), float(w[2] / w[1])


def colorchecker_camera(lighting: spectral.Lighting) -> np.ndarray:
    """Raw camera responses (24, 3) of the ColorChecker patches (optical centre, no shading)."""
    _, refl = spectral.colorchecker_reflectances()
    return spectral.responses(refl, lighting)


def colorchecker_xyz() -> np.ndarray:
    """The chart's reference: XYZ (24, 3) of each patch under D65, white Y = 1."""
    _, refl = spectral.colorchecker_reflectances()
    return spectral.xyz(refl)


XYZ_TO_SRGB = np.array([[3.2404542, -1.5371385, -0.4985314],
                        [-0.9692660, 1.8760108, 0.0415560],
                        [0.0556434, -0.2040259, 1.0572252]])


def colorchecker_srgb_linear() -> np.ndarray:
    """The chart's reference in linear sRGB (24, 3): what a perfect camera + CCM would output."""
    return colorchecker_xyz() @ XYZ_TO_SRGB.T


def fit_ccm_least_squares(camera_wb: np.ndarray, target: np.ndarray) -> np.ndarray:
    """3x3 matrix M minimising |camera_wb @ M.T - target| with each row summing to 1 (greys stay grey)."""
    from ...tuning.calibrate.ccm import white_preserving_lstsq

    return white_preserving_lstsq(camera_wb, target)


def shading(model: SensorModel, lighting: spectral.Lighting, grid: tuple[int, int],
            mode: SensorMode | None = None) -> np.ndarray:
    """The optics' true per-channel gain averaged over each cell of a grid (rows, cols, 3) on a mode."""
    mode = mode or model.info.mode()
    cols, rows = grid
    u, v = optics.array_coords(model, mode)
    # Sample each cell densely enough that its mean is exact to well below 0.1 %.
    uu = np.array([u[int(i)] for i in np.linspace(0, len(u) - 1, cols * 16)])
    vv = np.array([v[int(i)] for i in np.linspace(0, len(v) - 1, rows * 16)])
    s = optics.shading_at(model, lighting, uu[None, :], vv[:, None])
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
    import colour

    _, refl = spectral.colorchecker_reflectances()
    light = spectral.Lighting(ct, source)
    xyz = spectral.xyz(refl, ct, light.source)
    white = spectral.xyz(np.ones((1, refl.shape[1])), ct, light.source)[0]
    white65 = spectral.xyz(np.ones((1, refl.shape[1])))[0]
    return colour.adaptation.chromatic_adaptation_VonKries(xyz, white, white65, transform="Bradford")


def colorchecker_srgb_linear_adapted(ct: float, source: str = "auto") -> np.ndarray:
    """``colorchecker_xyz_adapted`` in linear sRGB (24, 3): the chart's reference for a shot under ``ct``."""
    return colorchecker_xyz_adapted(ct, source) @ XYZ_TO_SRGB.T


def colorchecker_srgb_reference(ct: float = 6500.0, source: str = "auto") -> np.ndarray:
    """The chart's reference as an sRGB file can hold it (24, 3): the adapted values clipped to the gamut.

    The cyan patch lies just outside sRGB (linear red about -0.03); no sRGB image can show it, and the chart's
    published sRGB values are clipped the same way. This is the target for developed JPEGs and TIFFs.
    """
    return np.clip(colorchecker_srgb_linear_adapted(ct, source), 0.0, 1.0)


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
