"""``rpi.awb`` and ``rpi.nn.awb`` (libcamera ``awb.cpp``): the Bayesian white balance's curve, priors and modes.

``ct_curve``: flat ``[ct, r, b, ...]`` triplets (r = R/G, b = B/G of a grey), >= 2 points; libcamera's ``Pwl``
extends it linearly past its ends, which the search uses when a mode's range is wider than the curve.
``priors``: ``{lux, prior: PWL ct -> log likelihood}`` in increasing lux. ``modes``: name -> ``{lo, hi}``, the first
is the default. ``bayes`` 0, or a missing curve, priors or modes, means grey world. Zone colours are multiplied
by ``sensitivity_r/_b`` before the search and the gains found by them after it ("canonical sensor").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..file import TuningFile
from ..interp import interpolate_ct
from ..pwl import Pwl
from .reader import BlockReader, read_block

NAME = "rpi.awb"
NN_NAME = "rpi.nn.awb"
DEFAULT_CT = 4500.0  # awb.cpp kDefaultCT: grey world's colour temperature
_INTEGER_KEYS = ("frame_period", "startup_frames", "convergence_frames", "bayes", "min_regions", "min_G")
_KEYS = _INTEGER_KEYS + ("speed", "ct_curve", "modes", "delta_limit", "transverse_pos", "transverse_neg",
                         "sensitivity_r", "sensitivity_b", "priors", "min_pixels", "coarse_step", "whitepoint_r",
                         "whitepoint_b", "bias_proportion", "bias_ct", "use_derivatives", "greyworld")
_NN_KEYS = ("ccm", "enable_nn", "model", "min_temp", "max_temp", "zone_size", "sat_threshold")


@dataclass(frozen=True)
class AwbCurve:
    """``ct_curve``: for each colour temperature, r = R/G and b = B/G of a grey."""

    ct: np.ndarray
    r: np.ndarray
    b: np.ndarray

    @classmethod
    def from_flat(cls, flat) -> "AwbCurve":
        vals = np.asarray(flat, dtype=float)
        return cls(vals[0::3].copy(), vals[1::3].copy(), vals[2::3].copy())

    @property
    def domain(self) -> tuple[float, float]:
        return float(self.ct[0]), float(self.ct[-1])

    def rb(self, ct: float) -> tuple[float, float]:
        """(r, b) of a grey at ``ct``, clamped to the curve's range (``setColourTemperature``, initial values)."""
        ct = float(np.clip(ct, self.ct[0], self.ct[-1]))
        return float(np.interp(ct, self.ct, self.r)), float(np.interp(ct, self.ct, self.b))

    def rb_extended(self, ct):
        """(r, b) at ``ct`` with the end segments extended, as the search's ``ctR.eval(t)`` does."""
        ct = np.asarray(ct, dtype=np.float64)
        out = []
        for ys in (self.r, self.b):
            v = np.interp(ct, self.ct, ys)
            below = ys[0] + (ct - self.ct[0]) * (ys[1] - ys[0]) / (self.ct[1] - self.ct[0])
            above = ys[-1] + (ct - self.ct[-1]) * (ys[-1] - ys[-2]) / (self.ct[-1] - self.ct[-2])
            out.append(np.where(ct < self.ct[0], below, np.where(ct > self.ct[-1], above, v)))
        return out[0], out[1]

    def gains(self, ct: float) -> tuple[float, float]:
        r, b = self.rb(ct)
        return 1.0 / r, 1.0 / b

    def ct_from_gains(self, gain_r: float, gain_b: float) -> float:
        """Colour temperature of manual ColourGains: the mean of the inverse r and b curves, clamped (awb.cpp)."""
        r, b = 1.0 / gain_r, 1.0 / gain_b
        # r falls and b rises with ct; np.interp needs increasing x.
        ct_r = np.interp(r, self.r[::-1], self.ct[::-1])
        ct_b = np.interp(b, self.b, self.ct)
        return float(0.5 * (ct_r + ct_b))


