"""``rpi.alsc`` (libcamera ``alsc.cpp``): lens shading, colour tables by colour temperature and a luminance table.

``calibrations_Cr`` / ``calibrations_Cb``: ``[{ct, table}]`` in strictly increasing ct, each table one gain per
cell of the ISP's grid (16x12 vc4, 32x32 pisp, row-major). ``luminance_lut`` (same grid), or one generated from
``corner_strength`` (> 1) and ``asymmetry`` (the cos^4 model of ``generateLut``), else unity; applied at
``luminance_strength``. How libcamera turns them into the gains the ISP applies:

* ``getCalTable``: clamp at the end entries, else linear in kelvin between neighbours;
* ``resampleCalTable``: bilinear onto the mode's crop (and flips);
* ``compensateLambdasForCal``: each colour table divided by its own minimum - the tables carry only the
  spatial shape of the colour shading, white balance carries the level;
* ``addLuminanceToTables``: R = Cr * L, G = L, B = Cb * L with L = (lut - 1) * strength + 1 (its closing
  ``normalise`` is a no-op: the lambda it passes returns its result instead of assigning it).

libcamera also refines Cr/Cb frame by frame (an adaptive Gauss-Seidel solve bounded to 1 +- ``lambda_bound``);
we use the calibrated tables, which is where that solve starts after every table reset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..file import TuningFile
from ..interp import interpolate_ct
from ..resample import resample_table
from .reader import BlockReader, read_block

NAME = "rpi.alsc"
_INTEGER_KEYS = ("frame_period", "startup_frames", "n_iter", "min_G")
_KEYS = _INTEGER_KEYS + ("speed", "sigma", "sigma_Cr", "sigma_Cb", "min_count", "omega", "threshold", "lambda_bound",
                         "default_ct", "luminance_strength", "corner_strength", "asymmetry", "luminance_lut",
                         "calibrations_Cr", "calibrations_Cb")


def generate_lut(cols: int, rows: int, corner_strength: float, asymmetry: float) -> np.ndarray:
    """``generateLut``: the cos^4 fall-off of a lens whose corners need ``corner_strength`` x the centre's gain."""
    f1, f2 = corner_strength - 1.0, 1.0 + np.sqrt(corner_strength)
    r2_norm = cols * rows // 4 * (1 + asymmetry * asymmetry)  # integer division, as the C++ computes X * Y / 4
    yy, xx = np.mgrid[0:rows, 0:cols]
    dy = yy - rows // 2 + 0.5
    dx = (xx - cols // 2 + 0.5) * asymmetry
    r2 = (dx * dx + dy * dy) / r2_norm
    return (f1 * r2 + f2) ** 2 / (f2 * f2)


@dataclass(frozen=True)
class Alsc:
    grid: tuple[int, int]  # (columns, rows)
    cts_r: tuple[float, ...]
    tables_r: tuple[np.ndarray, ...]
    cts_b: tuple[float, ...]
    tables_b: tuple[np.ndarray, ...]
    luminance: np.ndarray
    luminance_strength: float = 1.0
    default_ct: float = 4500.0

    @classmethod
    def parse(cls, r: BlockReader) -> "Alsc":
        p = r.params
        cols, rows = r.platform.alsc_grid
        cells = cols * rows
        for k, d in zip(_INTEGER_KEYS, (12, 10, cols + rows, 50)):
            r.get(k, d, integer=True, lo=0)
        for k in ("speed", "sigma", "sigma_Cr", "sigma_Cb", "min_count", "omega", "threshold", "lambda_bound"):
            r.get(k, 0.0, lo=0)
        default_ct = r.get("default_ct", 4500.0, lo=0, lo_open=True)
        strength = r.get("luminance_strength", 1.0, lo=0)
        if strength > 1.0:
            r.warn("luminance_strength", f"{strength:g} over-corrects the light fall-off (corners brighter than "
                                         "the centre)")
        lum = np.ones((rows, cols))
        if "corner_strength" in p:
            cs = r.get("corner_strength", 2.0)
            asym = r.get("asymmetry", 1.0, lo=0)
            if cs <= 1.0:
                r.error("corner_strength", f"{cs:g} must be > 1.0 (libcamera: \"corner_strength must be > 1.0\")")
            else:
                lum = generate_lut(cols, rows, cs, asym)
        elif "luminance_lut" in p:
            lut = r.numbers(p["luminance_lut"], "luminance_lut")
            if lut is not None and len(lut) != cells:
                r.error("luminance_lut", f"has {len(lut)} values, the {r.platform.name} grid is {cols}x{rows} = "
                                         f"{cells} (libcamera: \"Invalid number of entries in LSC table\")")
            elif lut is not None and lut.min() <= 0:
                r.error("luminance_lut", "gains must be positive")
            elif lut is not None:
                lum = lut.reshape(rows, cols)
        tables = {k: _calibrations(r, k, (rows, cols)) for k in ("calibrations_Cr", "calibrations_Cb") if k in p}
        if len(tables) == 1:
            missing = "calibrations_Cr" if "calibrations_Cb" in p else "calibrations_Cb"
            r.warn(missing, "missing while the other colour's tables exist: that colour gets no shading correction")
        r.unknown_keys(_KEYS)
        cts_r, tr = tables.get("calibrations_Cr", ((), ()))
        cts_b, tb = tables.get("calibrations_Cb", ((), ()))
        return cls((cols, rows), cts_r, tr, cts_b, tb, lum, strength, default_ct)

    @classmethod
    def read(cls, tf: TuningFile) -> "Alsc | None":
        return read_block(cls, tf, NAME)

    def luminance_gain(self) -> np.ndarray:
        """The luminance table at its strength, ``(lut - 1) * strength + 1`` (``addLuminanceToTables``)."""
        return (self.luminance - 1.0) * self.luminance_strength + 1.0

    def _cal(self, cts, tables, ct: float) -> np.ndarray:
        return interpolate_ct(cts, tables, ct) if cts else np.ones(self.luminance.shape)

    def gains(self, ct: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(R, G, B) gain tables at ``ct`` over the whole pixel array, as libcamera programs them with its
        adaptive lambdas at 1."""
        cols, rows = self.grid
        return self.gains_for_crop(ct, (0, 0, cols, rows), (cols, rows))

    def gains_for_crop(self, ct: float, crop: tuple[float, float, float, float], sensor_size: tuple[float, float],
                       hflip: bool = False, vflip: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``gains(ct)`` on the grid of a mode's crop (x, y, width, height of a ``sensor_size`` pixel array; any
        unit, e.g. fractions of a (1, 1) array), as the IPA makes them on a mode switch: each table resampled
        (``resampleCalTable``: bilinear, edges held), then Cr and Cb each normalised to a minimum of 1
        (``compensateLambdasForCal``), then the luminance gain on all three (``addLuminanceToTables``)."""
        def cut(t):
            return resample_table(t, crop, sensor_size, hflip, vflip)

        cr = cut(self._cal(self.cts_r, self.tables_r, ct))
        cb = cut(self._cal(self.cts_b, self.tables_b, ct))
        lum = cut(self.luminance_gain())
        return cr / cr.min() * lum, lum, cb / cb.min() * lum


def _calibrations(r: BlockReader, key: str, shape: tuple[int, int]):
    cts, tables = [], []
    cols, rows = shape[1], shape[0]
    cells = cols * rows
    entries = r.sequence(r.params[key], key)
    for i, e, ct in r.ordered(entries, key, "ct", "{v:g} K after {last:g} K: entries must be in increasing ct order "
                              f"(libcamera: \"Entries in {key} must be in increasing ct order\")", lo=0, lo_open=True):
        table = r.numbers(e.get("table"), f"{key}[{i}].table")
        if table is None:
            continue
        if len(table) != cells:
            r.error(f"{key}[{i}].table", f"has {len(table)} values, the {r.platform.name} grid is {cols}x{rows} "
                                         f"= {cells} (libcamera: \"Incorrect number of values for ct {ct:g} in "
                                         f"{key}\")")
        elif table.min() <= 0:
            r.error(f"{key}[{i}].table", "gains must be positive")
        else:
            cts.append(ct)
            tables.append(table.reshape(shape))
    return tuple(cts), tuple(tables)
