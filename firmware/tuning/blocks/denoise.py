"""``rpi.sdn`` (vc4, libcamera ``sdn.cpp``) and ``rpi.denoise`` (pisp, ``denoise.cpp``): the ISP's denoise settings.

``rpi.sdn``: ``deviation`` (3.2) and ``strength`` (0.75); the programmed noise is ``rpi.noise``'s at the frame
times ``deviation``. ``rpi.denoise``: flat, or modes ``normal`` (required), ``hdr``, ``night``, each with ``sdn``,
``cdn`` and ``tdn`` parts. Our software ISP denoises raw frames with its own model (``isp/denoise.py``),
conditioned on ``rpi.noise``; these numbers are checked so a file that would break the Pi is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..file import TuningFile
from .reader import BlockReader, read_block

SDN = "rpi.sdn"
DENOISE = "rpi.denoise"
MODES = ("normal", "hdr", "night")


@dataclass(frozen=True)
class Sdn:
    deviation: float = 3.2
    strength: float = 0.75

    @classmethod
    def parse(cls, r: BlockReader) -> "Sdn":
        deviation = r.get("deviation", 3.2, lo=0)
        strength = r.get("strength", 0.75, lo=0)
        r.get("mode", 0, integer=True)
        r.unknown_keys(("deviation", "strength", "mode"))
        return cls(deviation, strength)

    @classmethod
    def read(cls, tf: TuningFile) -> "Sdn | None":
        return read_block(cls, tf, SDN)


@dataclass(frozen=True)
class Denoise:
    """Each mode's parts as read: ``{"normal": {"sdn": {...}, "cdn": {...}, "tdn": {...}}, ...}``."""

    modes: dict

    @classmethod
    def parse(cls, r: BlockReader) -> "Denoise":
        names = [m for m in MODES if m in r.params]
        if not names:
            return cls({"normal": _mode(r, r.params, "")})
        if "normal" not in r.params:
            r.error("normal", "missing: with denoise modes, \"normal\" is required")
        modes = {}
        for m in names:
            mode = r.mapping(r.params[m], m)
            if mode is not None:
                modes[m] = _mode(r, mode, f"{m}.")
        return cls(modes)

    @classmethod
    def read(cls, tf: TuningFile) -> "Denoise | None":
        return read_block(cls, tf, DENOISE)


def _mode(r: BlockReader, mode: dict, prefix: str) -> dict:
    out = {}
    for part in ("sdn", "cdn", "tdn"):
        if part in mode:
            sub = r.mapping(mode[part], f"{prefix}{part}")
            if sub is not None:
                out[part] = {k: r.number(v, f"{prefix}{part}.{k}", default=0.0, lo=0) for k, v in sub.items()}
    return out
