"""The mock's HDR and night scenes, hand shake and moving objects: deterministic, measurable against the truth."""

from __future__ import annotations

import numpy as np
import pytest

from firmware.merge import figures as fg
from firmware.sensor.mock.models import sensor_model
from firmware.sensor.mock.motion import Shake, moving_mask, truth_dn
from firmware.sensor.mock.render import Renderer, mode_levels
from firmware.sensor.mock.scenes import make_scene
from firmware.sensor.mock.spectral import Lighting
from firmware.sensor.protocol import SensorMode

MODEL = sensor_model("imx477")
ARRAY = MODEL.info.pixel_array_size
CROP = SensorMode((512, 384), 12, 10.0, (1700, 1900, 512, 384), 1)  # full resolution, a window of the array


def test_merge_mock_moving_scene_is_a_pure_function_of_timestamp():
    r = Renderer(MODEL, make_scene("night-street+shake+objects", ARRAY, 4), seed=4)
    light = Lighting(3000, "auto", 2.0)
    a = r.render(CROP, light, 50_000, 8.0, 1_300_000_000)
    again = Renderer(MODEL, make_scene("night-street+shake+objects", ARRAY, 4), seed=4)
    assert np.array_equal(a, again.render(CROP, light, 50_000, 8.0, 1_300_000_000))
    later = r.render(CROP, light, 50_000, 8.0, 1_400_000_000)
    assert np.abs(a.astype(int) - later).mean() > 2  # the camera moved


def test_merge_mock_shake_is_a_few_pixels_per_frame_with_a_small_rotation():
    s = Shake(3.0, seed=7)
    poses = np.array([s.pose(0.1 * k) for k in range(3000)])
    step = np.diff(poses, axis=0)
    assert 2.5 < np.sqrt(np.mean(np.sum(step[:, :2] ** 2, axis=1))) < 3.5
    assert 0.02 < np.degrees(np.sqrt(np.mean(step[:, 2] ** 2))) < 0.1
    assert np.abs(poses[:, :2]).max() <= s.bound[0] + 1e-9  # bounded: it wanders but never leaves


def test_merge_mock_without_shake_shows_the_static_scene():
    light = Lighting(5000, "auto", 100)
    mode = SensorMode((512, 384), 12, 40.0, (0, 0, 4056, 3040), 2)
    still = Renderer(MODEL, make_scene("night-street", ARRAY, 1)).signal(mode, light).mosaic
    scene = make_scene("night-street+objects=1", ARRAY, 1)
    moving = scene.mosaic_at(MODEL, mode, light, 0)
    # Away from the one object the pictures agree (only the order of blur and shading differs slightly).
    far = np.abs(moving - still) / np.maximum(still, 1.0)
    assert np.median(far) < 0.01


def test_merge_mock_truth_is_the_frame_without_noise():
    r = Renderer(MODEL, make_scene("hdr-window+shake", ARRAY, 2), seed=2, hot_pixels=0)
    light = Lighting(5000, "auto", 100)
    lv = mode_levels(MODEL, CROP)
    raw = r.render(CROP, light, 4000, 2.0, 2_000_000_000).astype(np.float32) - lv.black
    truth = truth_dn(r, CROP, light, 4000, 2.0, 2_000_000_000)
    diff = raw - truth
    inside = truth < 0.9 * (lv.white - lv.black)
    assert abs(diff[inside].mean()) < 0.2
    expected = np.sqrt(lv.variance_dn(truth[inside], 2.0).mean() + 1 / 12)
    assert diff[inside].std() == pytest.approx(expected, rel=0.1)


def test_merge_mock_moving_objects_are_found_in_the_mask():
    r = Renderer(MODEL, make_scene("night-street+shake+objects", ARRAY, 2), seed=2)
    mode = SensorMode((1024, 768), 12, 10.0, (1400, 1600, 1024, 768), 1)
    light = Lighting(3000, "auto", 1.0)
    stamps = [1_000_000_000 + k * 100_000_000 for k in range(4)]
    mask = moving_mask(r, mode, light, stamps, stamps[0])
    assert 0.1 < mask.mean() < 0.95
    still = Renderer(MODEL, make_scene("night-street+shake", ARRAY, 2), seed=2)
    assert not moving_mask(still, mode, light, stamps, stamps[0]).any()


def test_merge_mock_hdr_scenes_span_more_than_fourteen_stops_and_have_wedges():
    light = Lighting(5000, "auto", 100)
    mode = MODEL.info.mode("2028x1520")
    for name, steps in (("hdr-window", 40), ("night-street", 16)):
        r = Renderer(MODEL, make_scene(name, ARRAY, 0), hot_pixels=0)
        patches = r.patches(mode)
        assert len(patches) == steps
        sig = r.signal(mode, light).mosaic
        if name == "hdr-window":
            assert np.log2(np.quantile(sig, 0.9999) / np.quantile(sig[sig > 0], 0.0001)) >= 14
            lum = r.scene.step_luminance
            assert np.log2(lum.max() / lum.min()) >= 19


def test_merge_mock_shift_helper_matches_the_rendered_motion():
    scene = make_scene("dead-leaves+shake=5", ARRAY, 3)
    centred = SensorMode((512, 384), 12, 10.0, (1772, 1328, 512, 384), 1)
    # Plane pixel (95.75, 127.75) of this window is the array's centre, about which the camera rotates.
    shift = scene.plane_shift(centred, 1_000_000_000, 1_200_000_000, np.array([95.75]), np.array([127.75]))
    dx, dy, _ = np.subtract(scene.shake.pose(1.2), scene.shake.pose(1.0))
    assert shift[0] == pytest.approx([dy / 2, dx / 2], abs=0.1)  # plane pixels are two array pixels


@pytest.mark.parametrize("spec, words", [("flat+wobble", "unknown option"), ("flat+shake=500", "shake=0..100")])
def test_merge_mock_bad_scene_options_are_named(spec, words):
    with pytest.raises(ValueError, match=words):
        make_scene(spec, ARRAY, 0)


def test_merge_mock_burst_helper_gives_profiles_matching_the_frames():
    r = Renderer(MODEL, make_scene("flat", ARRAY, 0), hot_pixels=0)
    b = fg.render_burst(r, CROP, Lighting(5000, "auto", 50), [(5000, 4.0)] * 2)
    x = fg.normalised(b.frames[0]) - b.truth[0]
    level = float(b.truth[0].mean())
    assert x.var() == pytest.approx(b.frames[0].noise.variance(level), rel=0.15)
