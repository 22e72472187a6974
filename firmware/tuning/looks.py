"""Looks: small overlay files composed onto a sensor's calibrated tuning, in libcamera's own blocks.

A look changes only what libcamera can already express, so the Pi's hardware ISP runs it unchanged and our
software ISP renders the same picture:

* a colour transform ``L`` in linear sRGB, composed onto every calibrated CCM (``rpi.ccm``: ``L @ CCM``).
  Its rows sum to 1, so greys stay grey; a monochrome look has three identical rows (a channel mix), so
  every colour becomes achromatic and libcamera's Saturation control cannot bring colour back;
* a tone curve (``rpi.contrast`` ``gamma_curve``; see ``tone.py``), with adaptive contrast on or off;
* how much of the lens's light fall-off is corrected (``rpi.alsc`` ``luminance_strength``);
* sharpening (``rpi.sharpen``, as multiples of the sensor's own tuning);
* colour saturation by scene brightness (``rpi.ccm`` ``saturation``, lux -> factor).

Looks live in ``tuning/looks/<name>.json``. The API the daemon and ``camtune`` use::

    >>> "neutral" in list_looks()
    True
    >>> tuned = apply_look(TuningFile.load("tuning/mock/imx477.json"), "leica-authentic")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import paths
from ..errors import TuningError
from .file import TuningFile
from .hardware import platform_for
from .pwl import Pwl
from .tone import tone_curve

LOOK_KEYS = ("name", "summary", "description", "colour", "tone", "saturation", "luminance_strength",
             "sharpen_scale", "contrast_enhancement")
# libcamera's rpi.sharpen defaults, used when a base file has no sharpen block.
SHARPEN_DEFAULTS = {"threshold": 1.0, "strength": 1.0, "limit": 1.0}
# Where a block goes when the base lacks it: after the last of these that the file has.
_PLACE_AFTER = {"rpi.contrast": ("rpi.alsc", "rpi.agc", "rpi.awb"),
                "rpi.sharpen": ("rpi.ccm", "rpi.contrast", "rpi.alsc")}


@dataclass(frozen=True)
class Look:
    """A parsed look file. ``matrix`` is the colour transform in linear sRGB (rows sum to 1)."""

    name: str
    summary: str
    description: str
    matrix: np.ndarray
    monochrome: bool
    contrast: float = 1.0
    mid_grey: float | None = None
    saturation: list[float] | None = None  # rpi.ccm saturation PWL; None removes it (factor 1 at every lux)
    luminance_strength: float | None = None  # None keeps the base file's
    sharpen_scale: dict[str, float] = field(default_factory=dict)
    contrast_enhancement: bool = False
    source: str = "<memory>"

    def curve(self, points: int = 33) -> Pwl:
        return tone_curve(self.contrast, self.mid_grey, points)


def looks_dir() -> Path:
    return paths.tuning_dir() / "looks"


def list_looks() -> list[str]:
    """Names of the looks shipped in ``tuning/looks/``, sorted."""
    d = looks_dir()
    return sorted(p.stem for p in d.glob("*.json")) if d.is_dir() else []


def load_look(name_or_path: str | Path) -> Look:
    """A look by name (``leica-authentic``) or by path to a look file."""
    p = Path(name_or_path)
    if p.suffix != ".json" and "/" not in str(name_or_path):
        p = looks_dir() / f"{name_or_path}.json"
        if not p.is_file():
            raise TuningError(f"look {name_or_path!r}: no such look (looks: {', '.join(list_looks()) or 'none'})")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TuningError(f"{p}: look file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TuningError(f"{p}: cannot read look file: {exc}") from None
    return parse_look(doc, str(p))


def _num(doc: dict, key: str, src: str, lo: float, hi: float, default=None):
    v = doc.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= float(v) <= hi:
        raise TuningError(f"{src}: {key}: must be a number within {lo:g}..{hi:g}, got {v!r}")
    return float(v)


def parse_look(doc: Any, src: str = "<look>") -> Look:
    """Check a look document strictly (unknown keys are errors) and turn it into a ``Look``."""
    if not isinstance(doc, dict):
        raise TuningError(f"{src}: a look file must be a JSON object")
    for k in doc:
        if k not in LOOK_KEYS:
            raise TuningError(f"{src}: {k}: unknown key (keys: {', '.join(LOOK_KEYS)})")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise TuningError(f"{src}: name: missing or not a string")
    colour = doc.get("colour", {})
    if not isinstance(colour, dict) or set(colour) - {"matrix", "monochrome"} or len(colour) > 1:
        raise TuningError(f"{src}: colour: must be {{}} (identity), {{\"matrix\": 3x3}} or {{\"monochrome\": [r, g, b]}}")
    if "monochrome" in colour:
        mix = np.asarray(colour["monochrome"], dtype=float)
        if mix.shape != (3,) or abs(mix.sum() - 1.0) > 1e-6 or (mix < 0).any():
            raise TuningError(f"{src}: colour.monochrome: three non-negative weights summing to 1, got {colour['monochrome']}")
        matrix, mono = np.tile(mix, (3, 1)), True
    elif "matrix" in colour:
        matrix, mono = np.asarray(colour["matrix"], dtype=float), False
        if matrix.shape != (3, 3) or not np.isfinite(matrix).all():
            raise TuningError(f"{src}: colour.matrix: must be 3 rows of 3 numbers")
        sums = matrix.sum(axis=1)
        if np.abs(sums - 1.0).max() > 1e-6:
            raise TuningError(f"{src}: colour.matrix: rows must sum to 1 so greys stay grey, they sum to "
                              + ", ".join(f"{s:.4f}" for s in sums))
    else:
        matrix, mono = np.eye(3), False
    tone = doc.get("tone", {})
    if not isinstance(tone, dict) or set(tone) - {"contrast", "mid_grey"}:
        raise TuningError(f"{src}: tone: only 'contrast' and 'mid_grey' are allowed")
    sat = doc.get("saturation")
    if sat is not None:
        try:
            sat = Pwl(sat).flat()
        except (TypeError, ValueError) as exc:
            raise TuningError(f"{src}: saturation: a factor or a [lux, factor, ...] list: {exc}") from None
        if min(sat[1::2]) < 0 or max(sat[1::2]) > 2:
            raise TuningError(f"{src}: saturation: factors must lie within 0..2")
    sharpen = doc.get("sharpen_scale", {})
    if not isinstance(sharpen, dict) or set(sharpen) - set(SHARPEN_DEFAULTS):
        raise TuningError(f"{src}: sharpen_scale: only {', '.join(SHARPEN_DEFAULTS)} are allowed")
    scales = {k: _num(sharpen, k, f"{src}: sharpen_scale", 0.0, 4.0) for k in sharpen}
    ce = doc.get("contrast_enhancement", False)
    if not isinstance(ce, bool):
        raise TuningError(f"{src}: contrast_enhancement: must be true or false")
    return Look(name=name, summary=str(doc.get("summary", "")), description=str(doc.get("description", "")),
                matrix=matrix, monochrome=mono, contrast=_num(tone, "contrast", f"{src}: tone", 0.5, 3.0, 1.0),
                mid_grey=_num(tone, "mid_grey", f"{src}: tone", 0.05, 0.95), saturation=sat,
                luminance_strength=_num(doc, "luminance_strength", src, 0.0, 1.0), sharpen_scale=scales,
                contrast_enhancement=ce, source=src)


def _put(tf: TuningFile, name: str, params: dict) -> None:
    """Replace block ``name`` (enabling it if the base disabled it), or insert it where libcamera files have it."""
    params = {k: v for k, v in params.items() if k != "enabled"}
    if tf.block(name, enabled_only=False) is not None:
        tf.set_block(name, params)
        return
    names = tf.names()
    after = [names.index(n) for n in _PLACE_AFTER.get(name, ()) if n in names]
    pos = max(after) + 1 if after else len(names)
    tf.algorithms.insert(pos, (name, params))


def compose_ccm(look_matrix: np.ndarray, ccm: list[float]) -> list[float]:
    """``L @ CCM`` rounded as CTT writes CCMs; rows of a white-preserving pair still sum to 1."""
    m = np.asarray(look_matrix) @ np.asarray(ccm, dtype=float).reshape(3, 3)
    return [round(float(v), 5) for v in m.ravel()]


def apply_look(base: TuningFile, look: str | Path | Look) -> TuningFile:
    """A copy of ``base`` with the look composed in: CCMs, tone curve, vignetting, sharpening, saturation.

    The base keeps everything else (AGC, AWB, noise, denoise, HDR ...). A monochrome sensor's file has no
    ``rpi.ccm`` (``imx296_mono.json``): there the look's colour part has nothing to act on and is skipped.
    """
    look = look if isinstance(look, Look) else load_look(look)
    tf = base.copy()
    tf.source = f"{base.source} + look {look.name}"
    points = platform_for(tf.target).gamma_points if tf.target in ("bcm2835", "pisp") else 33

    ccm = tf.block("rpi.ccm")
    if ccm is not None:
        if not isinstance(ccm.get("ccms"), list) or not ccm["ccms"]:
            raise TuningError(f"{base.source}: rpi.ccm: a look needs the base file's calibrated CCMs, found none")
        new_ccm = dict(ccm)
        new_ccm["ccms"] = [dict(e, ccm=compose_ccm(look.matrix, e["ccm"])) for e in ccm["ccms"]]
        new_ccm.pop("saturation", None)
        if look.saturation is not None and not look.monochrome:
            new_ccm["saturation"] = look.saturation
        tf.set_block("rpi.ccm", new_ccm)

    contrast = dict(tf.block("rpi.contrast", enabled_only=False) or {})
    contrast["ce_enable"] = int(look.contrast_enhancement)
    contrast["gamma_curve"] = [int(v) for v in look.curve(points).flat()]
    _put(tf, "rpi.contrast", contrast)

    alsc = tf.block("rpi.alsc")
    if alsc is not None and look.luminance_strength is not None:
        tf.set_block("rpi.alsc", dict(alsc, luminance_strength=look.luminance_strength))

    if look.sharpen_scale:
        new = dict(SHARPEN_DEFAULTS, **(tf.block("rpi.sharpen") or {}))
        for k, s in look.sharpen_scale.items():
            new[k] = round(float(new[k]) * s, 4)
        _put(tf, "rpi.sharpen", new)
    return tf
