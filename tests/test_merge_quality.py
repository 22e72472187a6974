"""The merge against the mock's truth: alignment, dynamic range, shadow noise, ghosts, AEB brackets."""

from __future__ import annotations

import numpy as np
import pytest

from firmware.frame import NoiseProfile
from firmware.merge import BurstFrame, merge_burst
from firmware.merge import figures as fg
from firmware.merge.align import STEP, TILE, Reference, TileGrid, align
from firmware.merge.plan import Limits, StreamStats, plan_burst
from firmware.sensor.mock.models import sensor_model
from firmware.sensor.mock.motion import moving_mask
from firmware.sensor.mock.render import Renderer
from firmware.sensor.mock.scenes import make_scene
from firmware.sensor.mock.spectral import Lighting
from firmware.sensor.mock.tuning_default import default_tuning
from firmware.sensor.protocol import SensorMode

MODEL = sensor_model("imx477")
ARRAY = MODEL.info.pixel_array_size
METER = MODEL.info.mode("2028x1520")
WEDGE = SensorMode((1000, 580), 12, 40.0, (1900, 1660, 2000, 1160), 2)  # the hdr-window wedge, 2x2 binned
NIGHT = SensorMode((1024, 768), 12, 10.0, (1400, 1600, 1024, 768), 1)  # full resolution; an object crosses


@pytest.fixture(scope="module")
def hdr_room():
    r = Renderer(MODEL, make_scene("hdr-window", ARRAY, 1), seed=1, hot_pixels=0)
    light = Lighting(5000, "auto", 200)
    return r, light, fg.mock_ae(r, default_tuning("imx477"), METER, light)


def _stats(r, light, exposure, gain, ts):
    raw = r.render(METER, light, exposure, gain, ts)
    return StreamStats.from_raw(raw, (256.0,) * 4, 4095, exposure, gain)


def test_merge_aligns_hand_shake_to_a_fraction_of_a_pixel_in_the_dark():
    r = Renderer(MODEL, make_scene("night-street+shake", ARRAY, 5), seed=5, hot_pixels=0)
    mode = SensorMode((1024, 768), 12, 10.0, (1016, 1136, 1024, 768), 1)
    b = fg.render_burst(r, mode, Lighting(4000, "auto", 2.0), [(60_000, 8.0)] * 3, truth=())
    ref = b.frames[0]
    grid = TileGrid.for_plane((384, 512))
    view = Reference(ref.luma(), grid)
    oy, ox = grid.origins()
    cy, cx = oy - STEP + TILE / 2 - 0.5, ox - STEP + TILE / 2 - 0.5
    inner = (cy > 24) & (cy < 360) & (cx > 24) & (cx < 488)
    for k in (1, 2):
        a = align(view, b.frames[k].luma(), lambda y: (0.25 * ref.noise.variance(np.maximum(y, 0)),) * 2)
        truth = r.scene.plane_shift(mode, b.timestamps[0], b.timestamps[k], cy, cx)
        err = np.hypot(*(a.shift.reshape(-1, 2) - truth).T)[inner]
        assert np.abs(truth).max() > 1.0  # the hand moved the picture by more than a pixel
        assert np.median(err) < 0.3
        assert np.mean(err > 1.0) < 0.05


