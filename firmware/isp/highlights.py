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

The per-block arithmetic is a small C kernel (``highlights.c``, built by pip with the package): in numpy it cost
a full-frame stage's time on a colourful scene (``docs/isp-speed.md``). Most frames have no site near a knee;
then the stage is one pass over each band.
Colour gains come from the frame, or - when it carries none - from white balance's own estimate, made here
first so the tone of the highlights and the white balance agree (``WhiteBalanceStage`` then uses it).
"""

from __future__ import annotations

import cv2
import numpy as np

from .cfa import check_cfa
from .compiled import kernel
from .stage import BAYER_LINEAR16, Stage

KNEE = 0.75  # of white (white-balanced): below it nothing changes
GAMUT_KNEE = 0.9  # of white after the colour matrix: a saturated colour is eased only this close to white
CLIP = 65535 - 64  # on the 16-bit scale: at or above this a site clipped on the sensor (or in lens shading)
WHITE = 65535.0
NEAR = 1.25  # unclipped channels within this ratio count as one level (a near-neutral highlight)
RIM_COLOUR = 0.35  # what a block on the rim of a clipped region keeps of its rebuilt colour
_highlights = kernel("highlights")


def rolloff(m: np.ndarray, top: float, knee: float = KNEE * WHITE) -> np.ndarray:
    """The soft knee: identity up to ``knee``, slope 1 there, reaching ``WHITE`` at ``top`` (float arrays).
    The stage's own roll-off, from its C kernel (``highlights.c``)."""
    m = np.ascontiguousarray(m, np.float64)
    out = np.empty_like(m)
    _highlights.rolloff(m, out, float(top), float(knee), WHITE)
    return out


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
        params = _constants(check_cfa(frame.cfa), {"R": float(red), "G": 1.0, "B": float(blue)},
                                 self.ccm.matrix(frame) if self.ccm is not None else np.eye(3))

        def kernel(rows, top):
            rows = np.ascontiguousarray(rows)
            h, w = rows.shape
            # Rims only matter where a site clipped; most bands have none (one SIMD pass to know).
            rims = cv2.minMaxLoc(rows)[1] >= CLIP
            _highlights.apply(rows, h, w, params, rims, np.empty(h // 2 * (w // 2) + w // 2, np.uint8))
            return rows

        return kernel


def _constants(cfa: str, gains: dict[str, float], matrix: np.ndarray) -> np.ndarray:
    """The frame's constants for the C kernel, packed as ``highlights.c`` reads them (float64)."""
    matrix = np.asarray(matrix, np.float64)
    site_gains = [gains[c] for c in cfa]
    # How far the colour matrix can lift a channel above the brightest input channel (1 for greys).
    lift = float(np.clip(matrix, 0.0, None).sum(axis=1).max())
    # Per CFA site, the raw level from which the site may take part: near the knee after white balance,
    # or near the gamut knee after the matrix at its reach. Blocks with no such site are left as they are.
    start = [min(65535, int(min(KNEE, GAMUT_KNEE / max(1.0, lift)) * WHITE / g)) for g in site_gains]
    return np.array([*site_gains, *(np.floor(WHITE / g) for g in site_gains), *start,
                     *("RGB".index(c) for c in cfa), *matrix.ravel(), *(CLIP * gains[c] for c in "RGB"),
                     CLIP * max(gains.values()), lift, KNEE * WHITE, GAMUT_KNEE * WHITE, WHITE, CLIP, NEAR,
                     RIM_COLOUR, int(0.8 * CLIP)], np.float64)
