"""``rpi.agc`` (libcamera ``agc.cpp``, ``agc_channel.cpp``): exposure, channel by channel.

Each channel (``channels: [...]``, or the block itself in old single-channel files) holds ``metering_modes``
(name -> ``weights``, one per ISP metering zone: 15 on vc4, 15x15 on pisp), ``exposure_modes`` (name ->
``shutter`` [us] and ``gain`` stages, paired, >= 2 each), ``constraint_modes`` (name -> list of ``{bound:
UPPER|LOWER, q_lo, q_hi, y_target}``), ``y_target`` (PWL lux -> target mean luminance, required) and the loop's
``speed``, ``startup_frames``, ``base_ev``, ``stable_region`` and friends. The first entry of each mode table is the
default. ``AgcChannel.read`` gives channel 0, the one the normal (non-HDR) camera runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..file import TuningFile
from ..pwl import Pwl
from .reader import BlockReader, read_block

NAME = "rpi.agc"
_SCALARS = (("speed", 0.2), ("fast_reduce_threshold", 0.4), ("base_ev", 1.0), ("default_exposure_time", 1000.0),
            ("default_analogue_gain", 1.0), ("stable_region", 0.02), ("max_digital_gain", 4.0))
_KEYS = ("metering_modes", "exposure_modes", "constraint_modes", "channel_constraints", "y_target",
         "startup_frames", "convergence_frames", "desaturate") + tuple(k for k, _ in _SCALARS)


@dataclass(frozen=True)
class AgcConstraint:
    """One histogram constraint: the mean between quantiles ``q_lo``..``q_hi`` at least (LOWER) or at most
    (UPPER) ``y_target`` at the scene's lux."""

    bound: str
    q_lo: float
    q_hi: float
    y_target: Pwl


