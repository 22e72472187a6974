"""``rpi.geq`` (libcamera ``geq.cpp``): green equalisation, the Gr/Gb imbalance the ISP may smooth away.

``offset`` (uint16) and ``slope`` (0 <= slope < 1, "Bad slope value") scaled per frame by the analogue gain and by
the optional ``strength`` PWL of lux; the result is clamped to 0..65535 and 0..0.99999.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..file import TuningFile
from ..pwl import Pwl
from .reader import BlockReader, read_block

NAME = "rpi.geq"


@dataclass(frozen=True)
class Geq:
    offset: float = 0.0
    slope: float = 0.0
    strength: Pwl | None = None

    @classmethod
    def parse(cls, r: BlockReader) -> "Geq":
        offset = r.get("offset", 0, integer=True, lo=0, hi=65535)
        slope = r.get("slope", 0.0)
        if not 0.0 <= slope < 1.0:
            r.error("slope", f"{slope:g} must be in 0..1, below 1 (libcamera: \"Bad slope value\")")
            slope = 0.0
        strength = r.pwl(r.params["strength"], "strength") if "strength" in r.params else None
        r.unknown_keys(("offset", "slope", "strength"))
        return cls(float(offset), slope, strength)

    @classmethod
    def read(cls, tf: TuningFile) -> "Geq | None":
        return read_block(cls, tf, NAME)

    def at(self, lux: float, analogue_gain: float) -> tuple[float, float]:
        """(offset, slope) for a frame, as ``Geq::prepare`` computes them."""
        s = 1.0 if self.strength is None else float(self.strength.eval(self.strength.clamp(lux)))
        s *= analogue_gain
        return min(65535.0, max(0.0, self.offset * s)), min(0.99999, max(0.0, self.slope * s))
