"""``rpi.contrast`` (libcamera ``contrast.cpp``): the gamma curve and the adaptive contrast stretch.

``gamma_curve`` (PWL on 0..65535 in and out, required), ``ce_enable`` (1), and the stretch: the ``lo_histogram``
quantile is pulled to ``lo_level`` (by at most ``lo_max``), the median stays, the ``hi_histogram`` quantile is
pushed to ``hi_level`` (by at most ``hi_max``) - ``computeStretchCurve``, composed before the gamma curve when
``ce_enable`` and either max is non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..file import TuningFile
from ..pwl import Pwl
from .reader import BlockReader, read_block

NAME = "rpi.contrast"
_KEYS = ("ce_enable", "lo_histogram", "lo_level", "lo_max", "hi_histogram", "hi_level", "hi_max", "gamma_curve")


@dataclass(frozen=True)
class Contrast:
    gamma: Pwl
    ce_enable: bool = True
    lo_histogram: float = 0.01
    lo_level: float = 0.015
    lo_max: float = 500.0
    hi_histogram: float = 0.95
    hi_level: float = 0.95
    hi_max: float = 2000.0

    @property
    def stretches(self) -> bool:
        """Whether libcamera computes a stretch at all (``ce_enable`` and a non-zero ``lo_max`` or ``hi_max``)."""
        return self.ce_enable and (self.lo_max != 0 or self.hi_max != 0)

    @classmethod
    def parse(cls, r: BlockReader) -> "Contrast":
        ce = r.get("ce_enable", 1, integer=True, lo=0, hi=1)
        fractions = [r.get(k, d, lo=0, hi=1) for k, d in
                     (("lo_histogram", 0.01), ("lo_level", 0.015), ("hi_histogram", 0.95), ("hi_level", 0.95))]
        lo_max = r.get("lo_max", 500.0, lo=0, hi=65535)
        hi_max = r.get("hi_max", 2000.0, lo=0, hi=65535)
        gamma = Pwl([0.0, 0.0, 65535.0, 65535.0])
        if "gamma_curve" not in r.params:
            r.error("gamma_curve", "missing (required)")
        else:
            g = r.pwl(r.params["gamma_curve"], "gamma_curve", x_range=(0, 65535))
            if g is not None:
                xs, ys = g.x, g.y
                if len(xs) < 2 or xs[0] != 0 or xs[-1] != 65535:
                    r.error("gamma_curve", f"must span the whole input range 0..65535, spans {xs[0]:g}..{xs[-1]:g}")
                elif ys.min() < 0 or ys.max() > 65535:
                    r.error("gamma_curve", f"outputs must lie in 0..65535, got {ys.min():g}..{ys.max():g}")
                else:
                    if (ys[1:] < ys[:-1]).any():
                        r.warn("gamma_curve", "output decreases somewhere: tones reverse (solarisation)")
                    gamma = g
        r.unknown_keys(_KEYS)
        lo_h, lo_l, hi_h, hi_l = fractions
        return cls(gamma, bool(ce), lo_h, lo_l, lo_max, hi_h, hi_l, hi_max)

    @classmethod
    def read(cls, tf: TuningFile) -> "Contrast":
        return read_block(cls, tf, NAME, required=True)
