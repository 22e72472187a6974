"""``rpi.dpc``: defective pixel correction - hot and dead photosites, single or in pairs, replaced by the
median of their same-colour neighbourhood, while lines, edges and points of light stay as they are.

libcamera passes ``strength`` straight to the ISP: 0 off, 1 normal, 2 strong. On the Pi 5's PiSP, normal sets
``coeff_level`` 1 and ``coeff_range`` 8 - a site is corrected only when it leaves what its neighbours allow by
a margin - and strong sets both to 0: every site is clamped into its neighbours' range. Here:

* **strong** clamps each site into the range of its eight same-colour neighbours (two pixels away).
* **normal** judges each site against the frame's noise (its ``NoiseProfile``, else the tuning's
  ``rpi.noise`` at its gain), in three steps:

  1. *Screen* (whole planes, cheap): a site ``SCREEN`` noise sigmas from the median of its 3x3 same-colour
     neighbourhood is a candidate. The median ignores a defect and its partner, so couplets are found too.
  2. *Lines*: a candidate must stand ``CHECK`` sigmas above (hot) or ``DEAD`` times that below (dead) the
     mean of each opposite pair of its neighbours - the four lines through it. A gradient, an edge or a line
     has a pair along it at the site's own level; a single defect has none, nor has a same-colour couplet
     (the partner lifts one pair by half).
  3. *Detail*: a point of light the lens has drawn lifts the sites of other colours around it as well, a
     line the next site along it; a defect lifts none. A candidate with two or more direct neighbours lifted
     above their own medians is detail; with one, it is detail unless that neighbour stands off its own lines
     like a defect - then the two are a couplet of different colours.

Defects are rare, so steps 2 and 3 work on the few candidates by index. A feature of one site with nothing
around it - what a sensor without a lens would deliver - cannot be told from a defect. Dead sites need a
larger margin: texture dips as often as it peaks, while defects are mostly hot. Tests: the mock's defect
map leaves nothing in the JPEG; clean pictures through the mock's lens keep >= 50 dB.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import TuningError
from ..tuning import TuningFile
from ..tuning.blocks import Dpc
from ..frame import NoiseProfile
from .lookup import lookup16
from .noise import noise_from_tuning
from .stage import BAYER_LINEAR16, Stage

# The eight same-colour neighbours of a Bayer site, excluding the site itself (mosaic coordinates).
NEIGHBOURS = np.zeros((5, 5), np.uint8)
NEIGHBOURS[::2, ::2] = 1
NEIGHBOURS[2, 2] = 0
# The four lines through a site: one end of each (two mosaic pixels away), the other end opposite.
_LINE_Y, _LINE_X = np.array([0, 2, 2, 2]), np.array([2, 0, 2, -2])
_SAME_Y, _SAME_X = np.concatenate([_LINE_Y, -_LINE_Y]), np.concatenate([_LINE_X, -_LINE_X])  # eight neighbours
_NEXT_Y, _NEXT_X = np.array([0, 0, -1, 1]), np.array([-1, 1, 0, 0])  # the four direct neighbours
SCREEN = 4.0  # noise sigmas from the median that make a candidate
CHECK = 3.0  # noise sigmas beyond every opposite-neighbour pair's mean that make a defect
DEAD = 3.0  # dead sites: CHECK times this (texture has as many dips as peaks; defects are mostly hot)
LIFT = 0.1  # real detail: a direct neighbour lifted by this share of the site's excess (plus 2 sigmas)
SPREAD = 3.0  # screen: also times the 3x3 neighbourhood's spread from its median
_BOX = np.ones((3, 3), np.uint8)
FLOOR = 64.0  # on the 16-bit scale: quantisation and black-level residue a noise model leaves out
# Without a noise profile (frame or tuning): a 12-bit sensor at gain 4 on the normalised signal (var = S x + O).
_DEFAULT_NOISE = NoiseProfile(shot=4e-4, read=2.5e-6)


class DpcStage(Stage):
    name = "rpi.dpc"
    input = BAYER_LINEAR16
    output = BAYER_LINEAR16
    halo = 4  # a direct neighbour's (1) same-colour median (2 more), rounded up to a CFA block
    in_place = True

    def __init__(self, tuning: TuningFile | None = None, strength: int | None = None):
        if strength is None:
            block = Dpc.read(tuning) if tuning is not None else None
            strength = block.strength if block is not None else 1
        if strength not in (0, 1, 2):
            raise TuningError(f"rpi.dpc: strength must be 0, 1 or 2, got {strength}")
        self.strength = strength
        self.tuning = tuning

    def noise(self, frame) -> NoiseProfile:
        """The frame's noise (its own profile, else the tuning's ``rpi.noise`` at its gain, else a default)."""
        if frame.noise is not None:
            return frame.noise
        if self.tuning is not None:
            bits = int(frame.white_level).bit_length()
            black16 = float(np.mean(frame.black_levels)) * 2 ** (16 - bits)
            profile = noise_from_tuning(self.tuning, frame.analogue_gain, black16,
                                        float(frame.white_level) * 2 ** (16 - bits))
            if profile is not None:
                return profile
        return _DEFAULT_NOISE

    def prepare(self, frame, shape, image=None):
        if self.strength == 0:
            return lambda rows, top: rows
        if self.strength == 2:
            return _clamp
        levels = np.arange(65536, dtype=np.float64)
        sigma = 65535.0 * np.sqrt(np.maximum(self.noise(frame).variance(levels / 65535.0), 0.0)) + FLOOR
        # The screen's threshold per 256 levels of the median, taken at each step's dark end: never above the
        # noise it stands for. As a 65536-entry table, looked up by the median itself in one pass.
        screen = np.repeat(np.minimum(np.rint(SCREEN * sigma[::256]), 65535).astype(np.uint16), 256)
        # A frame that states its noise (a DNG's profile, a capture's gain) is screened by it alone; one that
        # does not is also screened by the noise its neighbourhoods show, so a frame noisier than the
        # tuning's guess does not make every site a candidate.
        measured = frame.noise is None
        return lambda rows, top: _correct(rows, screen, sigma.astype(np.float32), measured)


def _clamp(rows: np.ndarray, top: int) -> np.ndarray:
    """Strong: every site into the range of its eight same-colour neighbours."""
    hi = cv2.dilate(rows, NEIGHBOURS, borderType=cv2.BORDER_REFLECT_101)
    lo = cv2.erode(rows, NEIGHBOURS, borderType=cv2.BORDER_REFLECT_101)
    cv2.min(rows, hi, dst=rows)
    return cv2.max(rows, lo, dst=rows)


def _correct(rows: np.ndarray, screen: np.ndarray, sigma: np.ndarray, measured: bool) -> np.ndarray:
    """Normal: singles and couplets replaced by their neighbourhood's median (in place).

    ``screen``: the candidates' distance from their median, by the median; ``sigma`` the noise
    at each level; ``measured``: also screen by the neighbourhood's own spread.
    """
    h, w = rows.shape
    # Even and odd columns apart in one pass (a row of pairs is a two-channel image); rows by slicing.
    columns = cv2.split(np.ascontiguousarray(rows).reshape(h, w // 2, 2))
    found = []
    medians = np.empty((2, 2, h // 2, w // 2), np.uint16)  # each site's 3x3 same-colour median, by CFA position
    for dy in (0, 1):
        for dx in (0, 1):
            plane = columns[dx][dy::2]
            median = cv2.medianBlur(plane, 3, dst=medians[dy, dx])
            threshold = lookup16(screen, median)
            if measured:  # three times the spread from the median on the side a defect does not widen
                spread = cv2.min(cv2.subtract(median, cv2.erode(plane, _BOX, borderType=cv2.BORDER_REPLICATE)),
                                 cv2.subtract(cv2.dilate(plane, _BOX, borderType=cv2.BORDER_REPLICATE), median))
                cv2.max(threshold, cv2.multiply(spread, SPREAD), dst=threshold)
            far = cv2.compare(cv2.absdiff(plane, median), threshold, cv2.CMP_GT)
            points = cv2.findNonZero(far)
            if points is not None:
                xs, ys = points.reshape(-1, 2).T.astype(np.intp)
                found.append((2 * ys + dy, 2 * xs + dx))
    if not found:
        return rows
    y, x = (np.concatenate(parts) for parts in zip(*found))
    noise = sigma[medians[y % 2, x % 2, y // 2, x // 2]]
    excess = _off_lines(rows, y, x)
    candidate = (excess > CHECK * noise) | (excess < -DEAD * CHECK * noise)
    defect = candidate & ~_detail(rows, medians, y, x, excess, sigma)
    if defect.any():
        # The median of the eight neighbours (the site itself left out, so it pulls the value no way).
        y, x = y[defect], x[defect]
        near = np.sort(_at(rows, y[:, None] + _SAME_Y, x[:, None] + _SAME_X), axis=1)
        rows[y, x] = (near[:, 3] + near[:, 4] + 1) // 2
    return rows


# The few candidates of a band are handled as (candidates, neighbours) arrays, each step a handful of numpy
# calls whatever the number of neighbours: per-call overhead, not arithmetic, is what they cost.


def _mirror(v: np.ndarray, n: int) -> np.ndarray:
    """Indices mirrored about 0 and ``n - 1`` as OpenCV's BORDER_REFLECT_101 does."""
    return np.abs(v) - 2 * np.maximum(v - (n - 1), 0)


