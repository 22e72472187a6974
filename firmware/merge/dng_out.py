"""A merged raw as a DNG: 16-bit Bayer data, the merged frame's own NoiseProfile, colour tags from its source.

Kept apart from ``formats/dng.py`` (the capture path's writer) so either can change without the other: this one
takes its colour tags ready-made - from the tuning for the daemon's own bursts (``colour_from_tuning``), or
copied from the reference DNG of a burst from any camera (``colour_from_dng``) - and writes what a raw developer
needs: CFA, BlackLevel 4096 and WhiteLevel 65535 (libcamera's 16-bit scale), the colour matrices and as-shot
neutral, ``NoiseProfile`` of the merge, ``BaselineExposure`` (how much brighter the picture is meant to be than
the reference's exposure, so a developer shows the shadows as the camera meant), and the reference's EXIF.
LibRaw, dcraw and RawTherapee read it like any Bayer DNG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pidng.core import RAW2DNG
from pidng.defs import PhotometricInterpretation
from pidng.dng import DNGTags, Tag

from .burst import MERGED_BLACK, MERGED_WHITE, MergedRaw

_CFA_CODES = {"R": 0, "G": 1, "B": 2}
# (tag, TIFF code) of the colour and camera tags copied from a source DNG, as rationals or plain values.
_COPIED = (("ColorMatrix1", 50721), ("ColorMatrix2", 50722), ("CalibrationIlluminant1", 50778),
           ("CalibrationIlluminant2", 50779), ("ForwardMatrix1", 50964), ("ForwardMatrix2", 50965),
           ("AsShotNeutral", 50728), ("Make", 271), ("Model", 272), ("UniqueCameraModel", 50708),
           ("Orientation", 274))
_SRATIONAL = {"ColorMatrix1", "ColorMatrix2", "ForwardMatrix1", "ForwardMatrix2"}


@dataclass(frozen=True)
class DngSource:
    """What the merged DNG repeats of where its frames came from."""

    tags: dict[str, Any]  # PiDNG tag name -> value, ready to set
    exposure_us: float = 0.0
    iso: int = 0
    software: str = "camerad merge"


def _rationals(values, den: int = 10000) -> list[list[int]]:
    return [[int(round(float(v) * den)), den] for v in np.ravel(values)]


def colour_from_tuning(tuning, metadata, identity) -> DngSource:
    """Colour tags for the daemon's own burst: the tuning's matrices at A and D65 and the as-shot neutral."""
    from ..formats.colour import ILLUMINANTS
    from ..formats.dng import colour_tags

    c = colour_tags(tuning, metadata, 16)
    tags = {"ColorMatrix1": _rationals(c.matrix_a), "CalibrationIlluminant1": ILLUMINANTS["A"][0],
            "ColorMatrix2": _rationals(c.matrix_d65), "CalibrationIlluminant2": ILLUMINANTS["D65"][0],
            "AsShotNeutral": _rationals(c.as_shot_neutral), "Make": identity.make, "Model": identity.model,
            "UniqueCameraModel": f"{identity.make} {identity.model}"}
    gain = float(metadata.get("AnalogueGain", 1.0)) * float(metadata.get("DigitalGain", 1.0))
    return DngSource(tags, float(metadata.get("ExposureTime", 0)), int(round(gain * 100)))


def colour_from_dng(path: str | Path, exposure_us: float = 0.0, iso: int = 0) -> DngSource:
    """Colour and camera tags copied from a DNG (the reference frame of an offline burst)."""
    import tifffile

    tags: dict[str, Any] = {}
    with tifffile.TiffFile(path) as tif:
        ifd0 = tif.pages[0].tags
        for name, code in _COPIED:
            tag = ifd0.get(code)
            if tag is None:
                continue
            v = tag.value
            if name in _SRATIONAL or name == "AsShotNeutral":
                flat = np.ravel(v)
                vals = [flat[i] / flat[i + 1] for i in range(0, len(flat), 2)] if tag.dtype in (5, 10) else flat
                tags[name] = _rationals(vals)
            elif isinstance(v, bytes):
                tags[name] = v.decode(errors="replace").strip("\x00 ")
            else:
                tags[name] = int(v) if name.startswith("Calibration") or name == "Orientation" else str(v)
    return DngSource(tags, exposure_us, iso)


def encode_merged_dng(merged: MergedRaw, cfa: str, source: DngSource, baseline_ev: float = 0.0) -> bytes:
    """The DNG file of a merged raw, as bytes."""
    h, w = merged.raw.shape
    t = DNGTags()
    t.set(Tag.ImageWidth, w)
    t.set(Tag.ImageLength, h)
    t.set(Tag.TileWidth, w)
    t.set(Tag.TileLength, h)
    t.set(Tag.PhotometricInterpretation, PhotometricInterpretation.Color_Filter_Array)
    t.set(Tag.SamplesPerPixel, 1)
    t.set(Tag.BitsPerSample, 16)
    t.set(Tag.CFARepeatPatternDim, [2, 2])
    t.set(Tag.CFAPattern, [_CFA_CODES[c] for c in cfa])
    t.set(Tag.BlackLevelRepeatDim, [2, 2])
    t.set(Tag.BlackLevel, [MERGED_BLACK] * 4)
    t.set(Tag.WhiteLevel, MERGED_WHITE)
    t.set(Tag.NoiseProfile, [float(merged.noise.shot), float(merged.noise.read)])
    t.set(Tag.BaselineExposure, [[int(round(baseline_ev * 100)), 100]])
    t.set(Tag.Software, source.software)
    for name, value in source.tags.items():
        t.set(getattr(Tag, name), value)
    if source.exposure_us > 0:
        f = math.gcd(int(round(source.exposure_us)), 1_000_000)
        t.set(Tag.ExposureTime, [[int(round(source.exposure_us)) // f, 1_000_000 // f]])
    if source.iso:
        t.set(Tag.PhotographicSensitivity, [int(source.iso)])
    conv = RAW2DNG()
    conv.options(t, path="", compress=False)
    return bytes(conv.convert(np.ascontiguousarray(merged.raw), filename=""))
