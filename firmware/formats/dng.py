"""DNG 1.4 from a raw Bayer frame, laid out as cameras and Adobe's converter write it.

* IFD0: a 256-pixel RGB thumbnail, the camera and profile tags (``ColorMatrix1/2``, ``ForwardMatrix1/2``,
  ``ProfileName``, ``ProfileCalibrationSignature``, the look's ``ProfileToneCurve`` and ``ProfileLookTable``:
  ``dng_profile``), ``AsShotNeutral``, the recipe in ``DNGPrivateData`` (``dng_recipe``) and XMP;
* sub-IFD 0: the raw CFA image (uncompressed, or lossless JPEG tiles: ``dng_data``) with its black and
  white levels, ``NoiseProfile`` and lens shading as ``GainMap`` opcodes in ``OpcodeList2``
  (``dng_opcodes``) - the levels, the noise profile and the crop are the frame's ``FrameInfo``, derived once
  by the writer (``develop.frame_facts``: the tuning's ``rpi.noise`` at the frame's gain) and shared with the
  JPEG's development;
* sub-IFD 1: a 1024-pixel JPEG preview of the camera's rendering (``previews``);
* the EXIF IFD: exposure, ISO, aperture, lens, time with sub-seconds and offset (``exif``).

Written with our own TIFF structure writer (``tiff_ifd``), not PiDNG: PiDNG writes one IFD only (EXIF fields
in IFD0, its own ``Software`` beside ours, which ``exiftool -validate`` flags), has no sub-IFDs for previews,
and its lossless compression fails to import on Python 3.10+. Without a preview picture (``camtune mock``'s
calibration frames) the raw image is IFD0 itself, as Android's DngCreator writes it.
"""

from __future__ import annotations

import datetime
from typing import Any, Mapping

import numpy as np

from ..colour.matrices import ILLUMINANTS
from ..frame import FrameInfo
from ..tuning import TuningFile
from .dng_data import encode_raw
from .dng_opcodes import shading_gain_maps, shot_ct
from .dng_profile import build_profile, colour_matrix  # noqa: F401  (colour_matrix: part of this API)
from .dng_recipe import DNG_PRIVATE_DATA, CaptureRecipe, encode_private_data, xmp_packet
from .exif import DATETIME, MAKE, MODEL, ORIENTATION, SOFTWARE, exif_datetime, exif_ifd
from .identity import CameraIdentity
from .previews import PREVIEW_LONG_SIDE, THUMBNAIL_LONG_SIDE, baseline_jpeg, long_side
from .tiff_ifd import ASCII, BYTE, DOUBLE, FLOAT, LONG, SHORT, SRATIONAL, UNDEFINED, Ifd, rational, serialize, srational

CFA_CODES = {"R": 0, "G": 1, "B": 2}
DNG_VERSION = (1, 4, 0, 0)
DNG_BACKWARD_VERSION = (1, 3, 0, 0)  # GainMap opcodes need a 1.3 reader
_LOOKS: dict[tuple[int, str], tuple[TuningFile, TuningFile]] = {}


def rendering_tuning(tuning: TuningFile, look: str | None) -> TuningFile:
    """``tuning`` with ``look`` composed in (kept for the few looks in use), or ``tuning`` itself."""
    if not look:
        return tuning
    key = (id(tuning), look)
    hit = _LOOKS.get(key)
    if hit is None or hit[0] is not tuning:
        from ..tuning.looks import apply_look

        if len(_LOOKS) >= 8:
            _LOOKS.clear()
        hit = _LOOKS[key] = (tuning, apply_look(tuning, look))
    return hit[1]


def _matrix(ifd: Ifd, tag: int, m: np.ndarray) -> None:
    ifd.set(tag, SRATIONAL, [srational(v) for v in np.ravel(m)])


