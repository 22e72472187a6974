"""Highlights: clipped channels rebuilt from the others, and a roll-off instead of a hard clip.

White balance multiplies red and blue by their gains (about 2 and 1.5 in daylight) and saturates at white,
so every channel that reaches white there is flattened: a white patch the raw still holds at 97 % becomes
255/255/255 (or 255/255/252 after the tone curve), and where the sensor itself clipped, green clipped first
while red and blue - scaled past white - turn the highlight magenta. This stage runs on the mosaic just before
white balance and hands it values that cannot saturate there, per 2x2 block of the CFA:

1. **Reconstruction.** A site at the sensor's clip only says its channel is *at least* that bright. Each
   clipped channel takes the larger of its own clip level and the unclipped channels' level (white-balanced:
   their mean when they are within ``NEAR`` of each other, else the dimmest, so a coloured light's colour
   does not depend on whether its brightest channel just clipped). A highlight where green clipped and red
   and blue did not stays neutral, a sky where only blue clipped stays blue, a lamp whose red and green
   clipped stays orange, and where every channel clipped the block becomes neutral white at the brightest
   clip level - never magenta, never salmon. On the rim of a clipped region (a block beside one clearly
   below the clip) the block's sites straddle the edge; there it keeps only ``RIM_COLOUR`` of its colour.
2. **Roll-off.** The block's brightest channel ``m`` (white balanced) maps through a soft knee: unchanged up
   to ``KNEE`` of white, then ``F(m) = k + (m - k) / (1 + (m - k) / L)``, which leaves the knee with slope 1
   and reaches white exactly at the brightest level the sensor can deliver (its clip times the largest
   gain). All of the block's sites scale by ``F(m) / m``, so hue is kept while the tone rolls off. A
   saturated colour the colour matrix would lift past white (a bright yellow's red) is eased the same way,
   on its brightest channel after the matrix, from ``GAMUT_KNEE``. Neither white balance nor the colour
   matrix saturates afterwards.

Most frames have no site above the knee; then the stage is one pass looking for the band's maximum.
Colour gains come from the frame, or - when it carries none - from white balance's own estimate, made here
first so the tone of the highlights and the white balance agree (``WhiteBalanceStage`` then uses it).
"""

from __future__ import annotations

import cv2
import numpy as np

from .cfa import check_cfa
from .stage import BAYER_LINEAR16, Stage

KNEE = 0.75  # of white (white-balanced): below it nothing changes
GAMUT_KNEE = 0.9  # of white after the colour matrix: a saturated colour is eased only this close to white
CLIP = 65535 - 64  # on the 16-bit scale: at or above this a site clipped on the sensor (or in lens shading)
WHITE = 65535.0
NEAR = 1.25  # unclipped channels within this ratio count as one level (a near-neutral highlight)
RIM_COLOUR = 0.35  # what a block on the rim of a clipped region keeps of its rebuilt colour
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def rolloff(m: np.ndarray, top: float, knee: float = KNEE * WHITE) -> np.ndarray:
    """The soft knee: identity up to ``knee``, slope 1 there, reaching ``WHITE`` at ``top`` (float arrays)."""
    if top <= WHITE:
        return np.minimum(m, WHITE)
    span = (WHITE - knee) * (top - knee) / (top - WHITE)
    over = np.maximum(np.minimum(m, top) - knee, 0.0)
    return np.where(m > knee, knee + over / (1.0 + over / span), m)


