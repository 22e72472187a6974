"""ISP stages against small golden arrays, and the pipeline's build-time contract checks."""

import cv2
import numpy as np
import pytest

from firmware.errors import TuningError
from firmware.isp import FrameInfo, Pipeline, build_pipeline, build_preview_pipeline
from firmware.frame import crop_fractions
from firmware.isp.alsc import AlscStage
from firmware.isp.black_level import BlackLevelStage
from firmware.isp.ccm import CcmStage
from firmware.isp.contrast import ContrastStage, histogram_quantile, stretch_curve
from firmware.isp.demosaic import DemosaicStage
from firmware.isp.output import OutputStage
from firmware.isp.scale import ScaleStage
from firmware.isp.sharpen import SharpenStage
from firmware.isp.white_balance import WhiteBalanceStage
from firmware.sensor.mock.tuning_default import default_tuning
from firmware.tuning import TuningFile
from firmware.tuning.blocks import Alsc, Awb, BlackLevel, Ccm, Contrast, Sharpen, apply_saturation

TUNING = default_tuning("imx477")
FRAME = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(256, 256, 256, 256), colour_gains=(2.0, 1.5),
                  colour_temperature=5000)


def tuning_with(*blocks):
    return TuningFile(2.0, "bcm2835", list(blocks))


def test_isp_black_level_golden():
    raw = np.array([[256, 4095, 256, 1280], [2175, 256, 256, 200]], dtype=np.uint16)
    out = BlackLevelStage(BlackLevel.read(TUNING)).process(raw, FRAME)
    assert out.dtype == np.uint16
    # (x - 256) / 3839 on the 16-bit scale, rounded; below black clips to 0.
    np.testing.assert_array_equal(out, [[0, 65535, 0, 17481], [32759, 0, 0, 0]])


