"""A merged raw as a DNG: 16-bit Bayer data, the merged frame's own NoiseProfile, colour tags from its source.

Written with the project's TIFF structure writer and the capture writer's raw IFD (``formats/dng.py``), so a
merged DNG is laid out like any camerad DNG: the CFA image in IFD0 (no preview), BlackLevel 4096 and
WhiteLevel 65535 (libcamera's 16-bit scale), ``NoiseProfile`` of the merge, the reference's EXIF. The colour
tags come ready-made: from the tuning for the daemon's own bursts (``colour_from_tuning``: the same camera
profile the capture writer embeds), or copied from the reference DNG of a burst from any camera
(``colour_from_dng``). ``BaselineExposure`` stays 0: a merged HDR frame's reference is exposed for the
highlights, and a developer that applied its brightening linearly would clip them - the camera's local tone
mapping (``tone.py``) does it instead. LibRaw, dcraw and the project's reader take it like any Bayer DNG.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..formats.dng import DNG_BACKWARD_VERSION, DNG_VERSION, _raw_ifd, profile_tags
from ..formats.exif import DATETIME, MAKE, MODEL, ORIENTATION, SOFTWARE, exif_ifd
from ..formats.identity import CameraIdentity
from ..formats.tiff_ifd import ASCII, BYTE, DOUBLE, RATIONAL, SHORT, SRATIONAL, Ifd, rational, serialize
from ..frame import FrameInfo
from .burst import MERGED_BLACK, MergedRaw

# Tags copied from a source DNG's IFD0: colour matrices, illuminants, forward matrices, as-shot neutral,
# analog balance, camera calibration and the profile's name.
_COPIED = (50721, 50722, 50778, 50779, 50964, 50965, 50728, 50727, 50723, 50724, 50936)


@dataclass(frozen=True)
class DngSource:
    """What the merged DNG repeats of where its frames came from."""

    identity: CameraIdentity
    metadata: dict  # ExposureTime, AnalogueGain, DigitalGain: the reference frame's, for the EXIF
    profile: object | None = None  # a formats.dng_profile.Profile (from the tuning), or
    copied: list = field(default_factory=list)  # (tag, TIFF type, value) read from a source DNG
    orientation: int = 1
    when: tuple[str, str, str] | None = None  # EXIF DateTimeOriginal, SubSec, OffsetTime


def colour_from_tuning(tuning, metadata, identity: CameraIdentity) -> DngSource:
    """For the daemon's own burst: the camera profile the capture writer embeds, the reference's metadata."""
    from ..formats.dng_opcodes import shot_ct
    from ..formats.dng_profile import build_profile

    ct = shot_ct(tuning, metadata.get("ColourTemperature"), metadata.get("ColourGains"))
    profile = build_profile(tuning, ct=ct, lux=float(metadata.get("Lux", 400.0)),
                            camera=f"{identity.make} {identity.model}")
    gains = metadata.get("ColourGains")
    neutral = (1.0 / gains[0], 1.0, 1.0 / gains[1]) if gains else (1.0, 1.0, 1.0)
    return DngSource(identity, dict(metadata), profile, [(50728, RATIONAL, [rational(v) for v in neutral])])


def colour_from_dng(dng) -> DngSource:
    """For an offline burst: the reference DNG's (a ``DngImage``) colour tags and camera facts."""
    import tifffile

    copied = []
    with tifffile.TiffFile(dng.path) as tif:
        tags = tif.pages[0].tags
        for code in _COPIED:
            tag = tags.get(code)
            if tag is not None:
                value = tag.value
                copied.append((code, int(tag.dtype), value))
    identity = CameraIdentity(make=dng.make or "unknown", model=dng.model or "unknown",
                              software="camerad camtune merge", f_number=dng.f_number,
                              focal_length_mm=dng.focal_length_mm, lens_model=dng.lens_model)
    md = {"ExposureTime": dng.exposure_us, "AnalogueGain": max(dng.iso, 100) / 100.0, "DigitalGain": 1.0}
    return DngSource(identity, md, None, copied, dng.orientation, dng.datetime)


def _values(dtype: int, value):
    """A tifffile tag value as ``Ifd.set`` takes it: rationals as (numerator, denominator) pairs."""
    if dtype in (RATIONAL, SRATIONAL):
        flat = np.ravel(value).tolist()
        return [(int(flat[i]), int(flat[i + 1])) for i in range(0, len(flat), 2)]
    if isinstance(value, bytes) and dtype == ASCII:
        return value.decode("ascii", "replace").rstrip("\0")
    return value if isinstance(value, (bytes, str)) else np.ravel(value).tolist()


def encode_merged_dng(merged: MergedRaw, cfa: str, source: DngSource) -> bytes:
    """The DNG file of a merged raw, as bytes."""
    frame = FrameInfo.from_metadata({"SensorBlackLevels": (MERGED_BLACK,) * 4}, cfa, 16)
    ifd0 = _raw_ifd(merged.raw, frame, "none")
    ifd0.set(51041, DOUBLE, [float(merged.noise.shot), float(merged.noise.read)])
    ident = source.identity
    when = source.when or (time.strftime("%Y:%m:%d %H:%M:%S"), "000", "")
    ifd0.set(MAKE, ASCII, ident.make).set(MODEL, ASCII, ident.model).set(ORIENTATION, SHORT, source.orientation)
    ifd0.set(SOFTWARE, ASCII, ident.software).set(DATETIME, ASCII, when[0])
    ifd0.set(50706, BYTE, bytes(DNG_VERSION)).set(50707, BYTE, bytes(DNG_BACKWARD_VERSION))
    ifd0.set(50708, ASCII, f"{ident.make} {ident.model}")
    if source.profile is not None:
        profile_tags(ifd0, source.profile)
    for code, dtype, value in source.copied:
        ifd0.set(code, dtype, _values(dtype, value))
    ifd0.set(50730, SRATIONAL, (0, 1))  # BaselineExposure: see the module's docstring
    ifd0.exif = exif_ifd(source.metadata, ident, when)
    return serialize(ifd0)


def write_merged_dng(path: str | Path, merged: MergedRaw, cfa: str, source: DngSource) -> None:
    """Write it atomically (all or nothing, as every capture file)."""
    from ..storage.atomic import atomic_write

    atomic_write(Path(path), encode_merged_dng(merged, cfa, source))
