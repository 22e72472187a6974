"""The mock sensor behaves like the physics it claims: noise, colour, shading, timing, determinism."""

import numpy as np
import pytest

from firmware.sensor.mock import optics, spectral, truth
from firmware.sensor.mock.models import sensor_model
from firmware.sensor.mock.render import Renderer, mode_levels
from firmware.sensor.mock.scenes import make_scene
from firmware.tuning.blocks import Noise

MODEL = sensor_model("imx477")
SMALL = MODEL.info.mode("1332x990")
HALF = MODEL.info.mode("2028x1520")


def frames(renderer, mode, lighting, exposure_us, gain, n=2, t0=1_000_000):
    return [renderer.render(mode, lighting, exposure_us, gain, t0 + i * 1000).astype(np.float64) for i in range(n)]


def test_mock_same_timestamp_renders_the_same_frame():
    r = Renderer(MODEL, make_scene("dead-leaves", MODEL.info.pixel_array_size), seed=3)
    light = spectral.Lighting(5000, "auto", 500)
    a = r.render(SMALL, light, 10000, 2.0, 123_456_789)
    b = r.render(SMALL, light, 10000, 2.0, 123_456_789)
    c = r.render(SMALL, light, 10000, 2.0, 123_456_790)
    assert a.dtype == np.uint16 and a.shape == (990, 1332)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # One cached signal (float32 per photosite) for this mode and light: what benchmarks set apart as the mock's.
    assert r.cached_bytes() == 990 * 1332 * 4


@pytest.mark.parametrize("gain", [1.0, 8.0])
def test_mock_noise_variance_follows_the_model_and_the_tuning_profile(gain):
    """Temporal variance (from the difference of two frames) against signal, on the green sites of a flat."""
    r = Renderer(MODEL, make_scene("flat", MODEL.info.pixel_array_size), hot_pixels=0)
    lv = mode_levels(MODEL, HALF)
    light = spectral.Lighting(5000, "auto", 1000)
    measured, expected_model, signal = [], [], []
    for exposure in (300, 1500, 8000):
        exposure = exposure / gain * 1.0
        a, b = frames(r, HALF, light, exposure, gain)
        g = slice(0, None, 2), slice(1, None, 2)  # R G / G B: the top-right site is green
        diff = (a[g] - b[g])[600:900, 400:600]
        mean = ((a[g] + b[g]) / 2)[600:900, 400:600].mean() - lv.black
        measured.append(diff.var() / 2)
        expected_model.append(lv.variance_dn(mean, gain))
        signal.append(mean)
    np.testing.assert_allclose(measured, expected_model, rtol=0.06)
    # And the libcamera noise profile in the mock's tuning describes the same noise: 16-bit scale, the gain-1
    # profile scaled by sqrt(gain) / mode factor as libcamera does (2x2 binning halves the noise): std within 15 %.
    from firmware.sensor.mock.tuning_default import default_tuning

    n = Noise.read(default_tuning("imx477"))
    s16 = np.array(signal) * 16
    profile_std = (n.constant + n.slope * np.sqrt(s16)) * np.sqrt(gain) / HALF.binning
    np.testing.assert_allclose(np.sqrt(measured) * 16, profile_std, rtol=0.15)
    assert signal[0] < 200 < 1000 < signal[-1]  # the test spans dark to bright