def test_isp_black_level_per_site_and_from_tuning():
    frame = FrameInfo(cfa="RGGB", white_level=1023, black_levels=(64, 60, 60, 64))
    out = BlackLevelStage(BlackLevel.read(TUNING)).process(np.array([[64 + 959, 60 + 963], [60, 64 + 480]], np.uint16), frame)
    np.testing.assert_allclose(out, [[65535, 65535], [0, 480 / 959 * 65535]], atol=1)
    frame = FrameInfo(cfa="RGGB", white_level=1023, black_levels=(0, 0, 0, 0))
    out = BlackLevelStage(BlackLevel.read(TUNING)).process(np.full((2, 2), 64 + 959 // 2, np.uint16), frame)
    np.testing.assert_allclose(out, 479 / 959 * 65535, atol=1)  # 4096 on the 16-bit scale is 64 in 10 bits


def _alsc_tuning(r, b, lum, strength=1.0):
    return tuning_with(("rpi.alsc", {
        "luminance_strength": strength,
        "calibrations_Cr": [{"ct": 3000, "table": list(np.ravel(r))}],
        "calibrations_Cb": [{"ct": 3000, "table": list(np.ravel(b))}],
        "luminance_lut": list(np.ravel(lum))}))


def test_isp_alsc_applies_the_tables_and_the_luminance_strength():
    ones = np.ones((12, 16))
    img = np.full((24, 32), 10000, np.uint16)
    # A level in the colour tables is no correction: libcamera normalises each to a minimum of 1.
    out = AlscStage(Alsc.read(_alsc_tuning(ones * 1.5, ones * 1.25, ones))).process(img.copy(), FRAME)
    assert (out == 10000).all()
    # Shape is: red twice as strong on the right half as on the left, blue 1.25x on the bottom half.
    r = np.where(np.arange(16) < 8, 3.0, 6.0)[None, :] * ones
    b = np.where(np.arange(12) < 6, 2.0, 2.5)[:, None] * ones
    out = AlscStage(Alsc.read(_alsc_tuning(r, b, ones))).process(np.full((240, 320), 10000, np.uint16), FRAME)
    assert out[0, 0] == 10000 and out[0, -2] == 20000 and out[1, 1] == 10000 and out[-1, -1] == 12500
    assert out[0, 1] == out[1, 0] == 10000
    # Vignetting rising from 1 (left) to 2 (right) at strength 0.5 is corrected from 1 to 1.5.
    ramp = np.tile(np.linspace(1.0, 2.0, 16), (12, 1))
    out = AlscStage(Alsc.read(_alsc_tuning(ones, ones, ramp, strength=0.5))).process(img.copy(), FRAME).astype(float)
    # Pixel columns 0 and 31 sit a quarter cell outside the outermost cell centres: the edge values held, as
    # libcamera's resampleCalTable and the ISP's resampleTable clamp their indices; column 2 is bilinear.
    assert out[:, 0].mean() == pytest.approx(10000, rel=0.002)
    assert out[:, -1].mean() == pytest.approx(15000, rel=0.002)
    assert out[:, 2].mean() == pytest.approx(10000 * (1 + 0.5 * 0.75 / 15), rel=0.002)
    full = AlscStage(Alsc.read(_alsc_tuning(ones, ones, ramp, strength=1.0))).process(img.copy(), FRAME)
    assert full[:, -1].mean() > 1.9 * full[:, 0].mean()


def test_isp_alsc_interpolates_colour_tables_in_kelvin():
    ones = np.ones((12, 16))
    ramp = np.tile(np.linspace(1.0, 2.0, 16), (12, 1))
    tf = tuning_with(("rpi.alsc", {
        "calibrations_Cr": [{"ct": 3000, "table": list(np.ravel(ones * 2.0))}, {"ct": 5000, "table": list(np.ravel(ramp))}],
        "calibrations_Cb": [{"ct": 3000, "table": list(np.ravel(ones))}]}))
    stage = AlscStage(Alsc.read(tf))
    r, g, b = stage.tables(4000)
    # Blend (2 + ramp) / 2, then normalised to a minimum of 1: left 1.5 -> 1, right 2.0 -> 4/3.
    assert r[0, 0] == pytest.approx(1.0) and r[0, -1] == pytest.approx(4 / 3) and g[0, 0] == 1.0 and b[0, 0] == 1.0
    assert stage.tables(2000)[0][0, -1] == pytest.approx(1.0) and stage.tables(9000)[0][0, -1] == pytest.approx(2.0)
    bad = tuning_with(("rpi.alsc", {"calibrations_Cr": [{"ct": 5000, "table": [1] * 192}, {"ct": 3000, "table": [1] * 192}]}))
    with pytest.raises(TuningError, match="rpi.alsc: calibrations_Cr.1..ct: .*increasing ct order"):
        AlscStage(Alsc.read(bad))


def test_isp_white_balance_golden_and_clipped():
    img = np.array([[16384, 32768], [32768, 52428]], dtype=np.uint16)
    out = WhiteBalanceStage(Awb.read(TUNING)).process(img.copy(), FRAME)
    np.testing.assert_array_equal(out, [[32768, 32768], [32768, 65535]])  # B: 52428 * 1.5 saturates


def test_isp_white_balance_grey_world_without_gains_or_curve():
    frame = FrameInfo(cfa="BGGR", white_level=4095, black_levels=(0,) * 4)
    tf = tuning_with(("rpi.awb", {"bayes": 0}))
    img = np.tile(np.array([[6000, 24000], [24000, 12000]], np.uint16), (32, 32))  # B G / G R
    stage = WhiteBalanceStage(Awb.read(tf))
    out = stage.process(img, frame)
    np.testing.assert_allclose(out[0:2, 0:2], 24000, atol=4)
    assert stage.refine(img, frame).colour_gains == pytest.approx((2.0, 4.0))


@pytest.mark.parametrize("ct", [2850, 4500, 7000])
def test_isp_awb_searches_the_curve_when_the_frame_has_no_gains(ct):
    from firmware.tuning.blocks import Awb

    curve = Awb.read(TUNING).curve
    r, b = curve.rb(ct)
    rng = np.random.default_rng(1)
    # A grey scene lit at ``ct``: every zone sits on the curve's neutral, at varied brightness.
    level = rng.uniform(4000, 30000, (96, 128)).repeat(2, 0).repeat(2, 1)
    img = (level * np.tile(np.array([[r, 1.0], [1.0, b]]), (96, 128))).astype(np.uint16)
    frame = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(0,) * 4, lux=800)
    found = WhiteBalanceStage(Awb.read(TUNING)).refine(img, frame)
    assert found.colour_temperature == pytest.approx(ct, rel=0.03)
    assert found.colour_gains[0] == pytest.approx(1 / r, rel=0.02) and found.colour_gains[1] == pytest.approx(1 / b, rel=0.02)


@pytest.mark.parametrize("cfa, site", [("RGGB", (0, 0)), ("BGGR", (1, 1)), ("GRBG", (0, 1)), ("GBRG", (1, 0))])
@pytest.mark.parametrize("method", ["hq", "fast"])
def test_isp_demosaic_puts_red_where_the_cfa_says(cfa, site, method):
    mosaic = np.zeros((16, 16), np.uint16)
    mosaic[site[0]::2, site[1]::2] = 50000  # only the red sites lit: a pure red scene
    rgb = DemosaicStage(method).process(mosaic, FrameInfo(cfa=cfa, white_level=4095, black_levels=(0,) * 4))
    centre = rgb[6:10, 6:10].reshape(-1, 3).mean(axis=0)
    assert centre[0] == pytest.approx(50000, rel=0.01) and centre[1] < 500 and centre[2] < 500


def test_isp_ccm_uses_the_tuning_matrix_at_the_frame_ct():
    tf = tuning_with(("rpi.ccm", {"ccms": [
        {"ct": 3000, "ccm": [1, 0, 0, 0, 1, 0, 0, 0, 1]},
        {"ct": 5000, "ccm": [2, -1, 0, 0, 1, 0, 0, 0, 1]}]}))
    img = np.full((2, 2, 3), [30000, 20000, 10000], np.uint16)
    frame = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(0,) * 4, colour_temperature=4000)
    out = CcmStage(Ccm.read(tf), Awb.read(tf).curve).process(img, frame)
    # Halfway between the matrices in kelvin: row 0 = [1.5, -0.5, 0], through ccm.cpp's rounded BT.601 round
    # trip (applySaturation runs at saturation 1 too).
    m = apply_saturation(np.array([[1.5, -0.5, 0], [0, 1, 0], [0, 0, 1]]), 1.0)
    np.testing.assert_allclose(out[0, 0], m @ [30000, 20000, 10000], atol=1)
    np.testing.assert_allclose(out[0, 0], [35000, 20000, 10000], atol=15)
    # Negative results saturate at black, not wrap.
    img[:] = [0, 60000, 0]
    assert CcmStage(Ccm.read(tf), Awb.read(tf).curve).process(img, frame)[0, 0, 0] == 0


