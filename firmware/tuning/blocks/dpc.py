"""``rpi.dpc`` (libcamera ``dpc.cpp``): defective pixel correction strength, 0 off, 1 normal, 2 strong.

libcamera only passes the strength to the ISP's DPC block (``Dpc::read``: an int, "Bad strength value" outside
0..2); what each strength does in our software ISP is ``isp/dpc.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..file import TuningFile
from .reader import BlockReader, read_block

NAME = "rpi.dpc"


@dataclass(frozen=True)
class Dpc:
    strength: int = 1

    @classmethod
    def parse(cls, r: BlockReader) -> "Dpc":
        strength = r.get("strength", 1, integer=True)
        if not 0 <= strength <= 2:
            r.error("strength", f"{strength} must be 0, 1 or 2 (libcamera: \"Bad strength value\")")
            strength = 1
        r.unknown_keys(("strength",))
        return cls(int(strength))

    @classmethod
    def read(cls, tf: TuningFile) -> "Dpc | None":
        return read_block(cls, tf, NAME)