@dataclass(frozen=True)
class Awb:
    curve: AwbCurve | None = None
    modes: dict[str, tuple[float, float]] = field(default_factory=lambda: {"auto": (2500.0, 8000.0)})
    priors: list[tuple[float, Pwl]] = field(default_factory=list)
    bayes: bool = False
    speed: float = 0.05
    startup_frames: int = 10
    frame_period: int = 10
    delta_limit: float = 0.2
    transverse_pos: float = 0.01
    transverse_neg: float = 0.01
    sensitivity_r: float = 1.0
    sensitivity_b: float = 1.0
    coarse_step: float = 0.2
    min_pixels: float = 16.0
    min_g: float = 32.0
    min_regions: int = 10
    whitepoint_r: float = 0.0
    whitepoint_b: float = 0.0
    bias_proportion: float = 0.0
    bias_ct: float = DEFAULT_CT

    @classmethod
    def parse(cls, r: BlockReader) -> "Awb":
        p = r.params
        ints = {k: r.get(k, d, integer=True, lo=0) for k, d in zip(_INTEGER_KEYS, (10, 10, 3, 1, 10, 32))}
        speed, delta_limit, coarse_step, min_pixels = (r.get(k, d, lo=0) for k, d in (
            ("speed", 0.05), ("delta_limit", 0.2), ("coarse_step", 0.2), ("min_pixels", 16.0)))
        if coarse_step == 0:
            r.error("coarse_step", "0 would never step along the curve (the search loops forever)")
            coarse_step = 0.2
        # awb.cpp: "AwbConfig: transverse_pos/neg must be > 0"
        tpos, tneg = (r.get(k, 0.01, lo=0, lo_open=True) for k in ("transverse_pos", "transverse_neg"))
        sens_r, sens_b = (r.get(k, 1.0, lo=0, lo_open=True) for k in ("sensitivity_r", "sensitivity_b"))
        wp_r, wp_b, bias_p = (r.get(k, 0.0) for k in ("whitepoint_r", "whitepoint_b", "bias_proportion"))
        bias_ct = r.get("bias_ct", DEFAULT_CT, lo=0, lo_open=True)
        curve = _curve(r) if "ct_curve" in p else None
        modes = _modes(r) if "modes" in p else {}
        priors = _priors(r) if "priors" in p else []
        bayes = bool(ints["bayes"])
        if bayes and not (curve and modes and priors):
            missing = [k for k, v in (("ct_curve", curve), ("modes", modes), ("priors", priors)) if not v]
            r.warn("bayes", f"Bayesian AWB without {', '.join(missing)}: libcamera falls back to grey world")
            bayes = False
        if not bayes:
            sens_r = sens_b = 1.0  # awb.cpp: "nor do sensitivities make any sense"
        r.unknown_keys(_KEYS + (_NN_KEYS if r.block == NN_NAME else ()))
        return cls(curve, modes or {"auto": (2500.0, 8000.0)}, priors, bayes, speed, ints["startup_frames"],
                   max(1, ints["frame_period"]), delta_limit, tpos, tneg, sens_r, sens_b, coarse_step, min_pixels, float(ints["min_G"]),
                   ints["min_regions"], wp_r, wp_b, bias_p, bias_ct)

    @classmethod
    def read(cls, tf: TuningFile) -> "Awb":
        """The block as libcamera reads it; grey world (no curve) when the block is absent."""
        return read_block(cls, tf, NAME) or cls()

    def mode(self, name: str) -> tuple[float, float]:
        """The search range of AwbMode ``name``; an unknown name keeps the default (first) mode."""
        return self.modes.get(name, next(iter(self.modes.values())))

    def prior(self, lux: float, ct: np.ndarray) -> np.ndarray:
        """``interpolatePrior``: log likelihood of each ct at this lux, between the two nearest lux levels."""
        if not self.priors:
            return np.zeros_like(np.asarray(ct, dtype=float))
        luxes = [lx for lx, _ in self.priors]
        vals = [pwl.eval(pwl.clamp(ct)) for _, pwl in self.priors]
        return interpolate_ct(luxes, vals, lux)


def _curve(r: BlockReader) -> AwbCurve | None:
    flat = r.numbers(r.params["ct_curve"], "ct_curve")
    if flat is None:
        return None
    if len(flat) % 3:
        r.error("ct_curve", f"{len(flat)} numbers is not a list of [ct, r, b] triplets "
                            "(libcamera: \"AwbConfig: incomplete CT curve entry\")")
        return None
    if len(flat) < 6:
        r.error("ct_curve", "needs at least two [ct, r, b] points "
                            "(libcamera: \"AwbConfig: insufficient points in CT curve\")")
        return None
    curve = AwbCurve.from_flat(flat)
    bad = np.flatnonzero(np.diff(curve.ct) <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        r.error("ct_curve", f"colour temperatures must increase: {curve.ct[i]:g} K after {curve.ct[i - 1]:g} K")
        return None
    if (curve.r <= 0).any() or (curve.b <= 0).any() or (curve.ct <= 0).any():
        r.error("ct_curve", "colour temperatures, r and b must be positive")
        return None
    return curve


def _modes(r: BlockReader) -> dict[str, tuple[float, float]]:
    modes = r.mapping(r.params["modes"], "modes") or {}
    if not modes and isinstance(r.params["modes"], dict):
        r.error("modes", "no AWB modes configured (libcamera: \"AwbConfig: no AWB modes configured\")")
    out = {}
    for name, m in modes.items():
        m = r.mapping(m, f"modes.{name}")
        if m is None:
            continue
        lo = r.number(m.get("lo"), f"modes.{name}.lo", lo=0, lo_open=True)
        hi = r.number(m.get("hi"), f"modes.{name}.hi", lo=0, lo_open=True)
        if lo is None or hi is None:
            continue
        if lo > hi:
            r.warn(f"modes.{name}", f"lo {lo:g} K is above hi {hi:g} K: the search covers one point")
            hi = lo
        out[str(name)] = (lo, hi)
    return out


def _priors(r: BlockReader) -> list[tuple[float, Pwl]]:
    priors = r.sequence(r.params["priors"], "priors")
    if priors is not None and not priors:
        r.error("priors", "no AWB priors configured (libcamera: \"AwbConfig: no AWB priors configured\")")
    out = []
    for i, e, lux in r.ordered(priors, "priors", "lux", "{v:g} after {last:g}: priors must be in increasing lux "
                               "(libcamera: \"AwbConfig: Prior must be ordered in increasing lux value\")", lo=0):
        pwl = r.pwl(e.get("prior"), f"priors[{i}].prior")
        if pwl is not None:
            out.append((lux, pwl))
    return out
