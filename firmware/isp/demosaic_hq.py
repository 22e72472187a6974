"""The ``hq`` demosaic: green along the edges, red and blue as differences from green, steered the same way.

Site by site (the ideas of Hamilton-Adams, AHD's homogeneity and RawTherapee's RCD):

1. **Green at red and blue sites**, horizontally and vertically: the mean of the two green neighbours plus
   an eighth of the site colour's second difference (2C - C_left - C_right), which lets green follow detail
   finer than its own sampling. A quarter (Hamilton-Adams' own weight) overshoots behind this lens; an
   eighth measured best on the mock's zone plate, dead leaves and photographs alike.
2. **Horizontal against vertical** by Hamilton-Adams' classifier (green difference plus the second
   difference), weighted by the *cubed* gradients: it commits to one direction wherever there is one (a
   zone plate's rings, an edge), where a linear weight blends the two into aliasing and softness, and still
   mixes evenly in flat, noisy areas, so noise does not turn into a maze.
3. **Red and blue as differences from green** (R - G, B - G), which are flat on neutral detail, so
   interpolating them cannot make colour: first at the opposite colour's sites from the four diagonal
   neighbours, then at green sites from the four direct ones, blended horizontally/vertically with the green
   step's weights (the mean of the four neighbours') so colour edges are followed too.

The arithmetic is a small C extension (``demosaic_hq.c``, built by pip with the package): in numpy and OpenCV
it took ~100 whole-plane passes and three times the CPU (``docs/isp-speed.md``). It runs on the four CFA planes
(quarter size) in 32-bit integers on the full 16-bit scale, the direction weight in float, and releases the
GIL, so bands run on several threads. Its work space and output live for a frame, per thread
(``Workspace``): fresh band-sized buffers would cost more in page faults than the arithmetic.
Figures against LibRaw's AHD on the same mosaic: ``python -m bench quality``.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from .compiled import kernel

_demosaic_hq = kernel("demosaic_hq")

HALO = 4  # rows: green reads two away, colour differences one more, green-site differences one more


class Workspace:
    """Work space and output for one frame: each thread keeps its own from band to band (made in ``prepare``,
    dropped with the kernel when the frame is done). A band of another size gets a set of its own."""

    def __init__(self):
        self._threads: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def buffers(self, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
        """(scratch, output) for an h x w mosaic on this thread."""
        ident = threading.get_ident()
        held = self._threads.get(ident)
        if held is None or held[1].shape[:2] != (h, w):
            held = self._threads[ident] = (np.empty(_demosaic_hq.scratch_bytes(h, w), np.uint8),
                                           np.empty((h, w, 3), np.uint16))
        return held


def demosaic(rows: np.ndarray, cfa: str, workspace: Workspace | None = None) -> np.ndarray:
    """Demosaic a uint16 Bayer image (h, w even, at least 4 x 4) with CFA order ``cfa`` to RGB uint16.

    With a ``workspace`` the result is one of its buffers, valid until this thread's next call with it.
    """
    # Every order is RGGB up to a swap of red and blue and a shift of one column: mirror one extra column on
    # each side for the green-first orders and crop it off after.
    shift = cfa[0] == "G"
    if shift:
        rows = cv2.copyMakeBorder(rows, 0, 0, 1, 1, cv2.BORDER_REFLECT_101)
    h, w = rows.shape
    scratch, rgb = (workspace or Workspace()).buffers(h, w)
    # BGGR, GBRG: the first non-green site is blue.
    _demosaic_hq.demosaic(np.ascontiguousarray(rows, np.uint16), h, w, rgb, scratch, "B" in cfa[:2])
    if shift:
        rgb = rgb[:, 1:-1]
    return rgb if workspace is not None else rgb.copy()
