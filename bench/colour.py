"""Colour and exposure against outside judges: our calibration held out, AWB at 2600/7500 K, a stock file, AE.

* ``held_out``: mock ColorCheckers at colour temperatures the committed calibration never saw, developed with
  ``tuning/mock/imx477.json`` and the gains the mock reported as shot, against the chart under that light
  (Bradford-adapted to D65, sRGB gamut) - mean CIEDE2000 over the patches and the lights.
* ``awb``: the same charts at 2600 and 7500 K with no gains (the ISP's own ``rpi.awb`` search) against the as-shot
  development.
* ``stock``: a mock chart developed with libcamera's stock ``imx477.json`` (vc4 and pisp) with its tone curve
  swapped for sRGB (the figure is about colour): what the ALSC normalisation fixed (~30 before).
* ``low light``: dead leaves at 2000 and 15 lux through AE: mean luma ratio, and the exposure AE chose.

Each figure is a quality figure, not a speed: no reference run is needed. ``--quick`` uses fewer lights.
"""

from __future__ import annotations

import dataclasses
import os
import warnings

import numpy as np

from firmware import paths
from firmware.clock import FakeClock
from firmware.isp import FrameInfo, build_pipeline
from firmware.tuning import TuningFile
from firmware.tuning.curves import srgb_decode, srgb_gamma_curve

HELD_OUT = (3000, 3400, 4200, 4800, 6000, 7000)  # none is a calibration light (tools/calibrate_mock_tuning.py)
LUMA = np.array([0.2126, 0.7152, 0.0722])


def _colour():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour
    return colour


def capture(scene: str, ct: float, lux: float, tuning: TuningFile | None = None, mode: str = "2028x1520"):
    """(raw, metadata, patches, tuning) of a mock frame after AE and AWB settled."""
    from firmware.sensor.mock.sensor import MockSensor
    from firmware.sensor.mock.spectral import Lighting

    cam = MockSensor("imx477", scene, Lighting(ct, "auto", lux), clock=FakeClock(), tuning=tuning)
    cam.configure(cam.info.mode(mode), 4)
    cam.start()
    for _ in range(40):
        cam.next_request(1.0).release()
    with cam.next_request(1.0) as req:
        raw, md = req.make_array("raw").copy(), req.get_metadata()
    patches, tuning = (cam.patches() if scene == "colorchecker" else None), cam.tuning
    cam.close()
    return raw, md, patches, tuning


def patch_linear(rgb8: np.ndarray, patches) -> np.ndarray:
    return np.array([srgb_decode(rgb8[p.y:p.y + p.height, p.x:p.x + p.width].reshape(-1, 3) / 255.0).mean(0)
                     for p in patches])


def delta_e(linear: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-patch CIEDE2000, exposure taken out with one scale fitted on the middle greys."""
    colour = _colour()
    d65 = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]
    srgb = colour.RGB_COLOURSPACES["sRGB"]
    y, y_ref = linear[19:23] @ LUMA, reference[19:23] @ LUMA
    lab = colour.XYZ_to_Lab(colour.RGB_to_XYZ(linear * (y @ y_ref) / (y @ y), srgb, apply_cctf_decoding=False), d65)
    ref = colour.XYZ_to_Lab(colour.RGB_to_XYZ(reference, srgb, apply_cctf_decoding=False), d65)
    return colour.delta_E(lab, ref, method="CIE 2000")


def developed(raw, md, patches, tuning, **frame_changes) -> tuple[np.ndarray, FrameInfo]:
    frame = dataclasses.replace(FrameInfo.from_metadata(md, "RGGB", 12), **frame_changes)
    pipe = build_pipeline(tuning, demosaic="fast")
    return patch_linear(pipe.run(raw, frame), patches), pipe.frame


def held_out(cts) -> float:
    from firmware.sensor.mock import truth

    return float(np.mean([delta_e(developed(*capture("colorchecker", ct, 800))[0],
                                  truth.colorchecker_srgb_reference(ct)).mean() for ct in cts]))


def awb(ct: float) -> tuple[float, float]:
    """(ours against as-shot, ours against the chart) mean CIEDE2000."""
    from firmware.sensor.mock import truth

    shot = capture("colorchecker", ct, 800)
    mine, _ = developed(*shot, colour_gains=None, colour_temperature=None)
    as_shot, _ = developed(*shot)
    return float(delta_e(mine, as_shot).mean()), float(delta_e(mine, truth.colorchecker_srgb_reference(ct)).mean())


def stock(target: str, ct: float) -> float | None:
    from firmware.sensor.mock import truth

    ref = paths.shared_reference_dir()
    if ref is None:
        return None
    tf = TuningFile.load(ref / "libcamera-tuning" / target / "imx477.json")
    tf.set_block("rpi.contrast", {"ce_enable": 0, "gamma_curve": srgb_gamma_curve(33).flat()})
    raw, md, patches, _ = capture("colorchecker", ct, 800)
    return float(delta_e(developed(raw, md, patches, tf)[0], truth.colorchecker_srgb_reference(ct)).mean())


def low_light() -> dict:
    out = {}
    lumas = []
    for lux in (2000, 15):
        raw, md, _, tuning = capture("dead-leaves", 5000, lux)
        rgb = build_pipeline(tuning, demosaic="fast").run(raw, FrameInfo.from_metadata(md, "RGGB", 12))
        lumas.append(float((rgb.astype(np.float64) @ [0.299, 0.587, 0.114]).mean()))
        out[f"dead_leaves_{lux}lux"] = (f"luma {lumas[-1]:.1f}, {md['ExposureTime']} us, analogue gain "
                                        f"{md['AnalogueGain']:.2f}, digital gain {md.get('DigitalGain', 1.0):.2f}")
    out["low_light_luma_ratio_15_vs_2000_lux"] = lumas[1] / lumas[0]
    return out


def run(quick: bool = False) -> dict:
    out = {"load_average_at_start": os.getloadavg()[0]}  # quality figures, but the run's conditions are stated
    out["held_out_lights_K"] = ", ".join(str(c) for c in (HELD_OUT[1::3] if quick else HELD_OUT))
    out["held_out_mean_ciede2000"] = held_out(HELD_OUT[1::3] if quick else HELD_OUT)
    for ct in (2600, 7500):
        vs_shot, vs_chart = awb(ct)
        out[f"awb_{ct}K_vs_as_shot"] = vs_shot
        out[f"awb_{ct}K_vs_chart"] = vs_chart
    for target in ("vc4", "pisp"):
        for ct in ((4000,) if quick else (2850, 4000, 6500)):
            value = stock(target, ct)
            out[f"stock_imx477_{target}_{ct}K"] = "no ../shared" if value is None else value
    out.update(low_light())
    return out
