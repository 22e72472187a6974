"""Tiling: one tile shape, even spread, aligned starts, and no seams for any operator within the margin."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from firmware.denoise.tiling import Tiling


def box(radius):
    """A local operator with a known reach: a (2r+1)^2 mean, zero outside the array it is given."""
    def fn(x):
        k = 2 * radius + 1
        # A copy: OpenCV would otherwise read past a tile's edge into the frame it is a view of.
        return cv2.boxFilter(x.copy(), -1, (k, k), normalize=True, borderType=cv2.BORDER_CONSTANT)
    return fn


def pooled(x):
    """Reach plus a 4x4 pooling grid, like the network's two stride-2 levels: equal only if tiles align."""
    h, w, c = x.shape
    p = x.reshape(h // 4, 4, w // 4, 4, c).mean(axis=(1, 3))
    return np.repeat(np.repeat(p, 4, axis=0), 4, axis=1) + box(3)(x)


@pytest.mark.parametrize("shape", [(150, 230), (40, 40), (97 * 2, 61 * 2), (480, 300)])
def test_tiled_equals_untiled_for_an_operator_within_the_margin(shape):
    rng = np.random.default_rng(3)
    image = rng.standard_normal(shape + (4,)).astype(np.float32)
    t = Tiling((64, 96), margin=12, align=4)
    fn = pooled
    whole = fn(t.pad(image))[12:12 + shape[0], 12:12 + shape[1]]
    np.testing.assert_allclose(t.run(image, fn), whole, atol=1e-5)


@pytest.mark.parametrize("shape", [(150, 230), (40, 40), (480, 300)])
def test_emitted_shares_cover_the_frame_once_with_the_same_values(shape):
    image = np.random.default_rng(5).standard_normal(shape + (4,)).astype(np.float32)
    t = Tiling((64, 96), margin=12, align=4)
    count = np.zeros(shape, np.int32)
    out = np.full(image.shape, np.nan, np.float32)

    def emit(r0, r1, c0, c1, values):
        count[r0:r1, c0:c1] += 1
        out[r0:r1, c0:c1] = values

    assert t.run(image, pooled, emit) is None
    assert (count == 1).all()
    np.testing.assert_array_equal(out, t.run(image, pooled))


def test_a_margin_smaller_than_the_reach_leaves_seams():
    image = np.random.default_rng(4).standard_normal((200, 200, 4)).astype(np.float32)
    t = Tiling((48, 48), margin=4, align=4)
    whole = box(12)(t.pad(image))[4:204, 4:204]
    assert np.abs(t.run(image, box(12)) - whole).max() > 1e-3


def test_tiles_have_one_shape_aligned_starts_and_even_spacing():
    t = Tiling((560, 560), margin=20, align=4)
    h, w = 1520, 2028  # a 12.3 MP IMX477 frame, packed
    plan = t.plan(h, w)
    ys = sorted({y for y, _ in plan})
    xs = sorted({x for _, x in plan})
    assert len(plan) == len(ys) * len(xs) == 12
    assert all(v % 4 == 0 for v in ys + xs)
    ph, pw = t.padded_shape(h, w)
    assert ys[0] == xs[0] == 0 and ys[-1] == ph - 560 and xs[-1] == pw - 560
    for starts in (ys, xs):
        steps = np.diff(starts)
        assert steps.max() - steps.min() <= 4  # spread evenly, not a sliver of a last tile
        assert steps.max() <= 560 - 2 * 20
    assert t.redundancy(h, w) < 1.25


def test_invalid_tilings_are_refused():
    with pytest.raises(ValueError, match="multiples"):
        Tiling((64, 64), margin=10, align=4)
    with pytest.raises(ValueError, match="nothing inside"):
        Tiling((40, 40), margin=20, align=4)


@pytest.mark.parametrize("shape", [(150, 230), (5, 3), (1, 40), (480, 300)])
def test_padding_reflects_then_repeats_the_edge_in_place_or_not(shape):
    image = np.random.default_rng(6).standard_normal(shape + (2,)).astype(np.float32)
    t = Tiling((64, 96), margin=12, align=4)
    h, w = shape
    ph, pw = t.padded_shape(h, w)
    widths = [(12, ph - h - 12), (12, pw - w - 12)]
    reach = [(min(a, n - 1), min(b, n - 1)) for (a, b), n in zip(widths, shape)]
    expected = np.pad(image, reach + [(0, 0)], mode="reflect")
    expected = np.pad(expected, [(a - ra, b - rb) for (a, b), (ra, rb) in zip(widths, reach)] + [(0, 0)],
                      mode="edge")
    np.testing.assert_array_equal(t.pad(image), expected)
    padded, inside = t.empty(h, w, 2)
    inside[...] = image
    t.fill_margins(padded, h, w)
    np.testing.assert_array_equal(padded, expected)