@pytest.mark.parametrize("ct", [2850, 6500])
def test_mock_grey_patch_raw_ratios_match_the_illuminant(ct):
    light = spectral.Lighting(ct, "auto", 800)
    r = Renderer(MODEL, make_scene("colorchecker", MODEL.info.pixel_array_size), hot_pixels=0)
    raw = r.render(HALF, light, 20000, 1.0, 42).astype(np.float64) - mode_levels(MODEL, HALF).black
    patch = next(p for p in r.patches(HALF) if p.index == 21)  # neutral 5
    x0, y0 = patch.x + patch.x % 2, patch.y + patch.y % 2  # start on an R site
    cut = raw[y0:y0 + patch.height - 2, x0:x0 + patch.width - 2]
    red, green, blue = cut[0::2, 0::2].mean(), (cut[0::2, 1::2].mean() + cut[1::2, 0::2].mean()) / 2, cut[1::2, 1::2].mean()
    # The patch's own measured reflectance under this light (neutral 5 is not perfectly flat).
    cam = truth.colorchecker_camera(light)[21]
    want_r, want_b = cam[0] / cam[1], cam[2] / cam[1]
    assert want_r == pytest.approx(truth.neutral_rb(ct)[0], rel=0.03)
    # The patch is off-centre: the optics shade its channels a little differently.
    xs, ys = r.sample_grid(HALF)
    u, v = optics.array_coords(MODEL, HALF)
    s = optics.shading_at(MODEL, light, u[patch.x + patch.width // 2], v[patch.y + patch.height // 2])
    assert red / green == pytest.approx(want_r * s[0] / s[1], rel=0.01)
    assert blue / green == pytest.approx(want_b * s[2] / s[1], rel=0.01)
    assert (want_r > 0.6) == (ct < 4000)  # tungsten is red-heavy, daylight is not


def test_mock_shading_is_present_smooth_and_follows_colour_temperature():
    r = Renderer(MODEL, make_scene("flat", MODEL.info.pixel_array_size), hot_pixels=0)
    lv = mode_levels(MODEL, HALF)
    maps = {}
    for ct in (2850, 6500):
        raw = r.render(HALF, spectral.Lighting(ct, "auto", 1000), 5000, 1.0, 1).astype(np.float64) - lv.black
        g = raw[0::2, 1::2].reshape(38, 20, 51, 20 - 0).mean(axis=(1, 3)) if False else \
            raw[0::2, 1::2][:760, :1010].reshape(38, 20, 101, 10).mean(axis=(1, 3))
        red = raw[0::2, 0::2][:760, :1010].reshape(38, 20, 101, 10).mean(axis=(1, 3))
        maps[ct] = (g / g.max(), red / g)
    g, rg = maps[2850]
    assert g.min() < 0.65  # a stop of fall-off into the corners
    assert g[19, 50] > 0.97
    # Smooth: second differences of the fall-off are tiny compared with its range.
    assert np.abs(np.diff(g, 2, axis=1)).max() < 0.01
    assert np.abs(np.diff(g, 2, axis=0)).max() < 0.01
    # Colour shading: red falls off more than green at the edge, and more under tungsten than daylight.
    edge_2850 = rg[19, 2] / rg[19, 50]
    edge_6500 = maps[6500][1][19, 2] / maps[6500][1][19, 50]
    assert edge_2850 < edge_6500 < 0.99


def test_mock_timestamps_are_monotonic_at_the_mode_rate(mock_sensor):
    cam = mock_sensor(mode="2028x1520")
    ts, seq = [], []
    for _ in range(20):
        with cam.next_request(1.0) as req:
            ts.append(req.metadata["SensorTimestamp"])
            seq.append(req.sequence)
            fd = req.metadata["FrameDuration"]
    assert seq == list(range(20))
    d = np.diff(ts)
    assert (d > 0).all()
    assert fd == 25000  # 40 fps
    assert set(d[5:]) == {fd * 1000}


def test_mock_metadata_has_libcamera_keys(mock_sensor):
    cam = mock_sensor()
    with cam.next_request(1.0) as req:
        md = req.metadata
    for key in ("SensorTimestamp", "ExposureTime", "AnalogueGain", "DigitalGain", "ColourGains",
                "ColourTemperature", "Lux", "SensorBlackLevels", "FrameDuration", "SensorTemperature",
                "ColourCorrectionMatrix"):
        assert key in md
    assert md["SensorBlackLevels"] == (4096,) * 4


@pytest.mark.parametrize("ct", [2850, 4000, 6500])
def test_mock_awb_and_ae_settle_on_the_scene(mock_sensor, ct):
    cam = mock_sensor(ct=ct, lux=800)
    for _ in range(30):
        cam.next_request(1.0).release()
    with cam.next_request(1.0) as req:
        md = req.metadata
        raw = req.make_array("raw").astype(np.float64) - 64  # 10-bit mode
    assert abs(md["ColourTemperature"] - ct) < 0.06 * ct
    assert 0.08 < raw[1::2, 0::2].mean() / 959 < 0.3  # green near the AGC's 0.16 target
    assert 400 < md["Lux"] < 1600


def test_mock_manual_controls_take_effect_after_latency(mock_sensor):
    cam = mock_sensor(mode="2028x1520")
    cam.next_request(1.0).release()
    cam.set_controls({"ExposureTime": 3000, "AnalogueGain": 4.0, "AwbEnable": False, "ColourGains": (2.0, 1.5)})
    seen = []
    for _ in range(6):
        with cam.next_request(1.0) as req:
            seen.append((req.metadata["ExposureTime"], req.metadata["AnalogueGain"], req.metadata["ColourGains"]))
    assert seen[0][0] != 3000  # not instantly: libcamera applies controls a couple of frames late
    assert seen[-1] == (3000, 4.0, (2.0, 1.5))


def test_mock_faults(mock_sensor):
    from firmware.errors import SensorDisconnected, SensorTimeout

    cam = mock_sensor()
    first = cam.next_request(1.0)
    first.release()
    cam.inject("drop", frames=2)
    nxt = cam.next_request(1.0)
    assert nxt.sequence == first.sequence + 3
    nxt.release()
    cam.inject("timeout", seconds=2.0)
    with pytest.raises(SensorTimeout):
        cam.next_request(0.5)
    cam.next_request(3.0).release()  # the stall ends, frames resume
    cam.inject("freeze")
    with pytest.raises(SensorTimeout):
        cam.next_request(0.5)
    cam.clear_faults()
    cam.inject("disconnect")
    with pytest.raises(SensorDisconnected):
        cam.next_request(0.5)


def test_mock_drops_frames_when_every_buffer_is_held(mock_sensor):
    cam = mock_sensor(buffers=3)
    held = [cam.next_request(1.0) for _ in range(3)]
    before = cam.frames_dropped
    cam._clock.advance(0.1)
    with pytest.raises(Exception):
        cam.next_request(0.05)
    assert cam.frames_dropped > before
    held[0].release()
    nxt = cam.next_request(1.0)
    assert nxt.sequence > held[-1].sequence + 1
    for r in held[1:] + [nxt]:
        r.release()


def test_mock_cropped_mode_sees_the_same_chart():
    r = Renderer(MODEL, make_scene("colorchecker", MODEL.info.pixel_array_size))
    full = {p.index: p for p in r.patches(HALF)}
    crop_mode = MODEL.info.mode("2028x1080")
    cropped = {p.index: p for p in r.patches(crop_mode)}
    assert set(cropped) == set(full)  # the chart fits the 16:9 crop
    # Same horizontal position, shifted up by the crop's 220-row (binned) offset.
    assert cropped[0].x == full[0].x
    assert abs((full[0].y - cropped[0].y) - 220) <= 1


def test_mock_hot_pixels_are_fixed_and_bright():
    r = Renderer(MODEL, make_scene("flat", MODEL.info.pixel_array_size), seed=1, hot_pixels=50)
    light = spectral.Lighting(5000, "auto", 1)  # nearly dark
    a = r.render(MODEL.info.mode(), light, 100000, 4.0, 10)
    b = r.render(MODEL.info.mode(), light, 100000, 4.0, 20)
    hot_a = set(zip(*np.nonzero(a > 2000)))
    hot_b = set(zip(*np.nonzero(b > 2000)))
    assert 30 <= len(hot_a) <= 50 and hot_a == hot_b


def test_mock_imx708_is_ten_bit():
    m = sensor_model("imx708")
    assert all(mode.bit_depth == 10 for mode in m.info.modes)
    lv = mode_levels(m, m.info.mode())
    assert (lv.black, lv.white) == (64, 1023)