def test_isp_ccm_ct_comes_from_the_gains_through_the_curve_when_the_frame_has_no_ct():
    from firmware.tuning.blocks import Awb

    curve = Awb.read(TUNING).curve
    frame = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(0,) * 4, colour_gains=curve.gains(3300))
    assert CcmStage(Ccm.read(TUNING), Awb.read(TUNING).curve).colour_temperature(frame) == pytest.approx(3300, rel=0.01)


def test_isp_ccm_saturation_keeps_greys_and_scales_chroma():
    stage = CcmStage(Ccm.read(TUNING), Awb.read(TUNING).curve, saturation=0.0)
    frame = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(0,) * 4, colour_temperature=5000)
    grey = stage.process(np.full((1, 1, 3), 20000, np.uint16), frame)[0, 0]
    np.testing.assert_allclose(grey, 20000, atol=2)
    colour = stage.process(np.array([[[30000, 10000, 5000]]], np.uint16), frame)[0, 0]
    assert np.ptp(colour) < 0.01 * colour.mean()  # no saturation left: a grey


def test_isp_contrast_applies_the_gamma_curve():
    tf = tuning_with(("rpi.contrast", {"ce_enable": 0, "gamma_curve": [0, 0, 32768, 49152, 65535, 65535]}))
    img = np.array([[[0, 16384, 32768]]], np.uint16)
    out = ContrastStage(Contrast.read(tf)).process(img, FRAME)
    assert out.dtype == np.uint16
    np.testing.assert_allclose(out[0, 0], [0, 24576, 49152], atol=1)
    assert ContrastStage(Contrast.read(tf), bits=8).process(img, FRAME)[0, 0].tolist() == [0, 96, 191]
    assert OutputStage().process(out, FRAME)[0, 0].tolist() == [0, 96, 191]