def test_merge_extends_dynamic_range_by_more_than_two_and_a_half_stops(hdr_room):
    r, light, ae = hdr_room
    metering = [_stats(r, light, e, ae.gain, 900_000_000 + i) for i, e in enumerate((ae.exposure_us,
                                                                                       ae.exposure_us // 8))]
    plan = plan_burst("hdr", metering, Limits(max_exposure_us=500_000), frames=8)
    patches = r.patches(WEDGE)
    single = fg.render_burst(r, WEDGE, light, [(ae.exposure_us, ae.gain)], t0_ns=5 * 10**9)
    burst = fg.render_burst(r, WEDGE, light, [(f.exposure_us, f.gain) for f in plan.frames], truth=(0,))
    merged = merge_burst(burst.frames, plan.reference)
    dr_single = fg.wedge_range(fg.normalised(single.frames[0]), single.truth[0], patches).stops
    dr_merged = fg.wedge_range(fg.normalised(merged), burst.truth[0], patches).stops
    assert dr_single > 10  # the mock's sensor is an IMX477: about 11 stops in one frame
    assert dr_merged - dr_single >= 2.5


def test_merge_shadow_snr_grows_with_the_square_root_of_the_frames(hdr_room):
    r, light, ae = hdr_room
    b = fg.render_burst(r, WEDGE, light, [(ae.exposure_us // 4, ae.gain)] * 8, truth=(0,))
    patches = r.patches(WEDGE)
    one = fg.wedge_range(fg.normalised(b.frames[0]), b.truth[0], patches)
    eight = fg.wedge_range(fg.normalised(merge_burst(b.frames, 0)), b.truth[0], patches)
    shadows = (one.snr >= 1) & (one.snr <= 10)
    assert shadows.sum() >= 4
    assert np.mean(eight.snr[shadows] / one.snr[shadows]) >= 0.8 * np.sqrt(8)


def test_merge_at_half_a_lux_cleans_static_parts_without_ghosting_moving_ones():
    r = Renderer(MODEL, make_scene("night-street+shake+objects", ARRAY, 2), seed=2, hot_pixels=0)
    light = Lighting(3000, "auto", 0.5)
    b = fg.render_burst(r, NIGHT, light, [(66_000, 8.0)] * 8, truth=(0,))
    merged = merge_burst(b.frames, 0)
    moving = moving_mask(r, NIGHT, light, b.timestamps, b.timestamps[0])
    inner = np.zeros_like(moving)
    inner[32:-32, 32:-32] = True
    static, moving = inner & ~moving, inner & moving
    assert moving.mean() > 0.2  # the object crosses this window during the burst
    ref, truth = fg.normalised(b.frames[0]), b.truth[0]
    out, naive = fg.normalised(merged), np.mean([fg.normalised(f) for f in b.frames], axis=0)
    assert fg.psnr(out, truth, static) >= fg.psnr(ref, truth, static) + 5
    assert fg.psnr(out, truth, moving) >= fg.psnr(ref, truth, moving)
    # The check can see ghosts: a plain average of the same frames shows them.
    assert fg.psnr(naive, truth, moving) < fg.psnr(out, truth, moving) - 3
    # Every frame went in where it matched: most of each frame's tiles were merged.
    assert min(f.merged for f in merged.frames) > 0.6


def test_merge_of_an_aeb_bracket_keeps_highlights_and_cleans_shadows(hdr_room):
    r, light, ae = hdr_room
    e = ae.exposure_us
    b = fg.render_burst(r, WEDGE, light, [(e // 4, ae.gain), (e, ae.gain), (e * 4, ae.gain)], truth=(0,))
    patches = r.patches(WEDGE)
    short = fg.wedge_range(fg.normalised(b.frames[0]), b.truth[0], patches)
    merged = fg.wedge_range(fg.normalised(merge_burst(b.frames, 0)), b.truth[0], patches)
    assert merged.clipped.max() <= short.clipped.max()  # the long frames' clipped highlights stay out
    dark = (short.snr > 0.5) & (short.snr < 5)
    assert np.all(merged.snr[dark] > 3 * short.snr[dark])  # 16x the light in the long frame: ~4x the SNR
    assert merged.stops >= short.stops + 2


def test_merge_rejects_bursts_it_cannot_merge():
    frame = BurstFrame(np.zeros((128, 128), np.uint16), (256.0,) * 4, 4095, NoiseProfile(1e-3, 1e-6), 1000.0)
    with pytest.raises(ValueError, match="at least 2 frames"):
        merge_burst([frame])
    other = BurstFrame(np.zeros((128, 130), np.uint16), (256.0,) * 4, 4095, frame.noise, 1000.0)
    with pytest.raises(ValueError, match="differs from frame 0"):
        merge_burst([frame, other])
    with pytest.raises(ValueError, match="reference 5"):
        merge_burst([frame, frame], reference=5)
