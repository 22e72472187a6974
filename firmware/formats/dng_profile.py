"""The camera profile a DNG (or a ``.dcp`` file) carries: how a raw developer turns its data into colour.

Built from the tuning file, with libcamera's meaning of each number:

* ``ColorMatrix1/2`` (XYZ -> camera) for Standard Light A and D65 from the base tuning's CCM *at those colour
  temperatures* and the ``ct_curve`` neutral there;
* ``ForwardMatrix1/2`` (white-balanced camera -> XYZ D50): the same CCMs taken the other way, which is what
  the ISP does with them (camera RGB x gains -> CCM -> linear sRGB), adapted to D50 with Bradford;
* the look, as far as DNG can carry it: ``ProfileToneCurve`` from the look's ``rpi.contrast`` gamma curve
  (re-expressed as linear -> linear, because a DNG developer encodes to its output space after the curve),
  and a 2.5-D ``ProfileLookTable`` (hue shift, saturation and value scale by hue and saturation) holding the
  look's colour transform and saturation at the shot's colour temperature and light - exact for a linear
  colour transform, which is what a look is (a monochrome look becomes saturation 0 with its channel mix);
* ``ProfileName`` and ``ProfileCalibrationSignature`` naming the tuning (sensor, target, content digest).

Adaptive contrast (``ce_enable``), sharpening and lens fall-off kept by a look have no profile tag: the
fall-off is in the DNG's ``GainMap`` (``dng_opcodes``), the rest only in the camera's JPEG.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ..tuning import TuningFile
from ..tuning.blocks import Awb, Ccm, Contrast
from ..tuning.curves import srgb_decode
from ..colour.matrices import ILLUMINANTS, SRGB_TO_XYZ, bradford

# ROMM (ProPhoto) RGB -> XYZ under D50: the space DNG look tables and tone curves act in.
PROPHOTO_TO_XYZ_D50 = np.array([[0.7976749, 0.1351917, 0.0313534],
                                [0.2880402, 0.7118741, 0.0000857],
                                [0.0000000, 0.0000000, 0.8252100]])
D50_XYZ = np.array([0.96422, 1.0, 0.82521])
# Hue, saturation and value divisions (value 1: a 2.5-D table). 20 x 8 x 3 = 480 floats stays under the 500
# beyond which exiftool stops decoding an array and warns.
LOOK_TABLE_DIMS = (20, 8, 1)
TONE_POINTS = 129


@dataclass(frozen=True)
class Profile:
    name: str
    calibration_signature: str
    color_matrix_a: np.ndarray
    color_matrix_d65: np.ndarray
    forward_matrix_a: np.ndarray
    forward_matrix_d65: np.ndarray
    tone_curve: np.ndarray | None  # (n, 2) linear in -> linear out, 0..1
    look_table: np.ndarray | None  # (value, hue, sat, 3): hue shift (degrees), saturation scale, value scale


def tuning_digest(tuning: TuningFile) -> str:
    """A content digest of a tuning file (its strict JSON), 16 hex digits: the same file, the same digest."""
    return hashlib.sha256(tuning.dumps().encode("utf-8")).hexdigest()[:16]


def tuning_name(tuning: TuningFile) -> str:
    """What a tuning is called in files: the source's file name without directory (``imx477.json``)."""
    src = str(tuning.source).split(" + look ")[0]
    return src.replace("\\", "/").rsplit("/", 1)[-1] or "tuning"


def colour_matrix(tuning: TuningFile, illuminant: str) -> np.ndarray:
    """DNG ColorMatrix (XYZ under the illuminant -> camera RGB), normalised so its white maps to max 1."""
    _, xy, _ = ILLUMINANTS[illuminant]
    cm = np.linalg.inv(_camera_to_xyz(tuning, illuminant, xy))
    white = cm @ np.array([xy[0] / xy[1], 1.0, (1 - xy[0] - xy[1]) / xy[1]])
    return cm / white.max()


def _camera_to_xyz(tuning: TuningFile, illuminant: str, dst_xy) -> np.ndarray:
    """Raw camera RGB under the illuminant -> XYZ adapted to ``dst_xy`` (gains from the ct_curve there)."""
    _, _, ct = ILLUMINANTS[illuminant]
    ccm = Ccm.read(tuning).at(ct)
    curve = Awb.read(tuning).curve
    r, b = curve.rb(ct) if curve is not None else (1.0, 1.0)
    return bradford(ILLUMINANTS["D65"][1], dst_xy) @ SRGB_TO_XYZ @ ccm @ np.diag([1.0 / r, 1.0, 1.0 / b])