def test_isp_contrast_stretch_follows_libcamera():
    c = Contrast.read(tuning_with(("rpi.contrast", {"gamma_curve": [0, 0, 65535, 65535]})))
    hist = np.zeros(1024)
    hist[200:400] = 1.0  # a low-contrast frame: everything between 12800 and 25600
    assert histogram_quantile(hist, 0.5) == pytest.approx(19200, abs=64)
    s = stretch_curve(c, hist)
    # The dark end is pulled down (by at most lo_max), the median stays, the top is pushed up (by at most hi_max).
    lo = 0.015 * 65536
    assert s.eval(lo + 500) == pytest.approx(lo, abs=1)  # the 1 % quantile, limited to lo_level + lo_max
    assert s.eval(19200) == pytest.approx(19200, abs=64)
    hi = 0.95 * 65536
    assert s.eval(hi - 2000) == pytest.approx(hi, abs=1)  # the 95 % quantile, limited to hi_level - hi_max
    assert s.eval(65535) == 65535
    img = np.linspace(12800, 25600, 64 * 64 * 3).astype(np.uint16).reshape(64, 64, 3)
    gamma = [0, 0, 65535, 65535]
    plain = ContrastStage(Contrast.read(tuning_with(("rpi.contrast", {"ce_enable": 0, "gamma_curve": gamma})))).process(img, FRAME)
    enhanced = ContrastStage(Contrast.read(tuning_with(("rpi.contrast", {"ce_enable": 1, "gamma_curve": gamma})))).process(img, FRAME)
    assert enhanced[-1, -1, -1] > plain[-1, -1, -1] + 150 and enhanced[0, 0, 0] < plain[0, 0, 0]


def test_isp_sharpen_cores_noise_boosts_edges_and_limits():
    stage = SharpenStage(Sharpen(1.0, 1.0, 1.0))
    flat = np.full((32, 32, 3), 100, np.uint8)
    flat[::2, ::2] += 1  # one-code texture: below the threshold
    np.testing.assert_array_equal(stage.process(flat.copy(), FRAME), flat)
    edge = np.full((32, 32, 3), 60, np.uint8)
    edge[:, 16:] = 180
    out = stage.process(edge.copy(), FRAME)
    assert out[16, 17, 1] > 180 and out[16, 14, 1] < 60  # overshoot on both sides of the edge
    assert out.max() <= 180 + 8 and out.min() >= 60 - 8  # capped at the limit (8 codes)
    np.testing.assert_array_equal(out[:, :10], edge[:, :10])  # far from the edge nothing changes
    out16 = SharpenStage(Sharpen.read(TUNING), bits=16).process(edge.astype(np.uint16) * 257, FRAME)
    assert out16[16, 17, 1] > 180 * 257 and out16.max() <= (180 + 8) * 257 + 1


def test_isp_scale_averages_linear_light():
    img = np.zeros((4, 4, 3), np.uint16)
    img[::2, ::2] = 40000
    out = ScaleStage((2, 2)).process(img, FRAME)
    np.testing.assert_array_equal(out, np.full((2, 2, 3), 10000))


def test_isp_pipeline_checks_the_chain_when_built():
    with pytest.raises(ValueError, match="rpi.ccm takes rgb/uint16.*black_level"):
        Pipeline([BlackLevelStage(BlackLevel.read(TUNING)), CcmStage(Ccm.read(TUNING))])
    with pytest.raises(ValueError, match="output_bits"):
        build_pipeline(TUNING, output_bits=12)


def test_isp_pipeline_runs_and_saves_intermediates(mock_sensor):
    cam = mock_sensor()
    for _ in range(20):
        cam.next_request(1.0).release()
    with cam.next_request(1.0) as req:
        raw = req.make_array("raw")
        crop = crop_fractions(cam.mode.crop, cam.info.pixel_array_size)  # 1332x990 is a crop: shading follows
        frame = FrameInfo.from_metadata(req.metadata, "RGGB", 10, crop=crop)
    pipe = build_pipeline(TUNING)
    rgb, steps = pipe.run(raw, frame, save_intermediates=True)
    assert rgb.shape == (990, 1332, 3) and rgb.dtype == np.uint8
    assert list(steps) == pipe.names() == ["rpi.black_level", "rpi.dpc", "rpi.alsc", "highlights", "rpi.awb",
                                           "demosaic", "rpi.ccm", "rpi.contrast", "rpi.sharpen"]
    for name, stage in zip(pipe.names(), pipe.stages):
        stage.output.check(steps[name], name, "saved")
    # The wall behind the chart is neutral grey: after AWB, CCM and gamma it stays grey.
    wall = rgb[40:120, 40:200].reshape(-1, 3).mean(axis=0)
    assert np.ptp(wall) < 0.06 * wall.mean()
    with pytest.raises(ValueError, match="input should be uint16"):
        pipe.run(raw.astype(np.float32), frame)
    rgb16 = build_pipeline(TUNING, output_bits=16).run(raw, frame)
    assert rgb16.dtype == np.uint16 and np.abs(rgb16[40:120, 40:200] / 257.0 - rgb[40:120, 40:200]).mean() < 1.0


