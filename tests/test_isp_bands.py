"""The pipeline's band runner: bands of rows on threads give, bit for bit, what each stage gives on the frame.

``run`` (bands) is compared with ``run(save_intermediates=True)`` (every stage on the whole frame, the path
the per-stage golden tests cover) on frames where every pixel's neighbourhood matters: noise, hard edges and
defective photosites. Small bands make every stage's halo count.
"""

import threading

import numpy as np
import pytest

from firmware.isp import FrameInfo, Pipeline, build_pipeline, build_preview_pipeline
from firmware.isp import bands
from firmware.isp.dpc import DpcStage
from firmware.isp.stage import RGB_ENCODED8, Stage
from firmware.sensor.mock.tuning_default import default_tuning

TUNING = default_tuning("imx477")
FRAME = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(256,) * 4, colour_gains=(2.0, 1.5),
                  colour_temperature=5000)


def raw_frame(h=300, w=412, seed=0) -> np.ndarray:
    """12-bit Bayer data with noise, a bright block with hard edges and scattered hot and dead sites."""
    rng = np.random.default_rng(seed)
    raw = rng.normal(900, 250, (h, w))
    raw[h // 3: 2 * h // 3, w // 4: w // 2] += 2200
    raw[rng.integers(0, h, 60), rng.integers(0, w, 60)] = 4095
    raw[rng.integers(0, h, 60), rng.integers(0, w, 60)] = 0
    return np.clip(raw, 0, 4095).astype(np.uint16)


@pytest.fixture
def small_bands(monkeypatch):
    """Bands of 10 rows, fewer than the still pipeline's margins (6 rows) twice over, on any frame size."""
    monkeypatch.setattr(bands, "BAND_ROWS", 10)
    monkeypatch.setattr(bands, "MIN_PIXELS", 0)


def assert_bands_match_whole(pipe: Pipeline, raw: np.ndarray, frame: FrameInfo) -> np.ndarray:
    before = raw.copy()
    banded = pipe.run(raw, frame)
    whole, steps = pipe.run(raw, frame, save_intermediates=True)
    assert banded.dtype == whole.dtype and banded.shape == whole.shape
    np.testing.assert_array_equal(banded, whole)
    np.testing.assert_array_equal(raw, before)  # the caller's frame is never written
    return whole


@pytest.mark.parametrize("cfa", ["RGGB", "BGGR", "GRBG", "GBRG"])
@pytest.mark.parametrize("demosaic", ["hq", "fast"])
def test_isp_bands_match_the_whole_frame_for_every_cfa_and_demosaic(small_bands, cfa, demosaic):
    frame = FrameInfo(cfa=cfa, white_level=4095, black_levels=(256,) * 4, colour_gains=(1.8, 1.6), lux=800)
    out = assert_bands_match_whole(build_pipeline(TUNING, demosaic=demosaic), raw_frame(), frame)
    assert out.dtype == np.uint8 and np.ptp(out) > 100  # a real picture, not a blank that matches trivially


def test_isp_bands_match_at_16_bits_with_unequal_black_levels(small_bands):
    frame = FrameInfo(cfa="GRBG", white_level=4095, black_levels=(250, 256, 260, 256), colour_gains=(2.0, 1.5))
    out = assert_bands_match_whole(build_pipeline(TUNING, output_bits=16), raw_frame(seed=1), frame)
    assert out.dtype == np.uint16


def test_isp_bands_wait_for_whole_frame_statistics(small_bands):
    """AWB's search and the adaptive contrast stretch look at the whole frame before their bands run."""
    tuning = TUNING.copy()
    tuning.set_block("rpi.contrast", dict(tuning.block("rpi.contrast"), ce_enable=1))
    frame = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(256,) * 4, lux=800)  # no gains: AWB searches
    pipe = build_pipeline(tuning)
    named = dict(zip(pipe.names(), pipe.stages))
    assert named["rpi.awb"].needs_frame(frame) and named["rpi.contrast"].needs_frame(frame)
    assert_bands_match_whole(pipe, raw_frame(seed=2), frame)
    assert pipe.frame.colour_gains is not None  # what AWB found reaches the caller, as on the whole frame


