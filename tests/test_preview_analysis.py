"""What the preview measures and draws (histogram, clipping, focus figure, zebras, peaking), the viewfinder's
raw binning, and the mock's low-resolution stream and focus ring that feed them."""

import cv2
import numpy as np
import pytest

from firmware.camera import analysis
from firmware.camera.viewfinder import bin_bayer
from firmware.isp import FrameInfo, build_preview_pipeline


def test_histogram_counts_every_pixel_and_reports_clipping():
    rgb = np.zeros((10, 10, 3), np.uint8)
    rgb[:2, :, 0] = 255  # 20 % of red clipped
    rgb[5:, :, :] = 128
    h = analysis.histogram(rgb, bins=16, raw=np.array([[4095, 0], [4095, 10]], np.uint16), white_level=4095)
    assert all(sum(h[k]) == 100 for k in ("r", "g", "b", "luma"))
    assert h["clipped"]["r"] == 20.0 and h["clipped"]["g"] == 0.0
    assert h["crushed"]["g"] == 50.0 and h["raw_clipped"] == 50.0
    assert h["r"][15] == 20 and h["g"][8] == 50  # 255 in the last bin, 128 in the middle one


def test_focus_measure_falls_with_blur_and_ignores_exposure():
    rng = np.random.default_rng(1)
    sharp = (rng.random((240, 320, 3)) > 0.5).astype(np.uint8) * 200 + 20
    figures = [analysis.focus_measure(cv2.GaussianBlur(sharp, (0, 0), s) if s else sharp) for s in (0, 1, 2, 4)]
    assert figures == sorted(figures, reverse=True) and figures[-1] < figures[0] / 4
    darker = (sharp // 2).astype(np.uint8)
    assert analysis.focus_measure(darker) == pytest.approx(figures[0], rel=0.05)


def test_zebras_stripe_only_clipped_pixels_and_peaking_marks_edges():
    rgb = np.full((32, 64, 3), 100, np.uint8)
    rgb[:, 32:] = 255
    z = analysis.zebras(rgb)
    assert (z[:, :32] == 100).all()
    right = z[:, 32:].reshape(-1, 3)
    assert {tuple(p) for p in right} == {(0, 0, 0), (255, 255, 255)}
    p = analysis.peaking(rgb)
    marked = (p == (255, 0, 0)).all(axis=2)
    assert marked[:, 30:34].any() and not marked[:, :28].any() and not marked[:, 36:].any()


def test_bin_bayer_keeps_each_cfa_site_to_itself():
    raw = np.zeros((8, 8), np.uint16)
    raw[0::2, 0::2], raw[0::2, 1::2], raw[1::2, 0::2], raw[1::2, 1::2] = 100, 200, 300, 400
    small = bin_bayer(raw, 2)
    assert small.shape == (4, 4)
    assert (small[0::2, 0::2] == 100).all() and (small[1::2, 1::2] == 400).all()


def test_the_mock_lores_stream_is_the_same_exposure_at_640_wide(mock_sensor):
    cam = mock_sensor(mode="2028x1520", buffers=4)
    with cam.next_request(timeout=5) as req:
        assert req.streams == ("raw", "lores")
        raw, lores = req.make_array("raw"), req.make_array("lores")
        assert lores.shape == (480, 640) and lores.dtype == raw.dtype
        # Same brightness per channel (area-average of the raw's site planes vs the lores' own).
        for dy, dx in ((0, 0), (0, 1), (1, 1)):
            assert lores[dy::2, dx::2].mean() == pytest.approx(raw[dy::2, dx::2].mean(), rel=0.03)
        md = req.get_metadata()
    # It develops through the preview ISP like any raw frame.
    info = FrameInfo.from_metadata(md, "RGGB", 12)
    rgb = build_preview_pipeline(cam.tuning).run(lores, info)
    assert rgb.shape == (480, 640, 3) and 60 < rgb.mean() < 200
    # Its buffers are not the sensor's: after many frames the pool is intact.
    for _ in range(12):
        with cam.next_request(timeout=5) as r:
            r.make_array("lores")
    assert cam.frames_dropped == 0


def test_the_focus_ring_blurs_frames_and_in_focus_is_the_plain_model(mock_sensor, clock):
    plain = mock_sensor(mode="1332x990", buffers=4, start=False)
    ringed = mock_sensor(mode="1332x990", buffers=4, start=False)
    ringed.set_focus(0.1)
    ringed.set_focus(ringed.focus_sharp)  # turned away and back: exactly the untouched lens
    plain.start()
    ringed.start()
    with plain.next_request(timeout=5) as a, ringed.next_request(timeout=5) as b:
        assert np.array_equal(a.make_array("raw"), b.make_array("raw"))
    figures = []
    for pos in (0.5, 0.4, 0.2, 0.0):
        ringed.set_focus(pos)
        with ringed.next_request(timeout=5) as req:
            md = req.get_metadata()
            rgb = build_preview_pipeline(ringed.tuning).run(req.make_array("lores"),
                                                            FrameInfo.from_metadata(md, "RGGB", 10))
            figures.append(analysis.focus_measure(rgb))
    assert figures == sorted(figures, reverse=True) and figures[-1] < 0.6 * figures[0]
    with pytest.raises(ValueError, match="between 0 and 1"):
        ringed.set_focus(1.5)
