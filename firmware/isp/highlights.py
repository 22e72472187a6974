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

from .black_level import site_map
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
        gains = [{"R": float(red), "G": 1.0, "B": float(blue)}[c] for c in cfa]
        matrix = (self.ccm.matrix(frame) if self.ccm is not None else np.eye(3)).astype(np.float32)
        # How far the colour matrix can lift a channel above the brightest input channel (1 for greys).
        reach = max(1.0, float(np.clip(matrix, 0.0, None).sum(axis=1).max()))
        # Per CFA site, the raw level from which the site may take part: near the knee after white balance,
        # or near the gamut knee after the matrix at its reach. Blocks with no such site are left as they are.
        start = site_map(shape, [min(KNEE, GAMUT_KNEE / reach) * WHITE / g for g in gains])
        layout = [(i // 2, i % 2, "RGB".index(c), g) for i, (c, g) in enumerate(zip(cfa, gains))]
        colours = [(ch, sum(site[2] == ch for site in layout)) for ch in range(3)]  # sites per channel
        top = CLIP * max(gains)  # the brightest level the sensor can deliver, white balanced

        def kernel(rows, top_row):
            mask = cv2.compare(rows, start[top_row:top_row + len(rows)], cv2.CMP_GT)
            if not cv2.countNonZero(mask):
                return rows
            blocks = cv2.resize(mask, (mask.shape[1] // 2, mask.shape[0] // 2), interpolation=cv2.INTER_AREA)
            bx, by = cv2.findNonZero(blocks).reshape(-1, 2).T.astype(np.intp)  # blocks with a bright site
            values = [rows[2 * by + dy, 2 * bx + dx].astype(np.float32) for dy, dx, _, _ in layout]
            # Of those, the blocks the knees reach: the brightest site, or a channel after the matrix.
            wb = [v * g for v, (_, _, _, g) in zip(values, layout)]
            channels = [sum(w for w, site in zip(wb, layout) if site[2] == ch) / count for ch, count in colours]
            busy = _brightest(wb) > KNEE * WHITE
            busy |= _brightest(_through(matrix, channels)) > GAMUT_KNEE * WHITE
            if not busy.any():
                return rows
            by, bx = by[busy], bx[busy]
            sites = [(2 * by + dy, 2 * bx + dx, ch, g) for dy, dx, ch, g in layout]
            values = [v[busy] for v in values]
            rim = _rims(rows)[by, bx] if cv2.minMaxLoc(rows)[1] >= CLIP else np.zeros(len(by), bool)
            for (y, x, _, g), v in zip(sites, _highlights(values, layout, matrix, top, rim)):
                rows[y, x] = np.minimum(np.rint(v), np.floor(WHITE / g))  # at most white after WB
            return rows

        return kernel


def _brightest(planes: list[np.ndarray]) -> np.ndarray:
    """Element-wise maximum of equal-shaped arrays (a reduction over a short axis is slow in numpy)."""
    out = planes[0].copy()
    for p in planes[1:]:
        np.maximum(out, p, out=out)
    return out


def _through(matrix: np.ndarray, rgb: list[np.ndarray]) -> list[np.ndarray]:
    """The colour matrix applied to three channel arrays: its three output channels."""
    return [sum(float(matrix[i, j]) * rgb[j] for j in range(3)) for i in range(3)]


def _rims(rows: np.ndarray) -> np.ndarray:
    """Per CFA block: whether it holds a clipped site while a block beside it is clearly below the clip (no site
    at 80 % of it).

    There the block's sites straddle the edge of a clipped region (its red site in the glare, its greens
    beside it), and rebuilding its channels would paint the edge in one colour.
    """
    h, w = rows.shape

    def blocks_with(level):  # blocks with a site above ``level``
        sites = cv2.compare(rows, level, cv2.CMP_GT)
        return cv2.compare(cv2.resize(sites, (w // 2, h // 2), interpolation=cv2.INTER_AREA), 0, cv2.CMP_GT)

    dark_beside = cv2.dilate(cv2.bitwise_not(blocks_with(int(0.8 * CLIP))), _CROSS, borderType=cv2.BORDER_REPLICATE)
    return cv2.bitwise_and(blocks_with(CLIP - 1), dark_beside) > 0


def _highlights(values: list[np.ndarray], layout, matrix: np.ndarray, top: float,
                rim: np.ndarray) -> list[np.ndarray]:
    """Reconstruction and roll-off of CFA blocks: the four sites' raw values (float32, one element per block)
    in, their new raw values out. ``layout``: per site (row, column, channel 0-2, white-balance gain);
    ``rim``: the blocks on the edge of a clipped region (their colour is taken out)."""
    wb = [v * g for v, (_, _, _, g) in zip(values, layout)]
    clip = [v >= CLIP for v in values]
    level, hit, floor = [], [], []
    for ch in range(3):  # per channel: white-balanced level, whether a site clipped, its clip level
        mine = [k for k, site in enumerate(layout) if site[2] == ch]
        level.append(sum(wb[k] for k in mine) / len(mine))
        hit.append(np.logical_or.reduce([clip[k] for k in mine]))
        floor.append(CLIP * layout[mine[0]][3])
    # A clipped channel: its clip level, or the unclipped channels' level if that is brighter (so a block
    # turns neutral, never past the others' colour). With nothing unclipped, every channel takes the
    # brightest clip level.
    brightest_clip = _brightest([np.where(h, f, 0.0) for h, f in zip(hit, floor)])
    dimmest_free = -_brightest([np.where(h, -np.inf, -lv) for h, lv in zip(hit, level)])
    brightest_free = _brightest([np.where(h, -np.inf, lv) for h, lv in zip(hit, level)])
    free = sum((~h).astype(np.float32) for h in hit)
    mean_free = sum(np.where(h, 0.0, lv) for h, lv in zip(hit, level)) / np.maximum(free, 1.0)
    # Unclipped channels close to each other (a near-neutral highlight): their mean; far apart (a coloured
    # light): the dimmest, so the block's colour does not depend on whether its brightest channel clipped.
    guess = np.where(brightest_free <= NEAR * dimmest_free, mean_free, dimmest_free)
    guess = np.where(free > 0, guess, brightest_clip)
    rebuilt = [np.where(h, np.maximum(f, guess), lv) for h, f, lv in zip(hit, floor, level)]
    if rim.any():  # the edge of a clipped region: most of the colour taken out, towards the channels' mean
        mean = sum(rebuilt) / 3.0
        rebuilt = [np.where(rim, mean + RIM_COLOUR * (r - mean), r) for r in rebuilt]
        hit = [h | rim for h in hit]
    # The tone rolls off on the block's brightest site; a saturated colour also where the colour matrix
    # would lift a channel near white (a yellow's red), with a knee of its own so it keeps its lightness.
    own = [np.where(hit[site[2]], rebuilt[site[2]], w) for w, site in zip(wb, layout)]
    m = np.maximum(_brightest(own), 1.0)
    out = np.maximum(_brightest(_through(matrix, rebuilt)), 1.0)
    scale = np.minimum(rolloff(m, top) / m, rolloff(out, top * float(np.clip(matrix, 0, None).sum(1).max()),
                                                    GAMUT_KNEE * WHITE) / out)
    return [o * scale / site[3] for o, site in zip(own, layout)]
