#!/usr/bin/env python3
"""Write a mock sensor's tuning file straight from its physics (the ideal calibration).

The mock's own tuning files under ``tuning/mock/`` come from ``camtune calibrate`` on mock captures; this tool
gives the ideal answer that calibration is measured against, and bootstraps a checkout before calibration.

    python tools/make_mock_tuning.py --model imx477 --target vc4 -o /tmp/imx477_ideal.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firmware.sensor.mock import spectral, truth  # noqa: E402
from firmware.sensor.mock.models import sensor_model  # noqa: E402
from firmware.sensor.mock.render import Renderer, mode_levels  # noqa: E402
from firmware.sensor.mock.scenes import make_scene  # noqa: E402
from firmware.tuning import TuningFile  # noqa: E402
from firmware.tuning.curves import srgb_gamma_curve  # noqa: E402

CURVE_CTS = (2300, 2600, 2850, 3200, 3600, 4000, 4500, 5000, 5500, 6500, 7500, 9000)
CCM_CTS = (2850, 4000, 5000, 6500, 7500)
ALSC_CTS = (2850, 4000, 6500)
GRIDS = {"bcm2835": (16, 12), "pisp": (32, 32)}


def _r(values, nd=4):
    return [round(float(v), nd) for v in np.ravel(values)]


def build(model_name: str, target: str) -> TuningFile:
    model = sensor_model(model_name)
    mode = model.info.mode()
    curve = []
    for ct in CURVE_CTS:
        r, b = truth.neutral_rb(ct)
        curve += [ct, round(r, 4), round(b, 4)]
    ref = truth.colorchecker_srgb_linear()
    ccms = []
    for ct in CCM_CTS:
        light = spectral.Lighting(ct, "auto", 1000.0)
        white = truth.white_rgb(light)
        wb = truth.colorchecker_camera(light) / white  # white-balanced: greys have R = G = B
        wb *= ref[18, 1] / wb[18, 1]  # exposed so the white patch matches the reference
        ccms.append({"ct": ct, "ccm": _r(truth.fit_ccm_least_squares(wb, ref), 5)})
    grid = GRIDS[target]
    cr, cb, lum = [], [], None
    for ct in ALSC_CTS:
        s = truth.shading(model, spectral.Lighting(ct, "auto"), grid, mode)
        r_tab, b_tab = s[..., 1] / s[..., 0], s[..., 1] / s[..., 2]
        cr.append({"ct": ct, "table": _r(r_tab / r_tab.min(), 3)})
        cb.append({"ct": ct, "table": _r(b_tab / b_tab.min(), 3)})
        lum = 1.0 / s[..., 1] if lum is None else lum
    lum = lum / lum.min()
    lv = mode_levels(model, mode)
    levels = np.linspace(0, 60000, 61)
    std = np.sqrt(truth.noise_variance_16(model, mode, levels))
    slope, const = np.polyfit(np.sqrt(levels), std, 1)
    # rpi.lux reference: the ColorChecker scene at 1000 lux (D65), 10 ms, gain 1.
    renderer = Renderer(model, make_scene("colorchecker", model.info.pixel_array_size))
    sig = renderer.signal(model.info.mode(), spectral.Lighting(6500, "daylight", 1000.0))
    ref_y = sig.green_mean * lv.dn_per_electron * 2 ** (16 - lv.bit_depth)
    algos = [
        ("rpi.black_level", {"black_level": model.info.black_level_16}),
        ("rpi.dpc", {}),
        ("rpi.lux", {"reference_shutter_speed": 10000, "reference_gain": 1.0, "reference_aperture": 1.0,
                     "reference_lux": 1000, "reference_Y": int(round(ref_y))}),
        ("rpi.noise", {"reference_constant": round(float(const), 3), "reference_slope": round(float(slope), 4)}),
        ("rpi.awb", {
            "priors": [{"lux": 0, "prior": [2000, 1.0, 3000, 0.0, 13000, 0.0]},
                       {"lux": 800, "prior": [2000, 0.0, 13000, 0.0]},
                       {"lux": 1500, "prior": [2000, 0.0, 4000, 0.5, 6000, 1.0, 13000, 1.0]}],
            "modes": {"auto": {"lo": 2500, "hi": 8000}, "incandescent": {"lo": 2500, "hi": 3000},
                      "tungsten": {"lo": 3000, "hi": 3500}, "fluorescent": {"lo": 4000, "hi": 4700},
                      "indoor": {"lo": 3000, "hi": 5000}, "daylight": {"lo": 5500, "hi": 6500},
                      "cloudy": {"lo": 7000, "hi": 8600}},
            "bayes": 1, "ct_curve": curve, "sensitivity_r": 1.0, "sensitivity_b": 1.0,
            "transverse_pos": 0.01, "transverse_neg": 0.01}),
        ("rpi.agc", {"channels": [{
            "metering_modes": {"centre-weighted": {"weights": [4, 4, 4, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0]},
                               "spot": {"weights": [2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]},
                               "matrix": {"weights": [1] * 15}},
            "exposure_modes": {"normal": {"shutter": [100, 10000, 30000, 60000, 66666], "gain": [1.0, 2.0, 4.0, 6.0, 8.0]},
                               "short": {"shutter": [100, 5000, 10000, 20000, 33333], "gain": [1.0, 2.0, 4.0, 6.0, 8.0]},
                               "long": {"shutter": [100, 10000, 30000, 60000, 120000], "gain": [1.0, 2.0, 4.0, 6.0, 12.0]}},
            "constraint_modes": {"normal": [{"bound": "LOWER", "q_lo": 0.98, "q_hi": 1.0, "y_target": [0, 0.5, 1000, 0.5]}],
                                 "highlight": [{"bound": "LOWER", "q_lo": 0.98, "q_hi": 1.0, "y_target": [0, 0.5, 1000, 0.5]},
                                               {"bound": "UPPER", "q_lo": 0.98, "q_hi": 1.0, "y_target": [0, 0.8, 1000, 0.8]}]},
            "y_target": [0, 0.16, 1000, 0.165, 10000, 0.17]}]}),
        ("rpi.alsc", {"omega": 1.3, "n_iter": 100, "luminance_strength": 0.8 if target == "pisp" else 0.5,
                      "calibrations_Cr": cr, "calibrations_Cb": cb, "luminance_lut": _r(lum, 3),
                      "sigma": 0.005, "sigma_Cr": 0.005, "sigma_Cb": 0.005}),
        ("rpi.contrast", {"ce_enable": 0, "gamma_curve": [int(v) for v in srgb_gamma_curve().flat()]}),
        ("rpi.ccm", {"ccms": ccms}),
        ("rpi.sharpen", {"threshold": 1.0, "strength": 1.0, "limit": 1.0}),
    ]
    return TuningFile(version=2.0, target=target, algorithms=algos, source=f"<ideal {model_name}>")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="imx477", choices=["imx477", "imx708"])
    ap.add_argument("--target", default="vc4", choices=["vc4", "pisp"])
    ap.add_argument("-o", "--output", required=True, type=Path)
    args = ap.parse_args(argv)
    tf = build(args.model, "bcm2835" if args.target == "vc4" else "pisp")
    tf.save(args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
