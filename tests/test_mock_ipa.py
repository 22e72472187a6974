"""AGC as libcamera's ``rpi.agc`` runs it (``agc_channel.cpp``): on the loop itself and on the mock sensor.

The loop's figures are checked against what ``AgcChannel::process`` computes for the same numbers (the stock
HQ-camera exposure modes, constraint modes and y_target); the mock is checked end to end: dead leaves at 15 lux
come out as bright as at 2000 lux because AE goes as far as the exposure modes and the sensor allow.
"""

from __future__ import annotations

import numpy as np
import pytest

from firmware.isp import FrameInfo, build_pipeline
from firmware.sensor.mock.ipa import metering_map
from firmware.tuning import Pwl
from firmware.tuning.blocks import AgcChannel
from firmware.tuning.blocks.agc import AgcConstraint
from firmware.tuning.blocks.agc_loop import AgcLoop, AgcStats, inter_quantile_mean
from firmware.tuning.defaults import agc_block
from firmware.tuning.file import TuningFile
from firmware.tuning.hardware import VC4

STOCK_NORMAL = ((100.0, 10000.0, 30000.0, 60000.0, 66666.0), (1.0, 2.0, 4.0, 6.0, 16.0))


def _channel(**kw) -> AgcChannel:
    tf = TuningFile(2.0, "bcm2835", [("rpi.agc", agc_block(VC4, max_gain=16.0))])
    import dataclasses

    return dataclasses.replace(AgcChannel.read(tf), **kw)


def _loop(constraints: bool = False, **kw) -> AgcLoop:
    """The stock-like channel; without its histogram constraints unless asked (a flat test scene would meet
    the LOWER bound on its brightest 2 % and be pushed up to 0.5)."""
    if not constraints:
        kw.setdefault("constraints", {})
    return AgcLoop(_channel(**kw), gain_range=(1.0, 22.26), shutter_range=(114.0, 1_000_000.0))


def test_agc_divides_the_exposure_along_the_mode_like_divide_up_exposure():
    loop = _loop()
    shutters, gains = STOCK_NORMAL
    # Shutter to the first stage, then gain to its stage, then shutter to the next, and so on.
    assert loop.divide(5_000, shutters, gains) == (5000.0, 1.0)
    assert loop.divide(15_000, shutters, gains) == (10000.0, 1.5)
    assert loop.divide(40_000, shutters, gains) == (20000.0, 2.0)
    assert loop.divide(200_000, shutters, gains) == (50000.0, 4.0)
    assert loop.divide(800_000, shutters, gains) == pytest.approx((66666.0, 800_000 / 66666))
    # A frame-duration limit of 1/30 s caps every stage's shutter; the gain takes the rest.
    loop.shutter_range = (114.0, 33_333.0)
    assert loop.divide(200_000, shutters, gains) == pytest.approx((33333.0, 200_000 / 33333))
    # A fixed shutter leaves only the gain to move; flicker periods round the shutter down (gain makes up).
    loop.shutter_range = (114.0, 1_000_000.0)
    loop.flicker_period = 10_000.0
    t, g = loop.divide(25_000, shutters, gains)
    assert t == 10000.0 and g == pytest.approx(2.5)


def test_agc_meters_to_y_target_and_caps_at_the_end_of_the_exposure_mode():
    loop = _loop()
    grey = AgcStats(np.full((192, 3), 0.04), np.ones(192), np.full(400, 0.04))
    e = loop.process(grey, exposure_us=10_000, gain=1.0, lux=400)
    target = float(Pwl([0, 0.16, 1000, 0.165, 10000, 0.17]).eval(400))
    assert e.total == pytest.approx(10_000 * target / 0.041, rel=0.02)  # y_target / (Y + .001), as computeGain
    dark = AgcStats(np.full((192, 3), 1e-5), np.ones(192), np.full(400, 1e-5))
    e = _loop().process(dark, exposure_us=10_000, gain=1.0, lux=1)
    assert e.total == pytest.approx(66666 * 16.0) and (e.shutter_us, e.analogue_gain) == (66666.0, 16.0)
    ev = _loop()
    ev.ev = 2.0 ** 10  # the target is clamped to 0.9 (EvGainYTargetLimit), not 160
    assert ev.compute_gain(grey, (1.0, 1.0), 400) == pytest.approx(0.9 / 0.04, rel=0.01)