@dataclass(frozen=True)
class AgcChannel:
    metering: dict[str, np.ndarray]
    exposure_modes: dict[str, tuple[tuple[float, ...], tuple[float, ...]]]
    y_target: Pwl
    speed: float = 0.2
    startup_frames: int = 10
    constraints: dict[str, list[AgcConstraint]] = field(default_factory=dict)
    convergence_frames: int = 6
    fast_reduce_threshold: float = 0.4
    base_ev: float = 1.0
    default_exposure_time: float = 1000.0
    default_analogue_gain: float = 1.0
    stable_region: float = 0.02
    max_digital_gain: float = 4.0
    desaturate: bool = True

    @classmethod
    def default(cls) -> "AgcChannel":
        """What the mock's loop uses for a file with no ``rpi.agc`` (libcamera itself would run no AGC)."""
        return cls({}, {"normal": ((100.0, 10000.0, 30000.0, 60000.0, 66666.0), (1.0, 2.0, 4.0, 6.0, 8.0))},
                   Pwl([1000, 0.16, 10000, 0.165]))

    @classmethod
    def parse(cls, r: BlockReader, ch: dict, prefix: str = "") -> "AgcChannel":
        metering = {str(k): w for k, w in _table(r, ch, prefix, "metering_modes", _metering).items()}
        modes = _table(r, ch, prefix, "exposure_modes", _exposure)
        constraints = _table(r, ch, prefix, "constraint_modes", _constraint_mode)
        for k in ("metering_modes", "exposure_modes"):
            if not (metering if k == "metering_modes" else modes) and not r.failed:
                r.error(prefix + k, "none given: libcamera's AGC has no default and fails on its first frame")
        if "channel_constraints" in ch:
            for j, cc in enumerate(r.sequence(ch["channel_constraints"], f"{prefix}channel_constraints") or []):
                cc = r.mapping(cc, f"{prefix}channel_constraints[{j}]")
                if cc is not None:
                    r.number(cc.get("channel"), f"{prefix}channel_constraints[{j}].channel", integer=True, lo=0)
                    _bound(r, cc, f"{prefix}channel_constraints[{j}]")
                    r.number(cc.get("factor"), f"{prefix}channel_constraints[{j}].factor", lo=0)
        y_target = Pwl([0, 0.16])
        if "y_target" not in ch:
            r.error(f"{prefix}y_target", "missing (required)")
        else:
            y_target = r.pwl(ch["y_target"], f"{prefix}y_target", default=y_target)
        ints = [r.number(ch[k], prefix + k, integer=True, lo=0, default=d) if k in ch else d
                for k, d in (("startup_frames", 10), ("convergence_frames", 6), ("desaturate", 1))]
        scalars = {k: r.number(ch[k], prefix + k, lo=0, default=d) if k in ch else d for k, d in _SCALARS}
        if scalars["speed"] > 1:
            r.error(prefix + "speed", f"{scalars['speed']:g} must be <= 1 (a filter step past the target diverges)")
            scalars["speed"] = 0.2
        if prefix == "" and "channels" not in r.params:
            r.unknown_keys(_KEYS)
        return cls(metering, modes or cls.default().exposure_modes, y_target, scalars["speed"], ints[0],
                   constraints, ints[1], scalars["fast_reduce_threshold"], scalars["base_ev"],
                   scalars["default_exposure_time"], scalars["default_analogue_gain"], scalars["stable_region"],
                   scalars["max_digital_gain"], bool(ints[2]))

    @classmethod
    def read(cls, tf: TuningFile) -> "AgcChannel":
        agc = Agc.read(tf)
        return agc.channels[0] if agc is not None else cls.default()

    def exposure_mode(self, name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """(shutters, gains) of exposure mode ``name``, else the default (first) one, as libcamera keeps the last."""
        return self.exposure_modes.get(name, next(iter(self.exposure_modes.values())))

    def metering_weights(self, name: str) -> np.ndarray | None:
        return self.metering.get(name, next(iter(self.metering.values()), None))

    def constraint_mode(self, name: str) -> list[AgcConstraint]:
        return self.constraints.get(name, next(iter(self.constraints.values()), []))


@dataclass(frozen=True)
class Agc:
    channels: tuple[AgcChannel, ...]

    @classmethod
    def parse(cls, r: BlockReader) -> "Agc":
        if "channels" not in r.params:
            return cls((AgcChannel.parse(r, r.params),))
        r.unknown_keys(("channels",))
        channels = r.sequence(r.params["channels"], "channels")
        if channels is not None and not channels:
            r.error("channels", "empty: AGC needs at least one channel")
        out = []
        for i, ch in enumerate(channels or []):
            ch = r.mapping(ch, f"channels[{i}]")
            if ch is not None:
                out.append(AgcChannel.parse(r, ch, f"channels[{i}]."))
        return cls(tuple(out) or (AgcChannel.default(),))

    @classmethod
    def read(cls, tf: TuningFile) -> "Agc | None":
        return read_block(cls, tf, NAME)


def _table(r: BlockReader, ch: dict, prefix: str, key: str, read_one) -> dict:
    out = {}
    table = r.mapping(ch[key], prefix + key) if key in ch else {}
    for name, value in (table or {}).items():
        item = read_one(r, value, f"{prefix}{key}.{name}")
        if item is not None:
            out[str(name)] = item
    return out


def _metering(r: BlockReader, mode, key: str):
    w = r.numbers(mode.get("weights") if isinstance(mode, dict) else mode, f"{key}.weights", lo=0)
    if w is not None and len(w) != r.platform.agc_weights:
        r.error(f"{key}.weights", f"has {len(w)} weights, the {r.platform.name} ISP meters {r.platform.agc_weights} "
                                  "zones (libcamera: \"AgcMeteringMode: Incorrect number of weights\")")
        return None
    if w is not None and not w.sum() > 0:
        r.error(f"{key}.weights", "all zero: nothing would be metered")
        return None
    return w


def _exposure(r: BlockReader, mode, key: str):
    mode = r.mapping(mode, key)
    if mode is None:
        return None
    shutter = r.numbers(mode.get("shutter"), f"{key}.shutter", lo=0, lo_open=True)
    gain = r.numbers(mode.get("gain"), f"{key}.gain", lo=0, lo_open=True)
    if shutter is None or gain is None:
        return None
    if len(shutter) < 2 or len(gain) < 2:
        r.error(key, "needs at least two shutter and gain entries "
                     "(libcamera: \"AgcExposureMode: must have at least two entries in exposure profile\")")
        return None
    if len(shutter) != len(gain):
        r.error(key, f"{len(shutter)} shutter values but {len(gain)} gains: they must pair up (libcamera: "
                     "\"expect same number of exposure and gain entries in exposure profile\")")
        return None
    return tuple(float(v) for v in shutter), tuple(float(v) for v in gain)


def _bound(r: BlockReader, con: dict, key: str) -> str | None:
    bound = str(con.get("bound", "")).upper()
    if bound not in ("UPPER", "LOWER"):
        r.error(f"{key}.bound", f"{con.get('bound')!r} must be UPPER or LOWER "
                                "(libcamera: \"AGC constraint type should be UPPER or LOWER\")")
        return None
    return bound


def _constraint_mode(r: BlockReader, mode, key: str):
    out = []
    for j, con in enumerate(r.sequence(mode, key) or []):
        ckey = f"{key}[{j}]"
        con = r.mapping(con, ckey)
        if con is None:
            continue
        bound = _bound(r, con, ckey)
        q_lo = r.number(con.get("q_lo"), f"{ckey}.q_lo", lo=0, hi=1)
        q_hi = r.number(con.get("q_hi"), f"{ckey}.q_hi", lo=0, hi=1)
        if q_lo is not None and q_hi is not None and q_lo >= q_hi:
            r.error(ckey, f"q_lo {q_lo:g} must be below q_hi {q_hi:g}: the mean between them is empty")
            continue
        y = r.pwl(con.get("y_target"), f"{ckey}.y_target")
        if None not in (bound, q_lo, q_hi, y):
            out.append(AgcConstraint(bound, q_lo, q_hi, y))
    return out