def forward_matrix(tuning: TuningFile, illuminant: str) -> np.ndarray:
    """DNG ForwardMatrix: white-balanced camera RGB -> XYZ D50, mapping camera white exactly to D50 white."""
    _, _, ct = ILLUMINANTS[illuminant]
    fm = bradford(ILLUMINANTS["D65"][1], ILLUMINANTS["D50"][1]) @ SRGB_TO_XYZ @ Ccm.read(tuning).at(ct)
    return fm * (D50_XYZ / fm.sum(axis=1))[:, None]


def tone_curve(rendering: TuningFile, points: int = TONE_POINTS) -> np.ndarray | None:
    """The look's gamma curve as a DNG ProfileToneCurve: linear in, linear out (sRGB-decoded), 0..1."""
    try:
        gamma = Contrast.read(rendering).gamma
    except Exception:  # no rpi.contrast: the developer keeps its own default curve
        return None
    x = np.linspace(0.0, 1.0, points) ** 2  # dense in the shadows, where the curve bends most
    y = srgb_decode(np.clip(np.asarray(gamma.eval(x * 65535.0), dtype=float) / 65535.0, 0.0, 1.0))
    y = np.maximum.accumulate(np.clip(y, 0.0, 1.0))
    y[0], y[-1] = 0.0, 1.0
    return np.stack([x, y], axis=1)


def look_matrix(base: TuningFile, rendering: TuningFile, ct: float, lux: float) -> np.ndarray:
    """The look's colour transform in linear sRGB at ``ct`` and ``lux``: rendering CCM after inverse base CCM."""
    return Ccm.read(rendering).at(ct, 1.0, lux) @ np.linalg.inv(Ccm.read(base).at(ct))


def _rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """The DNG SDK's HSV: hue in degrees, saturation (max - min) / max, value max (any sign allowed in)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v = rgb.max(axis=-1)
    span = v - rgb.min(axis=-1)
    s = np.where(v > 0, span / np.where(v > 0, v, 1), 0.0)
    safe = np.where(span > 0, span, 1.0)
    h = np.where(v == r, (g - b) / safe, np.where(v == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe))
    return np.stack([np.where(span > 0, (h % 6.0) * 60.0, 0.0), s, v], axis=-1)


def _hsv_to_rgb(h_deg: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    h = (h_deg / 60.0) % 6.0
    i = np.floor(h).astype(int)
    f = h - i
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.zeros(h.shape + (3,))
    for k, (r, g, b) in enumerate(table):
        m = i == k
        out[m] = np.stack([np.broadcast_to(r, h.shape)[m], np.broadcast_to(g, h.shape)[m],
                           np.broadcast_to(b, h.shape)[m]], axis=-1)
    return out


def look_table(matrix_srgb: np.ndarray, dims: tuple[int, int, int] = LOOK_TABLE_DIMS) -> np.ndarray | None:
    """A linear colour transform (linear sRGB) as a DNG HueSatMap in ProPhoto; None for the identity."""
    if np.allclose(matrix_srgb, np.eye(3), atol=1e-4):
        return None
    pp_to_srgb = np.linalg.inv(SRGB_TO_XYZ) @ bradford(ILLUMINANTS["D50"][1], ILLUMINANTS["D65"][1]) @ PROPHOTO_TO_XYZ_D50
    m = np.linalg.inv(pp_to_srgb) @ matrix_srgb @ pp_to_srgb
    hues, sats, vals = dims
    h = np.repeat(np.arange(hues) * 360.0 / hues, sats)
    s = np.tile(np.maximum(np.arange(sats) / (sats - 1), 0.02), hues)  # s = 0: the limit along each hue
    rgb = _hsv_to_rgb(h, s, np.ones_like(h))
    out = _rgb_to_hsv(rgb @ m.T)
    shift = np.where(out[:, 1] > 1e-4, (out[:, 0] - h + 180.0) % 360.0 - 180.0, 0.0)
    table = np.stack([shift, out[:, 1] / s, np.clip(out[:, 2], 0.0, None)], axis=-1)
    return np.broadcast_to(table.reshape(1, hues, sats, 3), (vals, hues, sats, 3)).astype(np.float32)


def build_profile(base: TuningFile, rendering: TuningFile | None = None, *, look: str | None = None,
                  ct: float = 5000.0, lux: float = 400.0, camera: str = "camerad") -> Profile:
    """The profile for ``base`` (calibration) rendered as ``rendering`` (base with the look composed in)."""
    rendering = rendering or base
    name = f"{camera} {look or 'base'}"
    signature = f"camerad {tuning_name(base)} {base.target} {tuning_digest(base)}"
    table = look_table(look_matrix(base, rendering, ct, lux)) if rendering is not base else None
    return Profile(name=name, calibration_signature=signature,
                   color_matrix_a=colour_matrix(base, "A"), color_matrix_d65=colour_matrix(base, "D65"),
                   forward_matrix_a=forward_matrix(base, "A"), forward_matrix_d65=forward_matrix(base, "D65"),
                   tone_curve=tone_curve(rendering), look_table=table)
