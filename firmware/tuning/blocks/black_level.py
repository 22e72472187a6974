"""``rpi.black_level`` (libcamera ``black_level.cpp``): the sensor's pedestal on the 16-bit scale.

``black_level`` (uint16, default 4096 = 64 in 10 bits) and optional per-channel ``black_level_r/_g/_b``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..file import TuningFile
from .reader import BlockReader, read_block

NAME = "rpi.black_level"
_KEYS = ("black_level", "black_level_r", "black_level_g", "black_level_b")


@dataclass(frozen=True)
class BlackLevel:
    """Per-channel black levels on libcamera's 16-bit scale (4096 = 256 in 12 bits)."""

    r: float = 4096.0
    g: float = 4096.0
    b: float = 4096.0

    @classmethod
    def parse(cls, r: BlockReader) -> "BlackLevel":
        # BlackLevel::read: get<uint16_t>, so integers in 0..65535.
        base = r.get("black_level", 4096, integer=True, lo=0, hi=65535)
        levels = [r.get(k, base, integer=True, lo=0, hi=65535) for k in _KEYS[1:]]
        r.unknown_keys(_KEYS)
        return cls(*(float(v) for v in levels))

    @classmethod
    def read(cls, tf: TuningFile) -> "BlackLevel":
        """The file's levels; libcamera's default (4096) when the block is absent."""
        return read_block(cls, tf, NAME) or cls()
