"""The ``hq`` demosaic: green along the edges, red and blue as differences from green, steered the same way.

Site by site (the ideas of Hamilton-Adams, AHD's homogeneity and RawTherapee's RCD, rebuilt for whole-plane
OpenCV passes):

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

Everything runs on the four CFA planes (quarter size) in 16-bit integers holding the 16-bit input shifted
right by two: sums and second differences of 14-bit values fit without overflow, and the two dropped bits are
below any sensor's noise (a 12-bit sensor's step is 16 on the 16-bit scale). Work planes live for a frame, per
thread (``Workspace``): fresh band-sized temporaries would cost more in page faults than the arithmetic.
Figures against LibRaw's AHD on the same mosaic: ``python -m bench quality``.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

# Plane neighbourhoods on planes padded by one: centre, left, right, up, down.
_C, _L, _R = np.s_[1:-1, 1:-1], np.s_[1:-1, :-2], np.s_[1:-1, 2:]
_U, _D = np.s_[:-2, 1:-1], np.s_[2:, 1:-1]
HALO = 4  # rows: green reads two away, colour differences one more, green-site weights one more
_TOP = 16383  # the 14-bit working range
_LAPLACIAN = 0.125  # weight of the site colour's second difference (2C - C1 - C2) in the green estimate
# Horizontal weight from the gradient ratio r = gH / (gH + gV) (0..255): gV^3 / (gH^3 + gV^3), out of 255.
_X = np.arange(256) / 255.0
_WEIGHT = np.rint(255 * (1 - _X) ** 3 / (_X**3 + (1 - _X) ** 3)).astype(np.uint8)
_PADDED = ("r", "gr", "gb", "b", "dr", "db", "dr_b", "db_r")
_PLANES = ("t0", "t1", "h", "v", "gh", "gv", "g_r", "g_b", "w_r", "w_b",
           "dr_gr", "db_gr", "dr_gb", "db_gb")


class Workspace:
    """Work planes for one frame: each thread keeps its own set from band to band (made in ``prepare``,
    dropped with the kernel when the frame is done). A band of another height gets a set of its own."""

    def __init__(self):
        self._threads: dict[int, _Planes] = {}

    def planes(self, h2: int, w2: int) -> "_Planes":
        ident = threading.get_ident()
        held = self._threads.get(ident)
        if held is None or held.shape != (h2, w2):
            held = self._threads[ident] = _Planes(h2, w2)
        return held


class _Planes:
    """Every plane one band needs, as attributes: quarter-size int16 (some padded by one), the 8-bit
    weights, the 16-bit site planes of one output colour, the three full output planes and the output."""

    def __init__(self, h2: int, w2: int):
        self.shape = (h2, w2)
        for name in _PADDED:
            setattr(self, name, np.empty((h2 + 2, w2 + 2), np.int16))
        for name in _PLANES:
            setattr(self, name, np.empty((h2, w2), np.int16))
        self.ratio, self.w8 = np.empty((h2, w2), np.uint8), np.empty((h2, w2), np.uint8)
        self.sites = [np.empty((h2, w2), np.uint16) for _ in range(4)]
        self.full = [np.empty((h2, 2, 2 * w2), np.uint16) for _ in range(3)]  # row pairs of each colour
        self.out = np.empty((2 * h2, 2 * w2, 3), np.uint16)


def _mirror(p: np.ndarray, top: int, bottom: int, left: int, right: int) -> None:
    """Fill a plane's one-pixel border from inside: 1 copies the adjacent row/column, 2 the one after it."""
    p[0] = p[top]
    p[-1] = p[-1 - bottom]
    p[:, 0] = p[:, left]
    p[:, -1] = p[:, -1 - right]


