"""Colour accuracy of the whole ISP on the mock's ColorChecker, and lens shading on a flat field.

The reference is the chart the mock renders (BabelColor spectra, CIE XYZ under D65). Two questions are asked:

* does the ISP deliver what the tuning promises? Patch colours developed from a noisy capture are compared
  with the tuning's own CCM applied to the mock's noise-free camera responses at the same gains and colour
  temperature - this holds for any calibration, and catches every stage that bends colour (ALSC, WB, CCM
  interpolation, tone curve, sharpening);
* is the result right against the chart? The chart's reference under a light is its colorimetry under that
  light, carried to D65 with the Bradford transform (``truth.colorchecker_xyz_adapted``) - what an observer
  adapted to the scene sees, and what ``camtune calibrate`` fits to. At 6500 K that is the chart's D65 value.
  (Against the D65 values at 2850 K even a perfect camera scores 2.0 mean: the pigments are not colour
  constant.) Clipped to the sRGB gamut, as a JPEG and the chart's published sRGB values are (cyan's linear
  red is -0.03). The figure asked for, mean CIEDE2000 <= 1.5 and max <= 4, is asserted at 6500, 4000, 2850 K.

Exposure is taken out as the calibration tools do it: one scale on linear light fitted on the grey patches
(the white patch left out, as AE may clip it).
"""

import functools

import colour
import numpy as np
import pytest

from firmware.clock import FakeClock
from firmware.isp import FrameInfo, build_pipeline
from firmware.isp.alsc import AlscStage
from firmware.isp.awb_search import zone_means
from firmware.isp.ccm import CcmStage
from firmware.sensor.mock import truth
from firmware.sensor.mock.models import sensor_model
from firmware.sensor.mock.sensor import MockSensor
from firmware.sensor.mock.spectral import Lighting
from firmware.tuning.blocks import Alsc, Awb, Ccm
from firmware.tuning.curves import srgb_decode

D65 = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]
LUMA = np.array([0.2126, 0.7152, 0.0722])
GREYS = slice(19, 23)  # the ColorChecker's neutral row without white and black


def capture(scene: str, ct: float, mode: str = "2028x1520"):
    cam = MockSensor("imx477", scene, Lighting(ct, "auto", 800), clock=FakeClock())
    cam.configure(cam.info.mode(mode), 4)
    cam.start()
    for _ in range(24):
        cam.next_request(1.0).release()
    with cam.next_request(1.0) as req:
        raw = req.make_array("raw").copy()
        md = req.get_metadata()
    patches, tuning = cam.patches(), cam.tuning
    cam.close()
    return raw, md, patches, tuning


def patch_linear(rgb: np.ndarray, patches, full_scale: float) -> np.ndarray:
    """Mean linear sRGB of each patch (decoded per pixel, then averaged, as light adds)."""
    return np.array([srgb_decode(rgb[p.y:p.y + p.height, p.x:p.x + p.width].reshape(-1, 3) / full_scale).mean(0)
                     for p in patches])


def lab(linear: np.ndarray, reference_linear: np.ndarray) -> np.ndarray:
    y, y_ref = linear[GREYS] @ LUMA, reference_linear[GREYS] @ LUMA
    k = (y @ y_ref) / (y @ y)
    xyz = colour.RGB_to_XYZ(linear * k, colour.RGB_COLOURSPACES["sRGB"], apply_cctf_decoding=False)
    return colour.XYZ_to_Lab(xyz, D65)


def delta_e(linear: np.ndarray, reference_linear: np.ndarray) -> np.ndarray:
    ref_lab = colour.XYZ_to_Lab(colour.RGB_to_XYZ(reference_linear, colour.RGB_COLOURSPACES["sRGB"],
                                                  apply_cctf_decoding=False), D65)
    return colour.delta_E(lab(linear, reference_linear), ref_lab, method="CIE 2000")


@functools.lru_cache(maxsize=None)
def developed(ct: float):
    raw, md, patches, tuning = capture("colorchecker", ct)
    frame = FrameInfo.from_metadata(md, "RGGB", 12)
    pipe = build_pipeline(tuning)
    rgb = pipe.run(raw, frame)
    return ct, md, frame, tuning, patches, patch_linear(rgb, patches, 255.0)


