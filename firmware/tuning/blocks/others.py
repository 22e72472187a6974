"""Blocks libcamera runs but our software ISP does not model: checked so the Pi would load them, kept as they are.

``rpi.cac`` (pisp chromatic aberration: ``strength``, 9x9 ``lut_rx/ry/bx/by``), ``rpi.hdr`` (modes with a
``cadence``), ``rpi.tonemap`` and ``rpi.saturation`` (unused by default), and blocks whose contents we do not
read at all (``rpi.af``, ``rpi.sync``, ``rpi.decompand``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .reader import BlockReader


@dataclass(frozen=True)
class Cac:
    strength: float = 1.0

    @classmethod
    def parse(cls, r: BlockReader) -> "Cac":
        strength = r.get("strength", 1.0, lo=0)
        for k in ("lut_rx", "lut_ry", "lut_bx", "lut_by"):
            if k in r.params:
                r.numbers(r.params[k], k, length=81)  # (8 + 1) x (8 + 1) grid points for the 8x8 CAC regions
        return cls(strength)


@dataclass(frozen=True)
class Hdr:
    modes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, r: BlockReader) -> "Hdr":
        names = []
        for name, mode in r.params.items():
            if name == "enabled":
                continue
            mode = r.mapping(mode, str(name))
            if mode is not None and "cadence" in mode:
                r.numbers(mode["cadence"], f"{name}.cadence", integer=True, lo=0, min_length=1)
            names.append(str(name))
        return cls(tuple(names))


@dataclass(frozen=True)
class Tonemap:
    @classmethod
    def parse(cls, r: BlockReader) -> "Tonemap":
        if "tone_curve" in r.params:
            r.pwl(r.params["tone_curve"], "tone_curve")
        for k in ("detail_constant", "detail_slope", "iir_strength", "strength"):
            r.get(k, 0.0, lo=0)
        return cls()


@dataclass(frozen=True)
class Saturation:
    @classmethod
    def parse(cls, r: BlockReader) -> "Saturation":
        for k in ("shift_r", "shift_g", "shift_b"):
            r.get(k, 0, integer=True)
        return cls()


@dataclass(frozen=True)
class Opaque:
    """A block libcamera knows but whose contents we neither read nor check (af, sync, decompand)."""

    @classmethod
    def parse(cls, r: BlockReader) -> "Opaque":
        return cls()
