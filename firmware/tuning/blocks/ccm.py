"""``rpi.ccm`` (libcamera ``ccm.cpp``): matrices from white-balanced camera RGB to linear sRGB, by colour temperature.

``ccms``: ``[{ct, ccm: 9 numbers row-major}]`` in strictly increasing ct ("CCM not in increasing colour
temperature order"), at least one ("No CCMs specified"); optional ``saturation`` PWL (lux -> factor).
``calculateCcm``: the first/last matrix outside the range, else linear in kelvin between neighbours;
``applySaturation``: ``Y2RGB * diag(1, s, s) * RGB2Y * M`` with s = user saturation x PWL(lux clamped to its
domain), always applied; every element then clamped to [-8, 7.9999].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..file import TuningFile
from ..interp import interpolate_ct
from ..pwl import Pwl
from .reader import BlockReader, read_block

NAME = "rpi.ccm"
# ccm.cpp's BT.601 matrices, exactly as written there (Y2RGB is a rounded inverse, so s = 1 is not quite identity).
RGB2Y = np.array([[0.299, 0.587, 0.114], [-0.169, -0.331, 0.500], [0.500, -0.419, -0.081]])
Y2RGB = np.array([[1.000, 0.000, 1.402], [1.000, -0.345, -0.714], [1.000, 1.771, 0.000]])


def apply_saturation(m: np.ndarray, s: float) -> np.ndarray:
    """``applySaturation``: saturation ``s`` on the chroma of what ``m`` produces."""
    return Y2RGB @ np.diag([1.0, s, s]) @ RGB2Y @ m


@dataclass(frozen=True)
class Ccm:
    cts: tuple[float, ...]
    matrices: tuple[np.ndarray, ...]
    saturation: Pwl | None = None

    @classmethod
    def parse(cls, r: BlockReader) -> "Ccm":
        sat = r.pwl(r.params["saturation"], "saturation") if "saturation" in r.params else None
        entries = r.sequence(r.params.get("ccms"), "ccms") if "ccms" in r.params else []
        if entries is not None and not entries:
            r.error("ccms", "no CCMs specified (libcamera: \"No CCMs specified\")")
        cts, mats = [], []
        for i, e, ct in r.ordered(entries, "ccms", "ct", "{v:g} K after {last:g} K (libcamera: \"CCM not in "
                                  "increasing colour temperature order\")", lo=0, lo_open=True):
            m = r.numbers(e.get("ccm"), f"ccms[{i}].ccm", length=9)
            if m is None:
                continue
            sums = m.reshape(3, 3).sum(axis=1)
            if np.abs(sums - 1.0).max() > 0.02:
                r.warn(f"ccms[{i}].ccm", "rows sum to " + ", ".join(f"{s:.3f}" for s in sums) +
                       ", not 1: greys will not stay grey")
            if np.abs(m).max() > 8.0:
                r.warn(f"ccms[{i}].ccm", "values beyond +-8 are clamped by libcamera")
            cts.append(ct)
            mats.append(m.reshape(3, 3))
        r.unknown_keys(("ccms", "saturation"))
        if not mats:
            cts, mats = [4000.0], [np.eye(3)]
        return cls(tuple(cts), tuple(mats), sat)

    @classmethod
    def read(cls, tf: TuningFile) -> "Ccm":
        return read_block(cls, tf, NAME, required=True)

    def at(self, ct: float, saturation: float = 1.0, lux: float | None = None) -> np.ndarray:
        """The matrix libcamera programs at ``ct``: interpolated, saturated (user x PWL at ``lux``), clamped."""
        m = interpolate_ct(self.cts, self.matrices, ct)
        if self.saturation is not None and lux is not None:
            saturation *= float(self.saturation.eval(self.saturation.clamp(lux)))
        return np.clip(apply_saturation(m, saturation), -8.0, 7.9999)