def residual_shading(ct, tuning, frame, patches, mode="2028x1520"):
    """(24, 3): the optics' true shading times the tuning's ALSC gains, in the cell under each patch."""
    model = sensor_model("imx477")
    m = model.info.mode(mode)
    stage = AlscStage(Alsc.read(tuning))
    cols, rows = stage.alsc.grid
    optics = truth.shading(model, Lighting(ct, "auto", 800), (cols, rows), m)
    alsc = np.stack(stage.tables(CcmStage(Ccm.read(tuning), Awb.read(tuning).curve).colour_temperature(frame)), axis=-1)
    w, h = m.size
    cells = [(int((p.y + p.height / 2) * rows / h), int((p.x + p.width / 2) * cols / w)) for p in patches]
    return np.array([(optics * alsc)[r, c] for r, c in cells])


@pytest.mark.parametrize("ct", [6500, 4000, 2850])
def test_isp_colour_delivers_what_the_tuning_promises(ct):
    ct, md, frame, tuning, patches, linear = developed(ct)
    camera = truth.colorchecker_camera(Lighting(ct, "auto", 800)) * residual_shading(ct, tuning, frame, patches)
    gains = np.array([md["ColourGains"][0], 1.0, md["ColourGains"][1]])
    promised = np.clip((camera * gains) @ CcmStage(Ccm.read(tuning), Awb.read(tuning).curve).matrix(frame).T, 0.0, None)
    # The white patch lies above the highlight knee, where the tone rolls off by design instead of clipping
    # (isp/highlights.py, checked in tests/test_isp_highlights.py); the promise of linear colour is below it.
    de = np.delete(delta_e(linear, promised), 18)
    # Measured 0.15-0.18 mean, 0.4-0.65 max: the margin is for noise, not for colour the ISP bends.
    assert de.mean() <= 0.6, f"{ct} K: mean CIEDE2000 {de.mean():.2f} from the tuning's own colours"
    assert de.max() <= 2.0, f"{ct} K: patch {int(de.argmax()) + 1} off by {de.max():.2f}"


@pytest.mark.parametrize("ct", [6500, 4000, 2850])
def test_isp_colour_matches_the_chart(ct):
    *_, linear = developed(ct)
    de = delta_e(linear, truth.colorchecker_srgb_reference(ct))
    assert de.mean() <= 1.5 and de.max() <= 4.0, f"{ct} K: mean {de.mean():.2f}, max {de.max():.2f}"


@pytest.mark.parametrize("ct", [2850, 6500])
def test_isp_lens_shading_leaves_a_flat_field_flat(ct):
    raw, md, _, tuning = capture("flat", ct)
    frame = FrameInfo.from_metadata(md, "RGGB", 12)
    full = tuning.copy()
    full.set_block("rpi.alsc", dict(full.block("rpi.alsc"), luminance_strength=1.0))

    def spread(a):
        return (a.max() - a.min()) / a.mean()

    for tf, check_luminance in ((tuning, False), (full, True)):
        _, steps = build_pipeline(tf).run(raw, frame, save_intermediates=True)
        before = zone_means(steps["rpi.black_level"], "RGGB", (16, 12))
        z = zone_means(steps["rpi.alsc"], "RGGB", (16, 12))
        assert spread(before[..., 0] / before[..., 1]) > 0.1  # there was colour shading to remove
        assert spread(z[..., 0] / z[..., 1]) <= 0.02 and spread(z[..., 2] / z[..., 1]) <= 0.02
        if check_luminance:
            # The tables are cell means (as the Raspberry Pi tuning tool writes them) and libcamera holds the
            # edge values beyond the outermost cell centres, while this lens keeps falling off: the corner
            # zones stay ~3 % dark at full strength, as on a Pi.
            assert spread(before[..., 1]) > 0.5 and spread(z[..., 1]) <= 0.035
        else:  # the tuning's luminance_strength (0.5 on the Pi's files) leaves some vignetting on purpose
            assert spread(z[..., 1]) < spread(before[..., 1])