def profile_tags(ifd: Ifd, profile) -> None:
    """A ``dng_profile.Profile`` as the tags of a DNG's IFD0 (or of a ``.dcp`` file)."""
    _matrix(ifd, 50721, profile.color_matrix_a)
    _matrix(ifd, 50722, profile.color_matrix_d65)
    ifd.set(50778, SHORT, ILLUMINANTS["A"][0]).set(50779, SHORT, ILLUMINANTS["D65"][0])
    _matrix(ifd, 50964, profile.forward_matrix_a)
    _matrix(ifd, 50965, profile.forward_matrix_d65)
    ifd.set(50936, ASCII, profile.name).set(50932, ASCII, profile.calibration_signature)
    ifd.set(50941, LONG, 0).set(50942, ASCII, "camerad; free to copy")  # ProfileEmbedPolicy: allow copying
    if profile.tone_curve is not None:
        ifd.set(50940, FLOAT, profile.tone_curve.ravel())
    if profile.look_table is not None:
        vals, hues, sats, _ = profile.look_table.shape
        ifd.set(50981, LONG, [hues, sats, vals]).set(50982, FLOAT, profile.look_table.ravel())
        ifd.set(51108, LONG, 0)  # ProfileLookTableEncoding: linear


def _raw_ifd(raw: np.ndarray, frame: FrameInfo, compression: str) -> Ifd:
    h, w = raw.shape
    cfa = frame.cfa
    data = encode_raw(raw, compression, bits=frame.white_level.bit_length())
    ifd = Ifd().set(254, LONG, 0).set(256, LONG, w).set(257, LONG, h).set(258, SHORT, 16)
    ifd.set(259, SHORT, data.compression).set(262, SHORT, 32803).set(277, SHORT, 1).set(284, SHORT, 1)
    if data.tiles:
        ifd.set(322, LONG, data.tile_size).set(323, LONG, data.tile_size)
    else:
        ifd.set(278, LONG, h)
    ifd.image(data.segments, tiles=data.tiles)
    ifd.set(33421, SHORT, [2, 2]).set(33422, BYTE, bytes(CFA_CODES[c] for c in cfa))
    ifd.set(50710, BYTE, bytes([0, 1, 2])).set(50711, SHORT, 1)
    black = [int(b) for b in frame.black_levels]
    ifd.set(50713, SHORT, [2, 2]).set(50714, LONG, black).set(50717, LONG, frame.white_level)
    ifd.set(50719, LONG, [0, 0]).set(50720, LONG, [w, h])  # DefaultCropOrigin/Size: the whole frame
    return ifd