class HighlightStage(Stage):
    name = "highlights"
    input = BAYER_LINEAR16
    output = BAYER_LINEAR16
    halo = 2  # a 2x2 block, and whether the blocks beside it are clear of the clip (its rim)
    in_place = True

    def __init__(self, white_balance, ccm=None):
        self.white_balance = white_balance  # the pipeline's WhiteBalanceStage: its gains, or its estimate
        self.ccm = ccm  # the pipeline's CcmStage, whose matrix can push saturated colours past white

    def needs_frame(self, frame):
        return frame.colour_gains is None and self.white_balance.needs_frame(frame)

    def refine(self, image, frame):
        return frame if frame.colour_gains else self.white_balance.refine(image, frame)

    def prepare(self, frame, shape, image=None):
        frame = self.refine(image, frame)
        red, blue = frame.colour_gains
        cfa = check_cfa(frame.cfa)
        layout = _Layout(cfa, {"R": float(red), "G": 1.0, "B": float(blue)},
                         (self.ccm.matrix(frame) if self.ccm is not None else np.eye(3)).astype(np.float32))
        # Per CFA site, the raw level from which the site may take part: near the knee after white balance,
        # or near the gamut knee after the matrix at its reach. Blocks with no such site are left as they are.
        start = [min(65535, int(min(KNEE, GAMUT_KNEE / layout.reach) * WHITE / g)) for g in layout.exact_gains[:, 0]]
        maps: dict[tuple[int, int], np.ndarray] = {}  # those levels as a band-sized map, per band shape

        def kernel(rows, top_row):
            h, w = rows.shape
            levels = maps.get(rows.shape)
            if levels is None:
                levels = maps[rows.shape] = np.tile(np.array(start, np.uint16).reshape(2, 2), (h // 2, w // 2))
            above = cv2.compare(rows, levels, cv2.CMP_GT)
            # A block's two rows into one, and its two columns as one uint16: nonzero where a site is above.
            points = cv2.findNonZero(cv2.max(above[0::2], above[1::2]).view(np.uint16))
            if points is None:  # most bands of most frames
                return rows
            rows = np.ascontiguousarray(rows)
            bx, by = points.reshape(-1, 2).T.astype(np.intp)
            # The blocks' sites by flat index, as four rows in CFA order (a reduction over a short last axis
            # is slow in numpy; ``take`` and ``put`` are fast).
            index = (2 * w) * by + 2 * bx + np.array([0, 1, w, w + 1])[:, None]
            values = rows.take(index).astype(np.float32)
            busy = layout.busy(values)
            if not busy.any():
                return rows
            by, bx, index, values = by[busy], bx[busy], index[:, busy], values[:, busy]
            rim = _rims(rows)[by, bx] if cv2.minMaxLoc(rows)[1] >= CLIP else np.zeros(len(by), bool)
            new = np.minimum(np.rint(_highlights(values, layout, rim)), layout.ceiling)  # at most white after WB
            rows.put(index, new.astype(np.uint16))
            return rows

        return kernel


class _Layout:
    """A frame's CFA blocks as (4, n) arrays, one row per site in CFA order: each site's gain and channel,
    channel means as one product, the colour matrix and how far it reaches."""

    def __init__(self, cfa: str, gains: dict[str, float], matrix: np.ndarray):
        self.gains = np.array([gains[c] for c in cfa], np.float32)[:, None]  # as the float32 values
        self.exact_gains = np.array([gains[c] for c in cfa])[:, None]  # float64, for the way back to raw
        self.ceiling = np.floor(WHITE / self.exact_gains)
        self.channel = np.array(["RGB".index(c) for c in cfa])
        member = (np.arange(3)[:, None] == self.channel).astype(np.float32)  # (3, 4): site i is of channel c
        self.means = member / member.sum(axis=1, keepdims=True)  # sites to channel means
        self.member = member > 0
        self.floor = np.array([CLIP * gains[c] for c in "RGB"])[:, None]  # each channel's clip, balanced
        self.matrix = matrix
        # How far the colour matrix can lift a channel above the brightest input channel (1 for greys).
        self.lift = float(np.clip(matrix, 0.0, None).sum(axis=1).max())
        self.reach = max(1.0, self.lift)
        self.top = CLIP * max(gains.values())  # the brightest level the sensor can deliver, white balanced

    def busy(self, values: np.ndarray) -> np.ndarray:
        """The blocks the knees reach: the brightest site white-balanced, or a channel after the matrix."""
        wb = values * self.gains
        return ((wb.max(axis=0) > KNEE * WHITE)
                | (_mix(self.matrix, _mix(self.means, wb)).max(axis=0) > GAMUT_KNEE * WHITE))


def _mix(m: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``m @ a`` for a short inner axis as element-wise sums in a fixed order: the same bits for a block
    whatever else is in the batch (a band or the whole frame), which a BLAS product does not promise."""
    out = m[:, :1] * a[0]
    for k in range(1, m.shape[1]):
        out = out + m[:, k:k + 1] * a[k]
    return out


def _rims(rows: np.ndarray) -> np.ndarray:
    """Per CFA block: whether it holds a clipped site while a block beside it is clearly below the clip (no site
    at 80 % of it).

    There the block's sites straddle the edge of a clipped region (its red site in the glare, its greens
    beside it), and rebuilding its channels would paint the edge in one colour.
    """
    pairs = cv2.max(rows[0::2], rows[1::2])  # the brighter of each block column's two sites

    def blocks_with(level):  # blocks with a site above ``level`` (a byte pair of the 8-bit mask is a block)
        return cv2.compare(cv2.compare(pairs, level, cv2.CMP_GT).view(np.uint16), 0, cv2.CMP_NE)

    dark_beside = cv2.dilate(cv2.bitwise_not(blocks_with(int(0.8 * CLIP))), _CROSS, borderType=cv2.BORDER_REPLICATE)
    return cv2.bitwise_and(blocks_with(CLIP - 1), dark_beside) > 0


def _highlights(values: np.ndarray, layout: _Layout, rim: np.ndarray) -> np.ndarray:
    """Reconstruction and roll-off of CFA blocks: their sites' raw values (float32, (4, n) in CFA order) in,
    their new raw values out. ``rim``: the blocks on the edge of a clipped region (their colour is taken out)."""
    wb = values * layout.gains
    level = _mix(layout.means, wb)  # per channel (3, n), white balanced
    own, rebuilt = wb.astype(np.float64), level.astype(np.float64)  # each site's and channel's new level
    redo = np.nonzero((values >= CLIP).any(axis=0) | rim)[0]  # most blocks above the knee clipped nowhere
    if len(redo):
        own[:, redo], rebuilt[:, redo] = _rebuild(values[:, redo], wb[:, redo], level[:, redo], rim[redo], layout)
    # The tone rolls off on the block's brightest site; a saturated colour also where the colour matrix
    # would lift a channel near white (a yellow's red), with a knee of its own so it keeps its lightness.
    m = np.maximum(own.max(axis=0), 1.0)
    out = np.maximum(_mix(layout.matrix, rebuilt).max(axis=0), 1.0)
    scale = np.minimum(rolloff(m, layout.top) / m,
                       rolloff(out, layout.top * layout.lift, GAMUT_KNEE * WHITE) / out)
    return own * scale / layout.exact_gains


def _rebuild(values, wb, level, rim, layout: _Layout) -> tuple[np.ndarray, np.ndarray]:
    """Clipped channels of CFA blocks rebuilt: each site's and each channel's level (white balanced, float64)."""
    hit = _mix(layout.member, values >= CLIP)  # per channel, whether a site clipped
    floor = layout.floor
    # A clipped channel: its clip level, or the unclipped channels' level if that is brighter (so a block
    # turns neutral, never past the others' colour). With nothing unclipped, every channel takes the
    # brightest clip level.
    brightest_clip = np.where(hit, floor, 0.0).max(axis=0)
    dimmest_free = np.where(hit, np.inf, level).min(axis=0)
    brightest_free = np.where(hit, -np.inf, level).max(axis=0)
    free = (~hit).sum(axis=0, dtype=np.float32)
    mean_free = np.where(hit, 0.0, level).sum(axis=0) / np.maximum(free, 1.0)
    # Unclipped channels close to each other (a near-neutral highlight): their mean; far apart (a coloured
    # light): the dimmest, so the block's colour does not depend on whether its brightest channel clipped.
    guess = np.where(brightest_free <= NEAR * dimmest_free, mean_free, dimmest_free)
    guess = np.where(free > 0, guess, brightest_clip)
    rebuilt = np.where(hit, np.maximum(floor, guess), level)
    if rim.any():  # the edge of a clipped region: most of the colour taken out, towards the channels' mean
        mean = rebuilt.sum(axis=0) / 3.0
        rebuilt = np.where(rim, mean + RIM_COLOUR * (rebuilt - mean), rebuilt)
        hit = hit | rim
    return np.where(hit[layout.channel], rebuilt[layout.channel], wb), rebuilt
