"""Typed views of the tuning blocks the firmware reads, with libcamera's defaults.

Each class reads one block the way the matching ``src/ipa/rpi/controller/rpi/<algo>.cpp`` does, so the mock's
IPA loops and the software ISP interpret a file exactly as the Pi's IPA would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import TuningError
from .file import TuningFile
from .interp import interpolate_ct
from .pwl import Pwl


def _need(tf: TuningFile, name: str) -> dict:
    params = tf.block(name)
    if params is None:
        raise TuningError(f"{tf.source}: {name}: block missing or disabled")
    return params


@dataclass(frozen=True)
class BlackLevel:
    """``rpi.black_level``: on libcamera's 16-bit scale (4096 = 256 in 12 bits)."""

    r: float
    g: float
    b: float

    @classmethod
    def read(cls, tf: TuningFile) -> "BlackLevel":
        p = tf.block("rpi.black_level") or {}
        base = float(p.get("black_level", 4096))
        return cls(float(p.get("black_level_r", base)), float(p.get("black_level_g", base)),
                   float(p.get("black_level_b", base)))


@dataclass(frozen=True)
class Noise:
    """``rpi.noise``: noise std = constant + slope * sqrt(level) on the 16-bit scale, at analogue gain 1."""

    constant: float
    slope: float

    @classmethod
    def read(cls, tf: TuningFile) -> "Noise":
        p = _need(tf, "rpi.noise")
        return cls(float(p["reference_constant"]), float(p["reference_slope"]))


@dataclass(frozen=True)
class Lux:
    """``rpi.lux``: lux = (ref_exposure/exposure) (ref_gain/gain) (Y/ref_Y) ref_lux, Y on the 16-bit scale."""

    shutter_us: float
    gain: float
    aperture: float
    lux: float
    y: float

    @classmethod
    def read(cls, tf: TuningFile) -> "Lux | None":
        p = tf.block("rpi.lux")
        if p is None:
            return None
        return cls(float(p["reference_shutter_speed"]), float(p["reference_gain"]),
                   float(p.get("reference_aperture", 1.0)), float(p["reference_lux"]), float(p["reference_Y"]))

    def estimate(self, exposure_us: float, gain: float, y16: float) -> float:
        return (self.shutter_us / exposure_us) * (self.gain / gain) * (y16 / self.y) * self.lux


@dataclass(frozen=True)
class AwbCurve:
    """``rpi.awb`` ``ct_curve``: for each colour temperature, r = R/G and b = B/G of a grey."""

    ct: np.ndarray
    r: np.ndarray
    b: np.ndarray

    @classmethod
    def from_flat(cls, flat, source: str = "rpi.awb") -> "AwbCurve":
        vals = np.asarray(flat, dtype=float)
        if vals.size % 3 or vals.size < 6:
            raise TuningError(f"{source}: ct_curve needs at least two [ct, r, b] triplets")
        return cls(vals[0::3].copy(), vals[1::3].copy(), vals[2::3].copy())

    @property
    def domain(self) -> tuple[float, float]:
        return float(self.ct[0]), float(self.ct[-1])

    def rb(self, ct: float) -> tuple[float, float]:
        """(r, b) of a grey at ``ct``, clamped to the curve's range as libcamera does."""
        ct = float(np.clip(ct, self.ct[0], self.ct[-1]))
        return float(np.interp(ct, self.ct, self.r)), float(np.interp(ct, self.ct, self.b))

    def gains(self, ct: float) -> tuple[float, float]:
        r, b = self.rb(ct)
        return 1.0 / r, 1.0 / b

    def ct_from_gains(self, gain_r: float, gain_b: float) -> float:
        """Colour temperature of manual ColourGains: the mean of the inverse r and b curves (awb.cpp)."""
        r, b = 1.0 / gain_r, 1.0 / gain_b
        # r falls and b rises with ct; np.interp needs increasing x.
        ct_r = np.interp(r, self.r[::-1], self.ct[::-1])
        ct_b = np.interp(b, self.b, self.ct)
        return float(0.5 * (ct_r + ct_b))


