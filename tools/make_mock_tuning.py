#!/usr/bin/env python3
"""Write a mock sensor's tuning file straight from its physics (the ideal calibration).

The mock's own tuning files under ``tuning/mock/`` come from ``camtune calibrate`` on mock captures
(``tools/calibrate_mock_tuning.py``); this tool gives the ideal answer that calibration is measured against.
The tests build it in memory (``build(model, target)``) as their oracle.

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
from firmware.calibrate.ccm import white_preserving_lstsq  # noqa: E402
from firmware.tuning.defaults import default_tuning  # noqa: E402
from firmware.tuning.hardware import platform_for  # noqa: E402

CURVE_CTS = (2300, 2600, 2850, 3200, 3600, 4000, 4500, 5000, 5500, 6500, 7500, 9000)
CCM_CTS = (2850, 4000, 5000, 6500, 7500)
ALSC_CTS = (2850, 4000, 6500)


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
        ccms.append({"ct": ct, "ccm": _r(white_preserving_lstsq(wb, ref), 5)})
    grid = platform_for(target).alsc_grid
    cr, cb, lum = [], [], None
    for ct in ALSC_CTS:
        s = truth.shading(model, spectral.Lighting(ct, "auto"), grid, mode)
        r_tab, b_tab = s[..., 1] / s[..., 0], s[..., 1] / s[..., 2]
        cr.append({"ct": ct, "table": _r(r_tab / r_tab.min(), 3)})
        cb.append({"ct": ct, "table": _r(b_tab / b_tab.min(), 3)})
        lum = 1.0 / s[..., 1] if lum is None else lum
    lum = lum / lum.min()
    lv = mode_levels(model, mode)
    const, slope = truth.noise_profile(model, mode)
    # rpi.lux reference: the ColorChecker scene at 1000 lux (D65), 10 ms, gain 1.
    renderer = Renderer(model, make_scene("colorchecker", model.info.pixel_array_size))
    sig = renderer.signal(model.info.mode(), spectral.Lighting(6500, "daylight", 1000.0))
    # Y as the IPA's statistics report it: mean green above black, as a fraction of the range above black.
    ref_y = sig.green_mean * lv.dn_per_electron / (lv.white - lv.black) * 65535.0
    # Every block calibration does not measure comes from the same defaults camtune calibrate uses, so the
    # ideal and the calibrated files differ only where calibration measured something.
    tf = default_tuning(platform_for(target), source=f"<ideal {model_name}>", max_gain=model.gain_range[1])
    tf.set_block("rpi.black_level", {"black_level": model.info.black_level_16})
    tf.set_block("rpi.lux", {"reference_shutter_speed": 10000, "reference_gain": 1.0, "reference_aperture": 1.0,
                             "reference_lux": 1000, "reference_Y": int(round(ref_y))})
    tf.set_block("rpi.noise", {"reference_constant": round(float(const), 3), "reference_slope": round(float(slope), 4)})
    tf.set_block("rpi.awb", dict(tf.block("rpi.awb"), ct_curve=curve, transverse_pos=0.01, transverse_neg=0.01))
    tf.set_block("rpi.alsc", dict(tf.block("rpi.alsc"), calibrations_Cr=cr, calibrations_Cb=cb,
                                  luminance_lut=_r(lum, 3), sigma=0.005, sigma_Cr=0.005, sigma_Cb=0.005))
    tf.set_block("rpi.ccm", {"ccms": ccms})
    return tf


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
