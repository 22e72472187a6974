"""Highlights: clipped channels rebuilt from the others, and a roll-off instead of a hard clip.

White balance multiplies red and blue by their gains (about 2 and 1.5 in daylight) and saturates at white,
so every channel that reaches white there is flattened: a white patch the raw still holds at 97 % becomes
255/255/255 (or 255/255/252 after the tone curve), and where the sensor itself clipped, green clipped first
while red and blue - scaled past white - turn the highlight magenta. This stage runs on the mosaic just before
white balance and hands it values that cannot saturate there, per 2x2 block of the CFA:

1. **Reconstruction.** A site at the sensor's clip only says its channel is *at least* that bright. Each
   clipped channel takes the larger of its own clip level and the dimmest of the block's unclipped channels
   (white-balanced), so a highlight where green clipped and red and blue did not stays neutral, a sky where
   only blue clipped stays blue, a lamp whose red and green clipped stays orange, and where every channel
   clipped the block becomes neutral white at the brightest clip level - never magenta, never salmon.
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

from ..tuning import TuningFile
from .cfa import check_cfa
from .stage import BAYER_LINEAR16, Stage

KNEE = 0.75  # of white (white-balanced): below it nothing changes
GAMUT_KNEE = 0.9  # of white after the colour matrix: a saturated colour is eased only this close to white
CLIP = 65535 - 64  # on the 16-bit scale: at or above this a site clipped on the sensor (or in lens shading)
WHITE = 65535.0


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
    halo = 0  # each 2x2 block on its own (bands start on a block)
    in_place = True

    def __init__(self, tuning: TuningFile, ccm=None):
        from .white_balance import WhiteBalanceStage

        self.white_balance = WhiteBalanceStage(tuning)  # for frames that carry no gains
        self.ccm = ccm  # the pipeline's CcmStage, whose matrix can push saturated colours past white

    def needs_frame(self, frame):
        return frame.colour_gains is None and self.white_balance.needs_frame(frame)

    def refine(self, image, frame):
        return frame if frame.colour_gains else self.white_balance.refine(image, frame)

    def prepare(self, frame, shape, image=None):
        frame = self.refine(image, frame)
        red, blue = frame.colour_gains
        cfa = check_cfa(frame.cfa)
        gain = {"R": float(red), "G": 1.0, "B": float(blue)}
        matrix = self.ccm.matrix(frame) if self.ccm is not None else np.eye(3)
        # How far the colour matrix can lift a channel above the brightest input channel (1 for greys).
        reach = max(1.0, float(np.clip(matrix, 0.0, None).sum(axis=1).max()))
        # The brightest level the sensor can deliver: a clipped site times the largest gain (and through the
        # matrix); the roll-off fits it under white.
        top = CLIP * max(gain.values())
        lowest = min(KNEE / max(gain.values()), GAMUT_KNEE / (max(gain.values()) * reach)) * WHITE
        ceiling = np.array([np.floor(65535.0 / gain[c]) for c in cfa], np.float32).reshape(2, 2)  # white after WB
        def kernel(rows, top_row):
            if float(rows.max()) <= lowest:
                return rows
            h = rows.shape[0]
            blocks = rows.reshape(h // 2, 2, -1, 2)  # (block rows, site row, block columns, site column)
            busy = np.nonzero(blocks.max(axis=(1, 2, 3)) > lowest)[0]  # block rows with something to do
            work = blocks[busy].astype(np.float32)
            sites = {cfa[2 * i + j] + str(2 * i + j): work[:, i, :, j] for i in (0, 1) for j in (0, 1)}
            _highlights([(sites[k], gain[k[0]], k[0]) for k in sorted(sites)], top, matrix, reach)
            np.minimum(work, ceiling[None, :, None, :], out=work)
            blocks[busy] = np.rint(work).astype(np.uint16)
            return rows

        return kernel


def _highlights(sites: list[tuple[np.ndarray, float, str]], top: float, matrix: np.ndarray, reach: float) -> None:
    """Reconstruction and roll-off, in place, of the four sites of each CFA block: (values, gain, colour).

    Values are raw (before white balance), float32 arrays of the same shape, one element per block.
    """
    level = {"R": [], "G": [], "B": []}
    for v, g, c in sites:
        level[c].append((v * g, v >= CLIP, CLIP * g))
    # Per channel: white-balanced level, whether any of its sites clipped, and its clip level.
    x = {c: (sum(t[0] for t in ts) / len(ts), np.logical_or.reduce([t[1] for t in ts]), ts[0][2])
         for c, ts in level.items()}
    # A clipped channel: its clip level, or the dimmest unclipped channel if that is brighter (so a block
    # turns neutral, never past the others' colour; and whether a neighbour's red just clipped or not, its
    # green comes out the same). With nothing unclipped, every channel takes the brightest clip level.
    brightest_clip = np.max([np.where(hit, floor, 0.0) for _, hit, floor in x.values()], axis=0)
    dimmest_free = np.min([np.where(hit, np.inf, lv) for lv, hit, _ in x.values()], axis=0)
    guess = np.where(np.isfinite(dimmest_free), dimmest_free, brightest_clip)
    rebuilt = {c: np.where(hit, np.maximum(floor, guess), lv) for c, (lv, hit, floor) in x.items()}
    # The tone rolls off on the block's brightest site; a saturated colour also where the colour matrix
    # would lift a channel near white (a yellow's red), with a knee of its own so it keeps its lightness.
    m = np.maximum(np.max([np.where(x[c][1], rebuilt[c], v * g) for v, g, c in sites], axis=0), 1.0)
    scale = rolloff(m, top) / m
    out = np.maximum((np.stack([rebuilt[c] for c in "RGB"], axis=-1) @ matrix.T.astype(np.float32)).max(axis=-1),
                     1.0)
    np.minimum(scale, rolloff(out, top * reach, GAMUT_KNEE * WHITE) / out, out=scale)
    for v, g, c in sites:
        own = np.where(x[c][1], rebuilt[c], v * g)  # a clipped channel's sites all take its rebuilt level
        np.multiply(own, scale / g, out=v)