@dataclass(frozen=True)
class Awb:
    curve: AwbCurve | None
    modes: dict[str, tuple[float, float]]
    priors: list[tuple[float, Pwl]]
    speed: float
    startup_frames: int
    delta_limit: float
    transverse_pos: float
    transverse_neg: float

    @classmethod
    def read(cls, tf: TuningFile) -> "Awb":
        p = tf.block("rpi.awb") or {}
        src = f"{tf.source}: rpi.awb"
        curve = AwbCurve.from_flat(p["ct_curve"], src) if "ct_curve" in p else None
        modes = {k: (float(v["lo"]), float(v["hi"])) for k, v in p.get("modes", {}).items()}
        if not modes:
            modes = {"auto": (2500.0, 8000.0)}
        priors = [(float(e["lux"]), Pwl(e["prior"])) for e in p.get("priors", [])]
        return cls(curve=curve, modes=modes, priors=priors, speed=float(p.get("speed", 0.05)),
                   startup_frames=int(p.get("startup_frames", 10)), delta_limit=float(p.get("delta_limit", 0.2)),
                   transverse_pos=float(p.get("transverse_pos", 0.01)),
                   transverse_neg=float(p.get("transverse_neg", 0.01)))

    def prior(self, lux: float, ct: np.ndarray) -> np.ndarray:
        """Log-likelihood of each ct at this lux, interpolated between the two nearest lux levels."""
        if not self.priors:
            return np.zeros_like(ct, dtype=float)
        luxes = [lx for lx, _ in self.priors]
        vals = [pwl.eval(np.clip(ct, *pwl.domain)) for _, pwl in self.priors]
        return interpolate_ct(luxes, vals, lux)


@dataclass(frozen=True)
class Ccm:
    """``rpi.ccm``: matrices from white-balanced camera RGB to linear sRGB, by colour temperature."""

    cts: tuple[float, ...]
    matrices: tuple[np.ndarray, ...]
    saturation: Pwl | None = None

    @classmethod
    def read(cls, tf: TuningFile) -> "Ccm":
        p = _need(tf, "rpi.ccm")
        entries = p.get("ccms", [])
        if not entries:
            raise TuningError(f"{tf.source}: rpi.ccm: ccms must hold at least one matrix")
        cts = tuple(float(e["ct"]) for e in entries)
        mats = tuple(np.asarray(e["ccm"], dtype=float).reshape(3, 3) for e in entries)
        sat = Pwl(p["saturation"]) if "saturation" in p else None
        return cls(cts, mats, sat)

    def at(self, ct: float, saturation: float = 1.0) -> np.ndarray:
        """The matrix at ``ct`` (libcamera's interpolation), with saturation applied in BT.601 YCbCr."""
        m = interpolate_ct(self.cts, self.matrices, ct)
        if saturation != 1.0:
            m = apply_saturation(m, saturation)
        return np.clip(m, -8.0, 7.9999)


# BT.601 full-range RGB <-> YCbCr, as libcamera's ccm.cpp uses for saturation.
_RGB2YCBCR = np.array([[0.299, 0.587, 0.114], [-0.169, -0.331, 0.500], [0.500, -0.419, -0.081]])
_YCBCR2RGB = np.linalg.inv(_RGB2YCBCR)


def apply_saturation(m: np.ndarray, s: float) -> np.ndarray:
    return _YCBCR2RGB @ np.diag([1.0, s, s]) @ _RGB2YCBCR @ m


@dataclass(frozen=True)
class Contrast:
    """``rpi.contrast``: the gamma curve (0..65535 in, 0..65535 out) and the adaptive stretch settings."""

    gamma: Pwl
    ce_enable: bool = True
    lo_histogram: float = 0.01
    lo_level: float = 0.015
    lo_max: float = 500.0
    hi_histogram: float = 0.95
    hi_level: float = 0.95
    hi_max: float = 2000.0

    @classmethod
    def read(cls, tf: TuningFile) -> "Contrast":
        p = _need(tf, "rpi.contrast")
        return cls(Pwl(p["gamma_curve"]), bool(p.get("ce_enable", 1)), float(p.get("lo_histogram", 0.01)),
                   float(p.get("lo_level", 0.015)), float(p.get("lo_max", 500)), float(p.get("hi_histogram", 0.95)),
                   float(p.get("hi_level", 0.95)), float(p.get("hi_max", 2000)))


@dataclass(frozen=True)
class AgcChannel:
    """The first channel of ``rpi.agc``: metering, exposure modes and the target brightness."""

    metering: dict[str, np.ndarray]
    exposure_modes: dict[str, tuple[tuple[float, ...], tuple[float, ...]]]
    y_target: Pwl
    speed: float = 0.2
    startup_frames: int = 10
    constraints: dict[str, list[dict]] = field(default_factory=dict)

    @classmethod
    def read(cls, tf: TuningFile) -> "AgcChannel":
        p = tf.block("rpi.agc") or {}
        if "channels" in p:
            p = p["channels"][0]
        metering = {k: np.asarray(v["weights"], dtype=float) for k, v in p.get("metering_modes", {}).items()}
        modes = {k: (tuple(float(s) for s in v["shutter"]), tuple(float(g) for g in v["gain"]))
                 for k, v in p.get("exposure_modes", {}).items()}
        if not modes:
            modes = {"normal": ((100.0, 10000.0, 30000.0, 60000.0, 66666.0), (1.0, 2.0, 4.0, 6.0, 8.0))}
        y_target = Pwl(p.get("y_target", [1000, 0.16, 10000, 0.165]))
        return cls(metering, modes, y_target, float(p.get("speed", 0.2)), int(p.get("startup_frames", 10)),
                   p.get("constraint_modes", {}))