def _split(rows: np.ndarray, ws: _Planes) -> None:
    """The four CFA planes of ``rows`` at 14 bits, padded by one as the mosaic mirrored about its edges."""
    h, w = rows.shape
    # Even and odd columns apart in one SIMD pass (a row of pairs is a two-channel image), rows by slicing.
    even, odd = cv2.split(np.ascontiguousarray(rows).reshape(h, w // 2, 2))
    for plane, source, dy, dx in ((ws.r, even, 0, 0), (ws.gr, odd, 0, 1), (ws.gb, even, 1, 0), (ws.b, odd, 1, 1)):
        np.right_shift(source[dy::2], 2, out=plane[_C], casting="unsafe")
        # Mirroring the mosaic about its first row makes row -2 (a site of this plane when dy = 0) equal
        # row 2, the plane's second row; row -1 (dy = 1) equals row 1, its first. Likewise at every edge.
        _mirror(plane, 2 - dy, 1 + dy, 2 - dx, 1 + dx)


def _half(a, b, out):
    """``(a + b) // 2`` in one add and one shift (int16; the caller keeps ``a + b`` in range)."""
    np.add(a, b, out=out)
    return np.right_shift(out, 1, out=out)


def _blend(a: np.ndarray, b: np.ndarray, w: np.ndarray, out: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``out = a + w * (b - a) / 255`` on the int16 planes (``t`` is scratch)."""
    cv2.subtract(b, a, dst=t)
    cv2.multiply(t, w, dst=t, scale=1.0 / 255)
    return cv2.add(a, t, dst=out)


def _estimate(ws: _Planes, c, side1, side2, g1, g2, est, grad) -> None:
    """Along one axis: Hamilton-Adams' estimate (into ``est``) and its gradient at a quarter scale (``grad``).

    ``c`` is the site plane padded by one, ``side1``/``side2`` the slices of its same-colour neighbours on
    the axis, ``g1``/``g2`` the green neighbours between them.
    """
    half_lap = np.subtract(c[_C], _half(c[side1], c[side2], ws.t0), out=ws.t1)  # (2C - C1 - C2) / 2
    cv2.addWeighted(np.add(g1, g2, out=est), 0.5, half_lap, 2 * _LAPLACIAN, 0, dst=est)
    cv2.addWeighted(cv2.absdiff(g1, g2, dst=ws.t0), 0.25, np.abs(half_lap, out=half_lap), 0.5, 0, dst=grad)


def _green(ws: _Planes, c: np.ndarray, gl, gr, gu, gd, green: np.ndarray, weight: np.ndarray) -> None:
    """Green at one kind of red/blue site (into ``green``) and its horizontal weight 0..255 (``weight``).

    ``c`` is the site plane padded by one; ``gl`` .. ``gd`` the green neighbours on each side (unpadded).
    """
    _estimate(ws, c, _L, _R, gl, gr, ws.h, ws.gh)
    _estimate(ws, c, _U, _D, gu, gd, ws.v, ws.gv)
    total = np.add(ws.gh, ws.gv, out=ws.t0)
    total += 1
    cv2.divide(ws.gh, total, dst=ws.ratio, scale=255, dtype=cv2.CV_8U)
    np.copyto(weight, cv2.LUT(ws.ratio, _WEIGHT, dst=ws.w8))
    _blend(ws.v, ws.h, weight, green, ws.t0)
    np.clip(green, 0, _TOP, out=green)


def _mean4(a, b, c, d, out, t) -> np.ndarray:
    _half(a, b, out)
    return _half(out, _half(c, d, t), out)


def _chroma(ws: _Planes) -> None:
    """Red and blue differences from green at every kind of site (into ``dr``/``db`` and their kin)."""
    cv2.subtract(ws.r[_C], ws.g_r, dst=ws.dr[_C])
    cv2.subtract(ws.b[_C], ws.g_b, dst=ws.db[_C])
    _mirror(ws.dr, 1, 1, 1, 1)
    _mirror(ws.db, 1, 1, 1, 1)
    dr, db = ws.dr, ws.db
    # At the opposite colour's sites, from the four diagonal neighbours.
    _mean4(dr[_C], dr[_R], dr[2:, 1:-1], dr[2:, 2:], ws.dr_b[_C], ws.t0)
    _mean4(db[_C], db[_L], db[:-2, 1:-1], db[:-2, :-2], ws.db_r[_C], ws.t0)
    _mirror(ws.dr_b, 1, 1, 1, 1)
    _mirror(ws.db_r, 1, 1, 1, 1)
    dr_b, db_r = ws.dr_b, ws.db_r
    # At green sites: the vertical and horizontal pairs, blended by the direction weight of the red or blue
    # site beside it (the mean of all four neighbours' weights measured no better). A Gr site has red left
    # and right, blue above and below; a Gb site the other way round.
    for out, vertical, horizontal, w in ((ws.dr_gr, (dr_b[_U], dr_b[_C]), (dr[_C], dr[_R]), ws.w_r),
                                         (ws.db_gr, (db[_U], db[_C]), (db_r[_C], db_r[_R]), ws.w_r),
                                         (ws.dr_gb, (dr[_C], dr[_D]), (dr_b[_L], dr_b[_C]), ws.w_b),
                                         (ws.db_gb, (db_r[_C], db_r[_D]), (db[_L], db[_C]), ws.w_b)):
        _blend(_half(*vertical, ws.v), _half(*horizontal, ws.h), w, out, ws.t0)


def _assemble(ws: _Planes, swap: bool) -> np.ndarray:
    """The RGB output from the site planes, back on the 16-bit scale (clipped below black, above white)."""
    g1, g2 = ws.gr[_C], ws.gb[_C]
    colours = (((ws.r[_C],), (g1, ws.dr_gr), (g2, ws.dr_gb), (ws.g_b, ws.dr_b[_C])),
               ((ws.g_r,), (g1,), (g2,), (ws.g_b,)),
               ((ws.g_r, ws.db_r[_C]), (g1, ws.db_gr), (g2, ws.db_gb), (ws.b[_C],)))
    h2, w2 = ws.shape
    for full, sites in zip(ws.full, colours):
        for dst, terms in zip(ws.sites, sites):
            if len(terms) == 2:  # green plus a difference: one saturating pass to the 16-bit scale
                cv2.addWeighted(*terms[:1], 4.0, *terms[1:], 4.0, 0, dst=dst, dtype=cv2.CV_16U)
            else:  # in range already
                np.left_shift(terms[0], 2, out=dst, casting="unsafe")
        # A row's two kinds of site interleave by a two-plane merge (OpenCV's SIMD path).
        cv2.merge(ws.sites[:2], dst=full[:, 0].reshape(h2, w2, 2))
        cv2.merge(ws.sites[2:], dst=full[:, 1].reshape(h2, w2, 2))
    planes = [f.reshape(2 * h2, 2 * w2) for f in ws.full]
    return cv2.merge(planes[::-1] if swap else planes, dst=ws.out)


def demosaic(rows: np.ndarray, cfa: str, workspace: Workspace | None = None) -> np.ndarray:
    """Demosaic a uint16 Bayer image (h, w even) with CFA order ``cfa`` to RGB uint16.

    With a ``workspace`` the result is one of its planes, valid until this thread's next call with it.
    """
    # Every order is RGGB up to a swap of red and blue and a shift of one column: mirror one extra column on
    # each side for the green-first orders and crop it off after.
    shift = cfa[0] == "G"
    if shift:
        rows = cv2.copyMakeBorder(rows, 0, 0, 1, 1, cv2.BORDER_REFLECT_101)
    h, w = rows.shape
    ws = (workspace or Workspace()).planes(h // 2, w // 2)
    _split(rows, ws)
    _green(ws, ws.r, ws.gr[_L], ws.gr[_C], ws.gb[_U], ws.gb[_C], ws.g_r, ws.w_r)  # green at red sites
    _green(ws, ws.b, ws.gb[_C], ws.gb[_R], ws.gr[_C], ws.gr[_D], ws.g_b, ws.w_b)  # green at blue sites
    _chroma(ws)
    rgb = _assemble(ws, swap="B" in cfa[:2])  # BGGR, GBRG: the first non-green site is blue
    if shift:
        rgb = rgb[:, 1:-1]
    return rgb if workspace is not None else rgb.copy()
