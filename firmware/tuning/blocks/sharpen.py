"""``rpi.sharpen`` (libcamera ``sharpen.cpp``): threshold, strength and limit (defaults 1.0 each).

Per frame libcamera divides strength and limit by the mode factor (sqrt of the binning) and multiplies the
threshold by it, so binned modes are sharpened less; the ``Sharpness`` control scales strength, and limit and
threshold by its square root (``Sharpen::prepare``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..file import TuningFile
from .reader import BlockReader, read_block

NAME = "rpi.sharpen"
# libcamera takes any non-negative value; beyond these our ISP only adds noise and halos (edges overshoot by
# more than the limit of 16 x 8 codes would clip), so a file asking more is refused as a typo.
MAX_STRENGTH = 16.0
MAX_LIMIT = 16.0
MAX_THRESHOLD = 256.0


@dataclass(frozen=True)
class Sharpen:
    threshold: float = 1.0
    strength: float = 1.0
    limit: float = 1.0

    @classmethod
    def parse(cls, r: BlockReader) -> "Sharpen":
        threshold = r.get("threshold", 1.0, lo=0, hi=MAX_THRESHOLD)
        strength = r.get("strength", 1.0, lo=0, hi=MAX_STRENGTH)
        limit = r.get("limit", 1.0, lo=0, hi=MAX_LIMIT)
        r.unknown_keys(("threshold", "strength", "limit"))
        return cls(threshold, strength, limit)

    @classmethod
    def read(cls, tf: TuningFile) -> "Sharpen | None":
        return read_block(cls, tf, NAME)

    def at(self, mode_factor: float = 1.0, user_strength: float = 1.0) -> "Sharpen":
        """The settings for a frame, as ``Sharpen::prepare`` derives them."""
        f = max(1.0, mode_factor)
        user = max(0.0, user_strength)
        root = math.sqrt(user)
        return Sharpen(self.threshold * f / max(0.01, root), self.strength / f * user, self.limit / f * root)