@dataclass(frozen=True)
class Alsc:
    """``rpi.alsc``: colour shading tables by colour temperature and the luminance (vignetting) table."""

    grid: tuple[int, int]  # (columns, rows)
    cts_r: tuple[float, ...]
    tables_r: tuple[np.ndarray, ...]
    cts_b: tuple[float, ...]
    tables_b: tuple[np.ndarray, ...]
    luminance: np.ndarray
    luminance_strength: float = 1.0

    GRIDS = {"bcm2835": (16, 12), "pisp": (32, 32)}

    @classmethod
    def read(cls, tf: TuningFile) -> "Alsc | None":
        p = tf.block("rpi.alsc")
        if p is None:
            return None
        cols, rows = cls.GRIDS.get(tf.target, (16, 12))

        def tables(key):
            entries = p.get(key, [])
            return (tuple(float(e["ct"]) for e in entries),
                    tuple(np.asarray(e["table"], dtype=float).reshape(rows, cols) for e in entries))

        cts_r, tr = tables("calibrations_Cr")
        cts_b, tb = tables("calibrations_Cb")
        lum = np.asarray(p["luminance_lut"], dtype=float).reshape(rows, cols) if "luminance_lut" in p \
            else np.ones((rows, cols))
        return cls((cols, rows), cts_r, tr, cts_b, tb, lum, float(p.get("luminance_strength", 1.0)))

    def luminance_gain(self) -> np.ndarray:
        """The luminance table at its strength, ``(lut - 1) * strength + 1`` (``addLuminanceToTables``)."""
        return (self.luminance - 1.0) * self.luminance_strength + 1.0

    def colour_tables(self, ct: float, crop: tuple[float, float, float, float] | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Cr and Cb at ``ct``, each divided by its own smallest value over ``crop`` (fractions x0, y0, x1, y1).

        libcamera's ``compensateLambdasForCal`` normalises the red and the blue table each to a minimum of 1
        (over the table resampled to the mode's crop): the tables carry only the spatial shape of the colour
        shading, and the white balance carries the level. Stock files hold tables with minima of 1 to 3.7.
        """
        from .resample import resample_table

        shape = self.luminance.shape
        out = []
        for cts, tables in ((self.cts_r, self.tables_r), (self.cts_b, self.tables_b)):
            t = interpolate_ct(cts, tables, ct) if cts else np.ones(shape)
            seen = t
            if crop is not None:
                x0, y0, x1, y1 = crop
                seen = resample_table(t, (x0, y0, x1 - x0, y1 - y0), (1, 1))
            out.append(t / float(seen.min()))
        return out[0], out[1]

    def gains(self, ct: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(R, G, B) gain tables at ``ct`` as libcamera programs them with its adaptive lambdas at 1:
        R = Cr * L, G = L, B = Cb * L with Cr, Cb each min-normalised and L the luminance gain."""
        lum = self.luminance_gain()
        cr, cb = self.colour_tables(ct)
        return cr * lum, lum, cb * lum

    def gains_for_crop(self, ct: float, crop: tuple[float, float, float, float], sensor_size: tuple[int, int],
                       hflip: bool = False, vflip: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``gains(ct)`` for a mode's crop (x, y, width, height of the pixel array), as the IPA makes them on a
        mode switch: each table resampled (``resampleCalTable``), then Cr and Cb normalised to a minimum of 1."""
        from .resample import resample_table

        def cut(t):
            return resample_table(t, crop, sensor_size, hflip, vflip)

        shape = self.luminance.shape
        cr = cut(interpolate_ct(self.cts_r, self.tables_r, ct) if self.cts_r else np.ones(shape))
        cb = cut(interpolate_ct(self.cts_b, self.tables_b, ct) if self.cts_b else np.ones(shape))
        lum = cut(self.luminance_gain())
        return cr / cr.min() * lum, lum, cb / cb.min() * lum


@dataclass(frozen=True)
class Sharpen:
    """``rpi.sharpen``: threshold, strength and limit (libcamera's defaults are all 1.0)."""

    threshold: float = 1.0
    strength: float = 1.0
    limit: float = 1.0

    @classmethod
    def read(cls, tf: TuningFile) -> "Sharpen | None":
        p = tf.block("rpi.sharpen")
        if p is None:
            return None
        return cls(float(p.get("threshold", 1.0)), float(p.get("strength", 1.0)), float(p.get("limit", 1.0)))


@dataclass(frozen=True)
class Dpc:
    """``rpi.dpc``: defective pixel correction strength (0 off, 1 normal, 2 strong; libcamera default 1)."""

    strength: int = 1

    @classmethod
    def read(cls, tf: TuningFile) -> "Dpc | None":
        p = tf.block("rpi.dpc")
        if p is None:
            return None
        return cls(int(p.get("strength", 1)))
