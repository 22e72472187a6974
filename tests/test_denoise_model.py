"""The committed TFLite model through the firmware's own denoiser: it denoises, seamlessly, as the profile says."""

from __future__ import annotations

import numpy as np
import pytest

from firmware.denoise import conditioning, make_denoiser, synthetic
from firmware.denoise.model import TFLiteDenoiser, int8_banks, pack, read_meta
from firmware.denoise import MODELS_DIR, NETWORKS
from firmware.frame import FrameInfo
from firmware.frame import NoiseProfile

# The fixed crop: the first dead-leaves crop of the held-out set, IMX477 at analogue gain 16.
GAIN = 16


@pytest.fixture(scope="module")
def crop():
    c = synthetic.test_crops()[6]
    noisy, profile = synthetic.noisy_test_crop(c, GAIN, 6)
    return c.clean, noisy, profile


@pytest.fixture(scope="module")
def hq():
    return make_denoiser("hq", 2)


def frame(noise):
    return FrameInfo(cfa="RGGB", white_level=4095, black_levels=(256.0,) * 4, noise=noise)


def test_hq_improves_a_fixed_noisy_crop_by_at_least_3_5_db_and_beats_nlm(crop, hq):
    from firmware.denoise.classical import ClassicalDenoiser

    clean, noisy, profile = crop
    before = synthetic.psnr(clean, noisy)  # 32.2 dB
    after = synthetic.psnr(clean, hq.denoise(noisy, frame(profile)))  # 36.3 dB when trained
    assert after - before >= 3.5, (before, after)
    nlm = synthetic.psnr(clean, ClassicalDenoiser().denoise(noisy, frame(profile)))
    assert after >= nlm + 0.5, (after, nlm)


def test_hq_int8_banks_stay_within_0_1_db_of_the_float_model(crop, hq):
    clean, noisy, profile = crop
    meta = read_meta(NETWORKS["hq"])
    float_db = synthetic.psnr(clean, TFLiteDenoiser(MODELS_DIR / meta["float"], meta, mode="float")
                              .denoise(noisy, frame(profile)))
    int8_db = synthetic.psnr(clean, hq.denoise(noisy, frame(profile)))
    assert float_db - int8_db <= 0.1, (float_db, int8_db)


def test_each_frame_takes_the_narrowest_bank_that_holds_its_white_level(crop, hq):
    clean, noisy, profile = crop
    sensor = synthetic.SENSORS["imx477"]
    tops = [top for top, _ in hq.banks]
    for gain in (1, 2, 4, 8, 16):
        white = conditioning.white_level(sensor.profile(gain))
        chosen = hq.net_for(sensor.profile(gain))
        top = tops[[net for _, net in hq.banks].index(chosen)]
        assert white <= top and all(t < white for t in tops if t < top), (gain, white, top)
    assert hq.net_for(NoiseProfile(1e-8, 1e-12)) is hq.banks[-1][1]  # beyond every bank: the widest
    assert [net.interpreter is not None for _, net in hq.banks].count(True) == 1  # one bank's memory at a time
    # The bank matters: the widest range's coarser steps cost quality at gain 16.
    meta = read_meta(NETWORKS["hq"])
    widest = TFLiteDenoiser(int8_banks(meta, MODELS_DIR)[-1][1], meta, mode="widest")
    assert synthetic.psnr(clean, hq.denoise(noisy, frame(profile))) > \
        synthetic.psnr(clean, widest.denoise(noisy, frame(profile))) + 0.15


def test_fast_is_a_narrower_network_that_still_improves_the_crop(crop, hq):
    clean, noisy, profile = crop
    fast = make_denoiser("fast", 2)
    assert read_meta(NETWORKS["fast"])["parameters"] * 3 < read_meta(NETWORKS["hq"])["parameters"]
    hq_db = synthetic.psnr(clean, hq.denoise(noisy, frame(profile)))
    fast_db = synthetic.psnr(clean, fast.denoise(noisy, frame(profile)))
    assert fast_db - synthetic.psnr(clean, noisy) >= 3.0
    assert 0.0 <= hq_db - fast_db <= 1.5  # measured 1.15 dB on this crop (gain 16 dead leaves)


def test_tiled_output_equals_untiled(crop):
    _, noisy, profile = crop
    meta = read_meta(NETWORKS["hq"])
    den = TFLiteDenoiser(int8_banks(meta, MODELS_DIR), meta, mode="hq", tile=(96, 128))
    bayer = noisy[:300, :380]  # several tiles of 96x128 packed, none fitting the frame exactly
    assert len(den.tiling.plan(150, 190)) >= 4
    tiled = den.denoise(bayer, frame(profile))
    whole = den.denoise(bayer, frame(profile), tiled=False)
    np.testing.assert_allclose(tiled, whole, atol=2e-6)


def test_conditioning_follows_the_noise_profile(crop, hq):
    clean, noisy, profile = crop
    weak = NoiseProfile(profile.shot / 8, profile.read / 64)  # the profile at gain 2 instead of 16
    right = hq.denoise(noisy, frame(profile))
    under = hq.denoise(noisy, frame(weak))
    # Told the noise is lower, the model removes less, and the result is worse.
    assert np.std(under - noisy) < 0.6 * np.std(right - noisy)
    assert synthetic.psnr(clean, right) > synthetic.psnr(clean, under) + 2.0


def test_a_profile_is_fitted_from_the_pixels_of_a_smooth_frame():
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:512, 0:512] / 512.0
    clean = (0.05 + 0.8 * xx * (0.6 + 0.4 * np.sin(3 * yy))).astype(np.float32)
    for gain in (2, 8, 16):
        profile = synthetic.SENSORS["imx477"].profile(gain)
        noisy = synthetic.add_noise(clean, profile, 12, rng)
        est = conditioning.estimate_profile(pack(noisy, "RGGB"))
        for level in (0.1, 0.5):
            assert est.variance(level) == pytest.approx(profile.variance(level), rel=0.3), (gain, level)


def test_a_frame_without_a_profile_is_still_denoised(crop, hq):
    clean, noisy, profile = crop
    blind = synthetic.psnr(clean, hq.denoise(noisy, frame(None)))
    assert blind > synthetic.psnr(clean, noisy) + 2.5


def test_the_denoiser_fills_the_isp_hook(mock_sensor, hq):
    from firmware.develop import frame_facts
    from firmware.isp import build_pipeline
    from firmware.sensor.mock.tuning_default import default_tuning

    cam = mock_sensor(scene="dead-leaves", lux=20.0, mode="1332x990")
    for _ in range(20):  # let the AGC settle on a high gain for the dim light
        cam.next_request(1.0).release()
    with cam.next_request(1.0) as req:
        raw = req.make_array("raw")
        md = req.metadata
    tuning = default_tuning("imx477")
    assert md["AnalogueGain"] > 4
    info = frame_facts(md, cfa="RGGB", bit_depth=10, tuning=tuning, mode_factor=2.0)  # as the capture writer does
    assert info.noise is not None
    pipe = build_pipeline(tuning, denoiser=hq)
    rgb, steps = pipe.run(raw, info, save_intermediates=True)
    assert "denoise" in pipe.names() and rgb.shape == raw.shape + (3,)
    flat_before = np.diff(steps["rpi.black_level"].astype(np.float64), axis=1).std()
    assert np.diff(steps["denoise"].astype(np.float64), axis=1).std() < flat_before