def _at(rows: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``rows[y, x]`` as int32 (index arrays of any shape), mirrored about the edges."""
    h, w = rows.shape
    return rows[_mirror(y, h), _mirror(x, w)].astype(np.int32)


def _detail(rows, medians, y, x, excess, sigma) -> np.ndarray:
    """Which candidates lift their direct neighbours (other colours) as real detail does (step 3).

    A neighbour counts as lifted above its own median by ``LIFT`` of the candidate's excess plus two of its
    own noise sigmas (``sigma`` by level): noise alone lifts one now and then, not two.
    """
    h, w = rows.shape
    ny, nx = _mirror(y[:, None] + _NEXT_Y, h), _mirror(x[:, None] + _NEXT_X, w)  # (candidates, 4)
    median = medians[ny % 2, nx % 2, ny // 2, nx // 2]
    lift = rows[ny, nx].astype(np.int32) - median
    lifted = np.where(excess[:, None] > 0, lift, -lift) > LIFT * np.abs(excess)[:, None] + 2 * sigma[median]
    count = lifted.sum(axis=1)
    one = np.nonzero(count == 1)[0]
    if len(one):  # is that neighbour a couplet's partner, off its own lines too?
        k = np.argmax(lifted[one], axis=1)
        py, px = ny[one, k], nx[one, k]
        partner = _off_lines(rows, py, px)
        noise = sigma[medians[py % 2, px % 2, py // 2, px // 2]]
        count[one[np.where(excess[one] > 0, partner, -partner) > CHECK * noise]] = 0
    return count > 0


def _off_lines(rows: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """How far mosaic sites (y, x) stand off the four lines through them (step 2): above the highest mean
    of an opposite pair of same-colour neighbours (positive), or below the lowest (negative)."""
    hi, lo = _pair_means(rows, y, x)
    value = rows[y, x].astype(np.int32)
    return np.where(value - hi > lo - value, value - hi, value - lo)


def _pair_means(rows: np.ndarray, y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Highest and lowest mean of the four opposite pairs of same-colour neighbours of mosaic sites (y, x).

    A gradient, an edge or a line through a site has a pair (along it) whose mean is the site's own level;
    a single defect has none, nor has a couplet (its partner lifts one pair by half).
    """
    means = (_at(rows, y[:, None] - _LINE_Y, x[:, None] - _LINE_X)
             + _at(rows, y[:, None] + _LINE_Y, x[:, None] + _LINE_X)) // 2
    return means.max(axis=1), means.min(axis=1)
