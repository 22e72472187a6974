"""Defective pixel correction against the mock's own defect map, and against detail it must leave alone."""

import numpy as np
import pytest

from bench.quality_metrics import defects_left, render_crop
from firmware.errors import TuningError
from firmware.isp import FrameInfo, build_pipeline
from firmware.isp.dpc import DpcStage
from firmware.frame import NoiseProfile
from firmware.sensor.mock.tuning_default import default_tuning

TUNING = default_tuning("imx477")
NOISE = NoiseProfile(shot=1.2e-4, read=1e-7)  # the mock IMX477 at gain 1 (12-bit)
FRAME = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(256,) * 4, noise=NOISE)


def noisy_flat(level=12000, shape=(40, 40), seed=0):
    rng = np.random.default_rng(seed)
    sigma = 65535 * np.sqrt(NOISE.variance(level / 65535))
    return np.clip(rng.normal(level, sigma, shape), 0, 65535).astype(np.uint16)


def test_dpc_strengths_as_libcamera_names_them():
    img = np.full((16, 16), 10000, np.uint16)
    img[:, 8:] = 30000  # a real edge
    img[5, 4] = 60000  # hot
    img[6, 11] = 0  # dead
    normal = DpcStage(strength=1).process(img.copy(), FRAME)
    assert normal[5, 4] == 10000 and normal[6, 11] == 30000
    mask = np.ones_like(img, bool)
    mask[5, 4] = mask[6, 11] = False
    np.testing.assert_array_equal(normal[mask], img[mask])  # the edge untouched
    strong = DpcStage(strength=2).process(img.copy(), FRAME)  # into the neighbours' range, always
    assert strong[5, 4] == 10000 and strong[6, 11] == 30000
    assert DpcStage(strength=0).process(img.copy(), FRAME)[5, 4] == 60000
    assert DpcStage(TUNING).strength == 1
    with pytest.raises(TuningError, match="strength"):
        DpcStage(strength=5)


def test_dpc_removes_singles_and_couplets_in_noise():
    img = noisy_flat()
    clean = img.copy()
    img[10, 10] += 4000  # a single, ~10 noise sigmas
    img[20, 20] = img[20, 22] = 50000  # a couplet of same-colour sites (neighbours in their colour plane)
    img[30, 10] = img[30, 11] = 40000  # adjacent sites of two colours
    img[12, 31] = 300  # dead
    out = DpcStage(strength=1).process(img.copy(), FRAME).astype(int)
    sigma = 65535 * np.sqrt(NOISE.variance(12000 / 65535))
    for y, x in ((10, 10), (20, 20), (20, 22), (30, 10), (30, 11), (12, 31)):
        assert abs(out[y, x] - 12000) < 3 * sigma, (y, x, out[y, x])
    changed = np.argwhere(out != img)
    assert len(changed) <= 8  # the defects, and at most a noise peak or two


def test_dpc_keeps_lines_and_points_of_light():
    """A thin line and a point of light, as the lens draws them (the mock's 1.3-pixel blur), are detail: the
    same-colour sites along the line are as bright, and the point lifts the sites of other colours around it
    too - a defect does neither."""
    import cv2

    img = noisy_flat(seed=1).astype(np.float32)
    scene = np.zeros(img.shape, np.float32)
    scene[6:34, 14] = 60000  # a one-pixel line
    scene[24, 30] = 120000  # a point
    img += cv2.GaussianBlur(scene, (0, 0), 1.3)
    img = img.clip(0, 65535).astype(np.uint16)
    out = DpcStage(strength=1).process(img.copy(), FRAME)
    np.testing.assert_array_equal(out, img)


@pytest.mark.parametrize("scene, centre", [("colorchecker", (0.32, 0.36)), ("natural:coffee", (0.5, 0.5))])
def test_dpc_leaves_none_of_the_mocks_defects_in_the_picture(scene, centre):
    """Every hot pixel of the mock's defect map (3000 over the array, ~30 in this crop) gone from the JPEG;
    before, 3x4-pixel pink and blue dots stayed wherever a defect was less than twice its neighbours."""
    crop = render_crop(scene, (512, 384), centre)
    assert len(crop.defects) >= 10
    pipe = build_pipeline(TUNING)
    clean, defective = pipe.run(crop.raw, crop.frame), pipe.run(crop.defective, crop.frame)
    assert defects_left(clean, defective, crop.defects) == 0
    without = build_pipeline(_no_dpc()).run(crop.defective, crop.frame)
    assert defects_left(clean, without, crop.defects) >= len(crop.defects) // 2  # the test can fail


def _no_dpc():
    tf = TUNING.copy()
    tf.set_block("rpi.dpc", dict(tf.block("rpi.dpc"), strength=0))
    return tf


@pytest.mark.parametrize("scene, centre", [("natural:coffee", (0.5, 0.5)), ("natural:astronaut", (0.45, 0.6)),
                                           ("natural:rocket", (0.5, 0.5)), ("dead-leaves", (0.4, 0.6))])
def test_dpc_keeps_clean_natural_pictures(scene, centre):
    """Noise-free pictures as the lens delivers them pass through DPC at >= 50 dB (measured: coffee and
    astronaut untouched, rocket 71 dB, dead leaves 67 dB)."""
    crop = render_crop(scene, (384, 384), centre, hot_pixels=0)
    bayer = np.rint((crop.clean - 256) * (65535 / 3839)).clip(0, 65535).astype(np.uint16)
    out = DpcStage(TUNING).process(bayer.copy(), crop.frame)
    mse = np.mean((out.astype(float) - bayer) ** 2) / 65535**2
    assert mse == 0 or 10 * np.log10(1 / mse) >= 50


def test_dpc_on_pictures_without_a_lens():
    """The denoiser's held-out crops are mosaicked straight from photographs, with no lens: a site can differ
    from all its neighbours, of every colour, as only a defect does behind a lens, and such a single-site
    feature cannot be told from one. DPC changes 2.3 % of their sites (measured 30-37 dB, mean 33.2); the DPC
    before let hot pixels up to twice their neighbours through (53 dB here, pink dots in every capture)."""
    from firmware.denoise import synthetic

    kept = []
    for c in synthetic.test_crops():
        clean = np.round(c.clean * 65535).astype(np.uint16)
        out = DpcStage(strength=1).process(clean.copy(), FRAME)
        kept.append(10 * np.log10(1 / np.mean((out / 65535.0 - clean / 65535.0) ** 2)))
    assert min(kept) >= 29.5 and np.mean(kept) >= 32.5