def test_isp_pipeline_leaves_out_disabled_blocks():
    tf = TUNING.copy()
    for name in ("rpi.dpc", "rpi.alsc", "rpi.sharpen"):
        tf.set_block(name, dict(tf.block(name), enabled=False))
    assert build_pipeline(tf).names() == ["rpi.black_level", "highlights", "rpi.awb", "demosaic", "rpi.ccm",
                                          "rpi.contrast"]


def test_isp_repeated_builds_reuse_the_tables():
    a, b = build_pipeline(TUNING), build_pipeline(TUNING)
    assert a.stages[-2].lut() is b.stages[-2].lut()  # the tone table, built once per tuning
    raw = np.full((64, 64), 1000, np.uint16)
    a.run(raw, FRAME)
    alsc_a, alsc_b = a.stages[2], b.stages[2]
    assert alsc_a.gain_map(FRAME, raw.shape) is alsc_b.gain_map(FRAME, raw.shape)


def test_isp_preview_pipeline_is_fast_path_and_scales():
    pipe = build_preview_pipeline(TUNING, size=(32, 24))
    assert pipe.names() == ["rpi.black_level", "rpi.alsc", "highlights", "rpi.awb", "demosaic", "scale", "rpi.ccm",
                            "rpi.contrast"]
    assert pipe.stages[4].method == "fast"
    out = pipe.run(np.full((48, 64), 2000, np.uint16), FRAME)
    assert out.shape == (24, 32, 3) and out.dtype == np.uint8


def test_isp_denoise_hook_runs_between_dpc_and_lens_shading():
    seen = {}

    class Halve:
        mode = "fast"

        def denoise(self, bayer, frame):
            seen["noise"] = frame.noise
            seen["dtype"] = bayer.dtype
            seen["max"] = float(bayer.max())
            return bayer * np.float32(0.5)

    from firmware.frame import NoiseProfile

    pipe = build_pipeline(TUNING, denoiser=Halve())
    assert pipe.names()[:6] == ["rpi.black_level", "rpi.dpc", "denoise", "rpi.alsc", "highlights", "rpi.awb"]
    frame = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(256,) * 4, colour_gains=(2.0, 1.5),
                      colour_temperature=5000, noise=NoiseProfile(1e-4, 1e-6))
    raw = np.full((8, 8), 256 + 3839 // 2, np.uint16)
    _, steps = pipe.run(raw, frame, save_intermediates=True)
    np.testing.assert_allclose(steps["denoise"], steps["rpi.dpc"] * 0.5, atol=1)  # not overwritten later
    assert seen == {"noise": NoiseProfile(1e-4, 1e-6), "dtype": np.float32, "max": pytest.approx(0.5, abs=1e-3)}


def test_isp_alsc_uses_the_part_of_the_grid_a_cropped_mode_sees(mock_sensor):
    from firmware.isp.awb_search import zone_means
    from firmware.frame import crop_fractions

    cam = mock_sensor(scene="flat", mode="1332x990")
    for _ in range(20):
        cam.next_request(1.0).release()
    with cam.next_request(1.0) as req:
        raw = req.make_array("raw")
        md = req.metadata
    crop = crop_fractions(cam.mode.crop, cam.info.pixel_array_size)
    tf = TUNING.copy()
    tf.set_block("rpi.alsc", dict(tf.block("rpi.alsc"), luminance_strength=1.0))
    pipe = build_pipeline(tf)
    spreads = []
    for c in (None, crop):
        _, steps = pipe.run(raw, FrameInfo.from_metadata(md, "RGGB", 10, crop=c), save_intermediates=True)
        g = zone_means(steps["rpi.alsc"], "RGGB", (16, 12))[..., 1]
        spreads.append((g.max() - g.min()) / g.mean())
    assert spreads[1] < 0.02 < spreads[0]  # the whole-array grid on a centre crop over-corrects its edges