def test_isp_bands_around_a_whole_frame_stage(small_bands):
    class Halve:  # a denoiser: a whole-frame stage in the middle of the band stages
        mode = "fast"

        def denoise(self, bayer, frame):
            return bayer * np.float32(0.5)

    assert_bands_match_whole(build_pipeline(TUNING, denoiser=Halve()), raw_frame(seed=3), FRAME)
    preview = build_preview_pipeline(TUNING, size=(200, 150))  # bands, a resize, bands again
    assert assert_bands_match_whole(preview, raw_frame(seed=4), FRAME).shape == (150, 200, 3)


def test_isp_bands_copy_shared_rows_before_a_stage_writes_in_place(small_bands):
    """DPC overwrites its input; neighbouring bands read the same rows of the caller's frame."""
    bayer = raw_frame(seed=5) * np.uint16(16)
    assert_bands_match_whole(Pipeline([DpcStage(strength=2)]), bayer, FRAME)


def test_isp_band_margins_cover_every_halo_in_whole_cfa_blocks():
    pipe = build_pipeline(TUNING)
    assert [s.halo for s in pipe.stages] == [0, 4, 0, 2, 0, 4, 0, 0, 2]
    # sharpen 2; demosaic 4 more (already whole CFA blocks); highlights 2 more; DPC 4 more.
    assert bands.margins(pipe.stages) == [12, 12, 8, 8, 6, 6, 2, 2, 2, 0]


class _Recorder(Stage):
    name = "recorder"
    input = output = RGB_ENCODED8
    halo = 0

    def __init__(self, fail_at: int | None = None):
        self.calls: list[tuple[int, int, str]] = []
        self.fail_at = fail_at

    def prepare(self, frame, shape, image=None):
        def kernel(rows, top):
            if top == self.fail_at:
                raise RuntimeError(f"band at row {top} failed")
            self.calls.append((top, len(rows), threading.current_thread().name))
            return rows + np.uint8(1)

        return kernel


def test_isp_bands_cover_the_frame_once_and_report_timings():
    rec = _Recorder()
    pipe = Pipeline([rec])
    image = np.zeros((1000, 600, 3), np.uint8)  # 600 k pixels: banded
    out = pipe.run(image, FRAME)
    assert (out == 1).all()
    assert sorted(top for top, _, _ in rec.calls) == list(range(0, 1000, bands.BAND_ROWS))
    assert sum(n for _, n, _ in rec.calls) == 1000
    me = threading.current_thread().name
    assert me in {name for _, _, name in rec.calls}  # the caller works too
    assert {name for _, _, name in rec.calls} <= {me} | {f"isp-band_{i}" for i in range(bands.THREADS - 1)}
    assert list(pipe.timings) == ["recorder"] and pipe.timings["recorder"] > 0
    rec.calls.clear()
    pipe.run(np.zeros((100, 100, 3), np.uint8), FRAME)  # a small frame is one band on the caller's thread
    assert rec.calls == [(0, 100, me)]


def test_isp_bands_do_not_wait_for_a_busy_pool():
    """Another frame holding every helper (a still develop while the viewfinder runs) only means no help."""
    release = threading.Event()
    busy = [bands._helpers().submit(release.wait, 10) for _ in range(bands.THREADS - 1)]
    try:
        rec = _Recorder()
        out = Pipeline([rec]).run(np.zeros((1000, 600, 3), np.uint8), FRAME)
        assert (out == 1).all() and {name for _, _, name in rec.calls} == {threading.current_thread().name}
    finally:
        release.set()
    assert all(f.result() for f in busy)


def test_isp_bands_report_a_failing_band_and_recover():
    pipe = Pipeline([_Recorder(fail_at=2 * bands.BAND_ROWS)])
    with pytest.raises(RuntimeError, match=f"band at row {2 * bands.BAND_ROWS} failed"):
        pipe.run(np.zeros((1000, 600, 3), np.uint8), FRAME)
    pipe.stages[0].fail_at = None
    assert (pipe.run(np.zeros((1000, 600, 3), np.uint8), FRAME) == 1).all()


def test_isp_still_pipeline_bands_a_full_resolution_frame_like_the_whole_frame():
    raw = raw_frame(3040, 4056, seed=6)
    out = assert_bands_match_whole(build_pipeline(TUNING), raw, FRAME)
    assert out.shape == (3040, 4056, 3)
