"""ISP stages against small golden arrays, and the pipeline's build-time contract checks."""

import numpy as np
import pytest

from firmware.isp import FrameInfo, Pipeline, build_pipeline
from firmware.isp.black_level import BlackLevelStage
from firmware.isp.ccm import CcmStage
from firmware.isp.contrast import ContrastStage
from firmware.isp.demosaic import DemosaicStage
from firmware.isp.output import OutputStage
from firmware.isp.white_balance import WhiteBalanceStage
from firmware.sensor.mock.tuning_default import default_tuning
from firmware.tuning import TuningFile

TUNING = default_tuning("imx477")
FRAME = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(256, 256, 256, 256), colour_gains=(2.0, 1.5),
                  colour_temperature=5000)


def test_isp_black_level_golden():
    raw = np.array([[256, 4095, 256, 1280], [2175, 256, 256, 256]], dtype=np.uint16)  # 2175 = 256 + 3839 / 2 (rounded down)
    out = BlackLevelStage(TUNING).process(raw, FRAME)
    np.testing.assert_allclose(out, [[0, 1, 0, 1024 / 3839], [1919 / 3839, 0, 0, 0]], atol=1e-6)
    below = BlackLevelStage(TUNING).process(np.full((2, 2), 200, np.uint16), FRAME)
    assert (below == 0).all()


def test_isp_black_level_from_tuning_when_metadata_has_none():
    frame = FrameInfo(cfa="RGGB", white_level=1023, black_levels=(0, 0, 0, 0))
    out = BlackLevelStage(TUNING).process(np.full((2, 2), 64 + 959 // 2, np.uint16), frame)
    np.testing.assert_allclose(out, 479 / 959, atol=1e-6)  # 4096 on the 16-bit scale is 64 in 10 bits


def test_isp_white_balance_golden_and_clipped():
    img = np.array([[0.25, 0.5], [0.5, 0.8]], dtype=np.float32)
    out = WhiteBalanceStage(TUNING).process(img.copy(), FRAME)
    np.testing.assert_allclose(out, [[0.5, 0.5], [0.5, 1.0]])  # B: 0.8 * 1.5 clips at 1


def test_isp_white_balance_grey_world_without_gains():
    frame = FrameInfo(cfa="BGGR", white_level=4095, black_levels=(0,) * 4)
    tf = TuningFile(2.0, "bcm2835", [("rpi.awb", {"bayes": 0})])
    img = np.tile(np.array([[0.1, 0.4], [0.4, 0.2]], np.float32), (4, 4))  # B G / G R
    out = WhiteBalanceStage(tf).process(img, frame)
    np.testing.assert_allclose(out[0:2, 0:2], [[0.4, 0.4], [0.4, 0.4]], atol=1e-6)


@pytest.mark.parametrize("cfa, site", [("RGGB", (0, 0)), ("BGGR", (1, 1)), ("GRBG", (0, 1)), ("GBRG", (1, 0))])
@pytest.mark.parametrize("method", ["hq", "fast"])
def test_isp_demosaic_puts_red_where_the_cfa_says(cfa, site, method):
    mosaic = np.zeros((16, 16), np.float32)
    mosaic[site[0]::2, site[1]::2] = 0.8  # only the red sites lit: a pure red scene
    rgb = DemosaicStage(method).process(mosaic, FrameInfo(cfa=cfa, white_level=4095, black_levels=(0,) * 4))
    centre = rgb[6:10, 6:10].mean(axis=(0, 1))
    assert centre[0] == pytest.approx(0.8, abs=0.01) and centre[1] < 0.01 and centre[2] < 0.01


def test_isp_ccm_uses_the_tuning_matrix_at_the_frame_ct():
    tf = TuningFile(2.0, "bcm2835", [("rpi.ccm", {"ccms": [
        {"ct": 3000, "ccm": [1, 0, 0, 0, 1, 0, 0, 0, 1]},
        {"ct": 5000, "ccm": [2, -1, 0, 0, 1, 0, 0, 0, 1]}]})])
    img = np.full((2, 2, 3), [0.3, 0.2, 0.1], np.float32)
    frame = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(0,) * 4, colour_temperature=4000)
    out = CcmStage(tf).process(img, frame)
    # Halfway between the matrices in kelvin: row 0 = [1.5, -0.5, 0].
    np.testing.assert_allclose(out[0, 0], [0.35, 0.2, 0.1], atol=1e-6)


def test_isp_contrast_applies_the_gamma_curve():
    tf = TuningFile(2.0, "bcm2835", [("rpi.contrast", {"gamma_curve": [0, 0, 32768, 49152, 65535, 65535]})])
    img = np.array([[[0.0, 0.25, 0.5]]], np.float32)
    out = ContrastStage(tf).process(img, FRAME)
    assert out.dtype == np.uint16
    np.testing.assert_allclose(out[0, 0], [0, 24576, 49152], atol=2)
    assert OutputStage().process(out, FRAME)[0, 0].tolist() == [0, 96, 192]


def test_isp_pipeline_checks_the_chain_when_built():
    with pytest.raises(ValueError, match="rpi.ccm takes rgb/float32.*demosaic|rpi.ccm takes"):
        Pipeline([BlackLevelStage(TUNING), CcmStage(TUNING)])


def test_isp_pipeline_runs_and_saves_intermediates(mock_sensor):
    cam = mock_sensor()
    for _ in range(20):
        cam.next_request(1.0).release()
    with cam.next_request(1.0) as req:
        raw = req.make_array("raw")
        frame = FrameInfo.from_metadata(req.metadata, "RGGB", 10)
    pipe = build_pipeline(TUNING)
    rgb, steps = pipe.run(raw, frame, save_intermediates=True)
    assert rgb.shape == (990, 1332, 3) and rgb.dtype == np.uint8
    assert list(steps) == pipe.names() == ["rpi.black_level", "rpi.awb", "demosaic", "rpi.ccm", "rpi.contrast", "output"]
    # The wall behind the chart is neutral grey: after AWB, CCM and gamma it stays grey.
    wall = rgb[40:120, 40:200].reshape(-1, 3).mean(axis=0)
    assert np.ptp(wall) < 0.06 * wall.mean()
    with pytest.raises(ValueError, match="input should be uint16"):
        pipe.run(raw.astype(np.float32), frame)


def test_isp_denoise_hook_runs_between_black_level_and_white_balance():
    seen = {}

    class Halve:
        mode = "fast"

        def denoise(self, bayer, frame):
            seen["noise"] = frame.noise
            return bayer * np.float32(0.5)

    from firmware.isp.noise import NoiseProfile

    pipe = build_pipeline(TUNING, denoiser=Halve())
    assert pipe.names()[:3] == ["rpi.black_level", "denoise", "rpi.awb"]
    frame = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(256,) * 4, colour_gains=(2.0, 1.5),
                      colour_temperature=5000, noise=NoiseProfile(1e-4, 1e-6))
    raw = np.full((8, 8), 256 + 3839 // 2, np.uint16)
    _, steps = pipe.run(raw, frame, save_intermediates=True)
    np.testing.assert_allclose(steps["denoise"], steps["rpi.black_level"] * 0.5)  # not overwritten by WB
    assert steps["rpi.awb"][0, 0] == pytest.approx(steps["denoise"][0, 0] * 2.0)
    assert seen["noise"] == NoiseProfile(1e-4, 1e-6)
