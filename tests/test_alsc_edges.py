"""Lens shading at the frame's edges, judged by libcamera's own resampling code.

libcamera gives each ``rpi.alsc`` table value to its cell's centre. ``alsc.cpp`` ``resampleCalTable`` moves the
tables onto a mode's crop by bilinear interpolation with its indices clamped to the grid, and the platform code
(``vc4.cpp`` / ``pisp.cpp`` ``resampleTable``) turns the grid into the ISP's corner-sampled table the same way,
its first vertex at -0.5 cells: beyond the outermost cell centres the edge value is held, never extrapolated.
``_vertices`` below transcribes ``resampleTable`` loop by loop; the Pi's ISP then interpolates bilinearly
between the vertices.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from firmware.isp import FrameInfo
from firmware.isp.alsc import AlscStage
from firmware.tuning import TuningFile
from firmware.tuning.blocks import Alsc


def _clamped(x: float, n: int) -> tuple[int, int, float]:
    """One axis of ``resampleTable``: the neighbours of position ``x`` and its phase, indices clamped to 0..n-1."""
    lo = math.floor(x)
    frac = x - lo
    hi = lo + 1 if lo < n - 1 else n - 1
    return max(lo, 0), hi, frac


def _vertices(src: np.ndarray, dest_w: int, dest_h: int) -> np.ndarray:
    """vc4.cpp / pisp.cpp ``resampleTable``: a centre-sampled table to ``dest_w x dest_h`` corner samples
    (x and y both start at -0.5 and step by the table's size over the vertices' count less one)."""
    rows, cols = src.shape
    out = np.empty((dest_h, dest_w))
    for j in range(dest_h):
        y_lo, y_hi, yf = _clamped(-0.5 + j * rows / (dest_h - 1), rows)
        for i in range(dest_w):
            x_lo, x_hi, xf = _clamped(-0.5 + i * cols / (dest_w - 1), cols)
            above = src[y_lo, x_lo] * (1 - xf) + src[y_lo, x_hi] * xf
            below = src[y_hi, x_lo] * (1 - xf) + src[y_hi, x_hi] * xf
            out[j, i] = above * (1 - yf) + below * yf
    return out


def _pisp_hardware(table: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The gain at every pixel of a ``size`` frame: pisp's 33x33 vertices spread over the frame, bilinear."""
    from scipy.ndimage import map_coordinates

    verts = _vertices(table, 33, 33)
    w, h = size
    yy, xx = np.meshgrid((np.arange(h) + 0.5) * 32 / h, (np.arange(w) + 0.5) * 32 / w, indexing="ij")
    return map_coordinates(verts, [yy, xx], order=1, mode="nearest")


def _gain_plane(stage: AlscStage, size: tuple[int, int], ct: float, channel: int) -> np.ndarray:
    """Our ISP's gain at every pixel for one colour (an all-``RGB``-sites CFA reads it off directly)."""
    w, h = size
    frame = FrameInfo(cfa="RGGB", white_level=65535, black_levels=(0.0,) * 4, colour_temperature=ct)
    gains = stage.gain_map(frame, (h, w)).astype(np.float64) / 4096
    site = {0: (0, 0), 1: (0, 1), 2: (1, 1)}[channel]
    return gains[site[0]::2, site[1]::2]


@pytest.mark.parametrize("platform", ["vc4", "pisp"])
def test_alsc_holds_the_edge_values_as_libcamera_does(platform, shared_reference):
    stage = AlscStage(Alsc.read(TuningFile.load(shared_reference / "libcamera-tuning" / platform / "imx477.json")))
    size, ct = (2028, 1520), 4000.0
    red = stage.tables(ct)[0]
    rows, cols = red.shape
    ours = _gain_plane(stage, size, ct, 0)  # the red sites: (w/2, h/2), each at its own centre
    # The red sites of the first and last block rows/columns lie beyond the outermost cell centres: the
    # corner cells' values, held (extrapolating along the edge slope was 1.5-2.8 % off here).
    for (r, c), (j, i) in (((0, 0), (0, 0)), ((0, -1), (0, cols - 1)), ((-1, 0), (rows - 1, 0)),
                           ((-1, -1), (rows - 1, cols - 1))):
        assert ours[r, c] == pytest.approx(red[j, i], abs=2 / 4096), (r, c)
    # At the first vertex (-0.5 cells: the frame's edge) resampleTable gives the edge value itself.
    verts = _vertices(red, 33 if platform == "pisp" else cols + 1, 33 if platform == "pisp" else rows + 1)
    np.testing.assert_allclose(verts[0, :], np.interp(np.linspace(-0.5, cols - 0.5, verts.shape[1]),
                                                      np.arange(cols), red[0]), rtol=1e-12)
    assert verts[0, 0] == red[0, 0] and verts[-1, -1] == red[-1, -1]
    if platform == "pisp":
        # The whole frame against the Pi 5's ISP (vertices spread over the frame, bilinear between): the two
        # agree at the cell centres' values and differ only by the ISP's coarser second interpolation.
        hw = _pisp_hardware(red, size)[0::2, 0::2]
        assert np.abs(ours / hw - 1).max() < 0.017
        edge = np.concatenate([(ours / hw)[:8].ravel(), (ours / hw)[-8:].ravel(), (ours / hw)[:, :8].ravel(),
                               (ours / hw)[:, -8:].ravel()])
        assert np.abs(edge - 1).max() < 0.017