def test_agc_constraint_modes_use_the_histogram_quantiles():
    # Dark mean, a few clipped highlights: "normal" (LOWER bound on the top 2 %) changes nothing here, while
    # "highlight" adds an UPPER bound that holds the top 2 % at 0.8 and so lowers the exposure.
    y = np.concatenate([np.full(980, 0.05), np.full(20, 0.6)])
    stats = AgcStats(np.full((192, 3), 0.06), np.ones(192), y)
    assert inter_quantile_mean(y, 0.98, 1.0) == pytest.approx(0.6)
    normal, highlight = _loop(constraints=True), _loop(constraints=True)
    highlight.constraint_mode = "highlight"
    g_normal = normal.compute_gain(stats, (1.0, 1.0), 400)
    g_high = highlight.compute_gain(stats, (1.0, 1.0), 400)
    assert g_normal == pytest.approx(0.164 / 0.061, rel=0.01) and g_high == pytest.approx(0.8 / 0.6)
    shadows = _loop(constraints={"shadows": [AgcConstraint("LOWER", 0.0, 0.5, Pwl([0, 0.17]))]})
    shadows.constraint_mode = "shadows"
    assert shadows.compute_gain(stats, (1.0, 1.0), 400) == pytest.approx(0.17 / 0.05)


def test_agc_filters_with_speed_and_leaves_the_stable_region_alone():
    loop = _loop(startup_frames=1)
    stats = AgcStats(np.full((192, 3), 0.08), np.ones(192), np.full(400, 0.08))
    first = loop.process(stats, 10_000, 1.0).total  # startup: straight to the target
    stats = AgcStats(np.full((192, 3), 0.04), np.ones(192), np.full(400, 0.04))
    second = loop.process(stats, 10_000, 1.0).total  # now filtered at speed 0.2
    target = 10_000 * 0.164 / 0.041
    assert second == pytest.approx(0.2 * target + 0.8 * first, rel=0.01)
    # Metered at the filtered exposure, 1.5 % short of the target: inside the 2 % stable region, no change.
    near = AgcStats(np.full((192, 3), 0.1605), np.ones(192), np.full(400, 0.16))
    assert loop.process(near, second, 1.0).total == second


def test_metering_modes_spread_onto_the_statistics_grid():
    centre = metering_map(np.array([3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0]), (12, 16))
    assert centre[6, 8] == 3 and centre[0, 0] == 0 and centre[6, 0] in (1, 2)
    spot = metering_map(np.array([2, 1, 1] + [0] * 12), (12, 16))
    assert spot[5:7, 7:9].min() >= 1 and spot.sum() < 20
    grid = metering_map(np.arange(225.0), (12, 16))  # pisp: 15x15 zones tiling the frame
    assert grid[0, 0] == 0 and grid[-1, -1] == 224


def _luma(mock_sensor, lux: float, **controls) -> tuple[float, dict]:
    cam = mock_sensor(scene="dead-leaves", ct=5000, lux=lux, mode="1332x990")
    if controls:
        cam.set_controls(controls)
    for _ in range(40):
        cam.next_request(1.0).release()
    with cam.next_request(1.0) as req:
        raw, md = req.make_array("raw").copy(), req.get_metadata()
    rgb = build_pipeline(cam.tuning, demosaic="fast").run(raw, FrameInfo.from_metadata(md, "RGGB", 12))
    return float((rgb.astype(np.float64) @ [0.299, 0.587, 0.114]).mean()), md


def test_mock_dead_leaves_at_15_lux_as_bright_as_in_good_light(mock_sensor):
    bright, md_bright = _luma(mock_sensor, 2000)
    dark, md_dark = _luma(mock_sensor, 15)
    assert abs(dark / bright - 1) <= 0.10, (dark, bright, md_dark["ExposureTime"], md_dark["AnalogueGain"])
    assert md_dark["ExposureTime"] == 66666 and md_dark["AnalogueGain"] > 8.0  # past the old 1/15 s x 8 stop
    # Flicker: with a 10 ms period every exposure is a whole number of periods, the gain making up the rest.
    _, md = _luma(mock_sensor, 15, AeFlickerMode=1, AeFlickerPeriod=10000)
    assert md["ExposureTime"] == 60000 and md["AnalogueGain"] > md_dark["AnalogueGain"]