def encode_dng(raw: np.ndarray, metadata: Mapping[str, Any], frame: FrameInfo, *, tuning: TuningFile,
               identity: CameraIdentity, wall_ns: int, orientation: int = 1, look: str | None = None,
               preview: np.ndarray | None = None, recipe: CaptureRecipe | None = None,
               compression: str = "none") -> bytes:
    """The DNG file for one raw frame (uint16, unpacked, black level included) that ``frame`` describes.

    ``tuning`` is the base (calibrated) tuning: the colour matrices come from it. ``look`` names the look the
    camera's JPEG was developed with (profile tone curve, look table, lens shading kept); the sensor mode's
    field of view is ``frame.crop``; ``preview`` the developed 8-bit sRGB picture (thumbnail and preview);
    ``recipe`` the development recipe for ``DNGPrivateData``; ``compression`` ``"none"`` or ``"ljpeg"``.
    """
    if raw.dtype != np.uint16 or raw.ndim != 2:
        raise ValueError(f"DNG needs a 2-D uint16 Bayer frame, got {raw.dtype} {raw.shape}")
    h, w = raw.shape
    gains = metadata.get("ColourGains")
    ct = recipe.colour_temperature if recipe else shot_ct(tuning, metadata.get("ColourTemperature"), gains)
    lux = recipe.lux if recipe else float(metadata.get("Lux", 400.0))
    rendering = rendering_tuning(tuning, look)
    profile = build_profile(tuning, rendering, look=look, ct=ct, lux=lux, camera=f"{identity.make} {identity.model}")
    stamp, subsec, offset = when = exif_datetime(wall_ns)

    raw_ifd = _raw_ifd(raw, frame, compression)
    opcodes = shading_gain_maps(rendering, ct, frame.cfa, (h, w), frame.crop)
    if opcodes is not None:
        raw_ifd.set(51009, UNDEFINED, opcodes)
    if frame.noise is not None:
        raw_ifd.set(51041, DOUBLE, [frame.noise.shot, frame.noise.read])

    if preview is not None:
        thumb = long_side(preview, THUMBNAIL_LONG_SIDE)
        ifd0 = Ifd().set(254, LONG, 1).set(256, LONG, thumb.shape[1]).set(257, LONG, thumb.shape[0])
        ifd0.set(258, SHORT, [8, 8, 8]).set(259, SHORT, 1).set(262, SHORT, 2).set(277, SHORT, 3)
        ifd0.set(278, LONG, thumb.shape[0]).set(284, SHORT, 1).image([np.ascontiguousarray(thumb).tobytes()])
        ifd0.subifds = [raw_ifd, _preview_ifd(preview, identity, wall_ns)]
    else:
        ifd0 = raw_ifd
    ifd0.set(MAKE, ASCII, identity.make).set(MODEL, ASCII, identity.model)
    ifd0.set(ORIENTATION, SHORT, int(orientation))
    ifd0.set(SOFTWARE, ASCII, identity.software).set(DATETIME, ASCII, stamp)
    ifd0.set(50706, BYTE, bytes(DNG_VERSION)).set(50707, BYTE, bytes(DNG_BACKWARD_VERSION))
    ifd0.set(50708, ASCII, f"{identity.make} {identity.model}")
    profile_tags(ifd0, profile)
    neutral = (1.0 / gains[0], 1.0, 1.0 / gains[1]) if gains else (1.0, 1.0, 1.0)
    ifd0.set(50728, 5, [rational(v) for v in neutral])  # AsShotNeutral (RATIONAL)
    ifd0.set(50730, SRATIONAL, (0, 1))  # BaselineExposure
    if identity.serial:
        ifd0.set(50735, ASCII, identity.serial)
    ifd0.set(50781, BYTE, int(metadata.get("SensorTimestamp", 0)).to_bytes(16, "big"))  # RawDataUniqueID
    if recipe is not None:
        ifd0.set(DNG_PRIVATE_DATA, BYTE, encode_private_data(recipe))
        ifd0.set(700, BYTE, xmp_packet(recipe, identity.software))
    ifd0.exif = exif_ifd(metadata, identity, when)
    return serialize(ifd0)


def _preview_ifd(rgb: np.ndarray, identity: CameraIdentity, wall_ns: int) -> Ifd:
    small = long_side(rgb, PREVIEW_LONG_SIDE)
    jpeg = baseline_jpeg(small, quality=90)
    ifd = Ifd().set(254, LONG, 1).set(256, LONG, small.shape[1]).set(257, LONG, small.shape[0])
    ifd.set(258, SHORT, [8, 8, 8]).set(259, SHORT, 7).set(262, SHORT, 6).set(277, SHORT, 3)
    ifd.set(278, LONG, small.shape[0]).set(284, SHORT, 1).set(530, SHORT, [2, 2]).image([jpeg])
    when = datetime.datetime.fromtimestamp(wall_ns / 1e9).astimezone().isoformat(timespec="milliseconds")
    ifd.set(50966, ASCII, "camerad").set(50967, ASCII, identity.software)
    ifd.set(50970, LONG, 2).set(50971, ASCII, when)  # PreviewColorSpace sRGB, PreviewDateTime
    return ifd


def encode_dcp(profile, unique_camera_model: str) -> bytes:
    """A DNG camera profile file (``.dcp``, as Adobe's tools, RawTherapee and darktable read it)."""
    ifd = Ifd().set(50708, ASCII, unique_camera_model)
    profile_tags(ifd, profile)
    return serialize(ifd, magic=0x4352)


def exposure_fraction(us: float) -> str:
    return f"1/{round(1e6 / us)}" if 0 < us < 1e6 else f"{us / 1e6:g}"
