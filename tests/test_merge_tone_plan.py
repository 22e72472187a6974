"""Local tone mapping of merged frames (no halos, no grey skies, looks keep their character) and exposure planning."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from firmware.isp import FrameInfo, build_pipeline
from firmware.merge import figures as fg
from firmware.merge import merge_burst
from firmware.merge.plan import Limits, StreamStats, measure_motion, plan_burst
from firmware.merge.tone import LocalToneStage, with_local_tone
from firmware.sensor.mock.models import sensor_model
from firmware.sensor.mock.render import Renderer
from firmware.sensor.mock.scenes import make_scene
from firmware.sensor.mock.spectral import Lighting
from firmware.sensor.mock.tuning_default import default_tuning
from firmware.sensor.protocol import SensorMode
from firmware.tuning.looks import apply_look

MODEL = sensor_model("imx477")
ARRAY = MODEL.info.pixel_array_size
SMALL = SensorMode((1014, 760), 12, 40.0, (0, 0, 4056, 3040), 4)  # the whole view, small


def _frame(gain: float) -> FrameInfo:
    return FrameInfo(cfa="RGGB", white_level=65535, black_levels=(0.0,) * 4, extra={"tone_gain": gain})


def test_merge_tone_has_no_halo_at_a_hard_edge():
    img = np.full((256, 256), 600, np.uint16)  # dark wall: 1 % of white
    img[:, 128:] = 60000  # a window the long exposure clips
    out = LocalToneStage().process(img, _frame(16.0)).astype(np.float32) / img
    wall = out[64:192, :128].mean(axis=0)  # gain on the wall, by distance from the window
    assert wall[-4:].min() > 0.9 * wall[:32].mean()  # no dark band beside the window
    assert wall.max() < 1.1 * wall[:32].mean()  # nor a bright one
    assert wall[:32].mean() > 8  # the wall is lifted toward the long exposure...
    window = out[64:192, 128:].mean()
    assert 0.9 < window * 60000 / 65535 < 1.0  # ...and the window stays bright, below white


@pytest.fixture(scope="module")
def room():
    r = Renderer(MODEL, make_scene("hdr-window", ARRAY, 1), seed=1, hot_pixels=0)
    light = Lighting(5000, "auto", 200)
    tuning = default_tuning("imx477")
    ae = fg.mock_ae(r, tuning, SMALL, light)
    metering = [StreamStats.from_raw(r.render(SMALL, light, e, ae.gain, 10**9 + e), (256.0,) * 4, 4095, e, ae.gain)
                for e in (ae.exposure_us, ae.exposure_us // 8)]
    plan = plan_burst("hdr", metering, Limits(max_exposure_us=500_000), frames=6)
    b = fg.render_burst(r, SMALL, light, [(f.exposure_us, f.gain) for f in plan.frames], truth=())
    merged = merge_burst(b.frames, plan.reference)
    info = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(256.0,) * 4, colour_gains=ae.colour_gains,
                     colour_temperature=ae.ct, noise=b.frames[0].noise, extra={"tone_gain": plan.tone_gain})
    return r, tuning, merged, merged.frame_info(info), plan


def _luma(rgb):
    return rgb.astype(np.float32).mean(axis=2)


def test_merge_tone_keeps_the_sky_bright_and_lifts_the_room(room):
    r, tuning, merged, info, plan = room
    rgb = with_local_tone(build_pipeline(tuning)).run(merged.raw, info)
    plain = build_pipeline(tuning).run(merged.raw, replace(info, extra={}))
    h, w = rgb.shape[:2]
    sky = _luma(rgb)[int(0.12 * h):int(0.45 * h), int(0.09 * w):int(0.2 * w)]
    assert sky.mean() > 200 and np.mean(sky >= 254) < 0.5  # bright, not grey, and not one white blot
    corner = (slice(int(0.8 * h), h), slice(0, int(0.3 * w)))  # the room's dark corner
    assert _luma(rgb)[corner].mean() > 4 * _luma(plain)[corner].mean()


def test_merge_tone_authentic_keeps_its_darker_shadows(room):
    r, tuning, merged, info, plan = room
    h, w = merged.raw.shape
    corner = (slice(int(0.75 * h), h), slice(0, int(0.3 * w)))
    dark = {look: _luma(with_local_tone(build_pipeline(apply_look(tuning, look))).run(merged.raw, info))[corner]
            for look in ("neutral", "leica-authentic")}
    assert dark["leica-authentic"].mean() < 0.95 * dark["neutral"].mean()


def test_merge_tone_goes_after_lens_shading():
    names = with_local_tone(build_pipeline(default_tuning("imx477"))).names()
    assert names.index("merge.tone") == names.index("rpi.alsc") + 1


def test_merge_plan_hdr_protects_the_highlights_and_brackets_the_shadows(room):
    r, tuning, merged, info, plan = room
    short, long_ = plan.frames[0], plan.frames[-1]
    assert 2 <= len(plan.frames) <= 15 and plan.reference == 0
    assert long_.exposure_us * long_.gain >= 8 * short.exposure_us * short.gain
    raw = r.render(SMALL, Lighting(5000, "auto", 200), short.exposure_us, short.gain, 3 * 10**9)
    peak = StreamStats.from_raw(raw, (256.0,) * 4, 4095, short.exposure_us, short.gain).highlight(0.999)[0]
    assert peak < 0.98  # the short frames hold the window and the wedge's top
    assert plan.tone_gain > 1


def test_merge_plan_night_trades_exposure_for_frames_with_motion():
    light = Lighting(3000, "auto", 0.5)
    r = Renderer(MODEL, make_scene("night-street", ARRAY, 2), seed=2)
    raw = r.render(SMALL, light, 66_000, 8.0, 10**9)
    still = StreamStats.from_raw(raw, (256.0,) * 4, 4095, 66_000, 8.0)
    shaky = replace(still, motion_px_per_s=200.0)
    a, b = plan_burst("night", still, Limits()), plan_burst("night", shaky, Limits())
    assert a.frames[0].exposure_us > 300_000  # on a tripod: long frames
    assert b.frames[0].exposure_us <= 10_000 + 1  # 2 px of blur at 200 px/s
    assert len(b.frames) >= len(a.frames) and 2 <= len(a.frames) <= 15
    with pytest.raises(ValueError, match="merge mode"):
        plan_burst("panorama", still)
    with pytest.raises(ValueError, match="frames must be"):
        plan_burst("night", still, frames=1)


def test_merge_motion_metering_sees_the_hand():
    light = Lighting(3000, "auto", 20.0)
    r = Renderer(MODEL, make_scene("night-street+shake=6", ARRAY, 3), seed=3)
    b = fg.render_burst(r, SMALL, light, [(20_000, 4.0)] * 2, truth=())
    m = measure_motion(b.frames[0], b.frames[1], 0.1, ARRAY[0])
    dx, dy, _ = np.subtract(r.scene.shake.pose(1.1), r.scene.shake.pose(1.0))
    assert m.px_per_s == pytest.approx(np.hypot(dx, dy) / 0.1, rel=0.35)
    assert m.subject_px_per_s >= m.px_per_s
