"""The blocks calibration does not measure, for a file made without ``--base``: a sensible libcamera set.

``camtune calibrate`` fits black level, lux, noise, AWB curve, ALSC and CCMs; everything else - AGC metering
and exposure profiles, AWB priors and modes, denoise, sharpening, the tone curve - comes from a base file. With
no base, these are used: modelled on Raspberry Pi's own files for the HQ camera (centre-weighted metering,
the same exposure profiles and AWB priors), with the grids each target needs (15 vs 15x15 metering zones).
"""

from __future__ import annotations

import numpy as np

from .curves import srgb_gamma_curve
from .file import TuningFile
from .hardware import Platform

# vc4's 15 metering zones: centre, inner ring, outer ring (libcamera's imx477 weights).
_VC4_CENTRE_WEIGHTED = [4, 4, 4, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0]
_VC4_SPOT = [2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]

# Gentle priors: dim scenes lean warm, bright ones lean to daylight; never strong enough to override a grey.
AWB_PRIORS = [{"lux": 0, "prior": [2000, 1.0, 3000, 0.0, 13000, 0.0]},
              {"lux": 800, "prior": [2000, 0.0, 13000, 0.0]},
              {"lux": 1500, "prior": [2000, 0.0, 4000, 0.5, 6000, 1.0, 13000, 1.0]}]
AWB_MODES = {"auto": {"lo": 2500, "hi": 8000}, "incandescent": {"lo": 2500, "hi": 3000},
             "tungsten": {"lo": 3000, "hi": 3500}, "fluorescent": {"lo": 4000, "hi": 4700},
             "indoor": {"lo": 3000, "hi": 5000}, "daylight": {"lo": 5500, "hi": 6500},
             "cloudy": {"lo": 7000, "hi": 8600}}


def _grid_weights(n: int, kind: str) -> list[int]:
    """Metering weights on pisp's n x n zones: 4 in the centre falling to 0 at the corners, or a spot."""
    c = (n - 1) / 2.0
    yy, xx = np.mgrid[0:n, 0:n]
    r = np.hypot(xx - c, yy - c) / c
    w = np.where(r < 0.25, 4, np.where(r < 0.6, 2, np.where(r < 1.0, 1, 0))) if kind == "centre" \
        else np.where(r < 0.2, 1, 0)
    return [int(v) for v in w.ravel()]


def agc_block(platform: Platform, max_gain: float = 16.0) -> dict:
    """libcamera's HQ-camera AGC (metering, exposure and constraint modes), its exposure modes ending at
    ``max_gain``: the sensor's largest analogue gain, so low light goes as far as the sensor allows (the stock
    files end at 16; beyond the sensor's range libcamera would make up the rest with ISP digital gain)."""
    if platform.agc_weights == 15:
        metering = {"centre-weighted": {"weights": _VC4_CENTRE_WEIGHTED}, "spot": {"weights": _VC4_SPOT},
                    "matrix": {"weights": [1] * 15}}
    else:
        n = int(round(platform.agc_weights ** 0.5))
        metering = {"centre-weighted": {"weights": _grid_weights(n, "centre")},
                    "spot": {"weights": _grid_weights(n, "spot")}, "matrix": {"weights": [1] * platform.agc_weights}}
    g = [1.0, 2.0, 4.0, 6.0, round(float(max_gain), 2)]
    channel = {
        "metering_modes": metering,
        "exposure_modes": {"normal": {"shutter": [100, 10000, 30000, 60000, 66666], "gain": g},
                           "short": {"shutter": [100, 5000, 10000, 20000, 66666], "gain": g},
                           "long": {"shutter": [100, 10000, 30000, 60000, 120000], "gain": g}},
        "constraint_modes": {
            "normal": [{"bound": "LOWER", "q_lo": 0.98, "q_hi": 1.0, "y_target": [0, 0.5, 1000, 0.5]}],
            "highlight": [{"bound": "LOWER", "q_lo": 0.98, "q_hi": 1.0, "y_target": [0, 0.5, 1000, 0.5]},
                          {"bound": "UPPER", "q_lo": 0.98, "q_hi": 1.0, "y_target": [0, 0.8, 1000, 0.8]}],
            "shadows": [{"bound": "LOWER", "q_lo": 0.0, "q_hi": 0.5, "y_target": [0, 0.17, 1000, 0.17]}]},
        "y_target": [0, 0.16, 1000, 0.165, 10000, 0.17],
    }
    return {"channels": [channel]}


def denoise_block(platform: Platform) -> tuple[str, dict]:
    """vc4's spatial denoise, or pisp's denoise modes (libcamera's HQ-camera values)."""
    if platform.name == "vc4":
        return "rpi.sdn", {}
    normal = {"sdn": {"deviation": 1.6, "strength": 0.5, "deviation2": 3.2, "deviation_no_tdn": 3.2,
                      "strength_no_tdn": 0.5},
              "cdn": {"deviation": 200, "strength": 0.3}, "tdn": {"deviation": 0.8, "threshold": 0.05}}
    return "rpi.denoise", {"normal": normal}


def default_tuning(platform: Platform, source: str = "<defaults>", max_gain: float = 16.0) -> TuningFile:
    """A complete file with every block; the calibrated ones hold placeholders until calibration fills them.

    ``max_gain``: the sensor's largest analogue gain, where the AGC's exposure modes end."""
    denoise = denoise_block(platform)
    cols, rows = platform.alsc_grid
    algos = [
        ("rpi.black_level", {"black_level": 4096}),
        ("rpi.dpc", {}),
        ("rpi.lux", {"reference_shutter_speed": 10000, "reference_gain": 1.0, "reference_aperture": 1.0,
                     "reference_lux": 1000, "reference_Y": 12000}),
        ("rpi.noise", {"reference_constant": 0, "reference_slope": 3.0}),
        denoise,
        ("rpi.awb", {"priors": AWB_PRIORS, "modes": AWB_MODES, "bayes": 1,
                     "ct_curve": [2850, 0.5, 0.3, 6500, 0.35, 0.6], "sensitivity_r": 1.0, "sensitivity_b": 1.0,
                     "transverse_pos": 0.01, "transverse_neg": 0.01}),
        ("rpi.agc", agc_block(platform, max_gain)),
        ("rpi.alsc", {"omega": 1.3, "n_iter": 100, "luminance_strength": 0.8 if platform.name == "pisp" else 0.5,
                      "calibrations_Cr": [], "calibrations_Cb": [], "luminance_lut": [1.0] * (cols * rows),
                      "sigma": 0.005, "sigma_Cb": 0.005}),
        ("rpi.contrast", {"ce_enable": 0, "gamma_curve": [int(v) for v in srgb_gamma_curve(platform.gamma_points).flat()]}),
        ("rpi.ccm", {"ccms": [{"ct": 4000, "ccm": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]}]}),
        ("rpi.sharpen", {"threshold": 1.0, "strength": 1.0, "limit": 1.0}),
    ]
    return TuningFile(version=2.0, target=platform.target, algorithms=algos, source=source)
