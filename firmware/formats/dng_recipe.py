"""The development recipe a capture was made with, stored in its files and read back.

The camera's JPEG is one development of the raw frame: a tuning (named, and pinned by a content digest), a
look, a raw denoiser (mode and the runtime that ran it), a demosaic method, and the frame's own facts the ISP
keyed on - colour temperature, white-balance gains, scene lux, the sensor mode's crop. The DNG carries that
recipe in ``DNGPrivateData`` (``camerad\\0`` then JSON; DNG keeps private data across edits and copies) and
an XMP packet, the sidecar carries it under ``capture.recipe``; ``camtune develop`` reads it back
(``read_recipe``) so that developing a camera DNG with no options reproduces the camera's JPEG.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Mapping
from xml.sax.saxutils import escape

PRIVATE_MAGIC = b"camerad\0"
DNG_PRIVATE_DATA = 50740
VERSION = 1
XMP_NS = "http://ns.camerad.dev/recipe/1.0/"


@dataclass(frozen=True)
class CaptureRecipe:
    """How the camera developed a frame (what ``camtune develop`` needs to do it again)."""

    tuning: str  # file name, e.g. imx477.json
    tuning_digest: str  # formats.dng_profile.tuning_digest of the base tuning
    target: str  # bcm2835 (vc4) or pisp
    look: str | None
    denoise: str  # off, fast, hq
    denoise_runtime: str | None  # what ran the denoiser (e.g. ai_edge_litert), None when off
    demosaic: str
    colour_temperature: float
    colour_gains: tuple[float, float] | None
    lux: float
    crop: tuple[float, float, float, float] | None = None
    version: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> "CaptureRecipe":
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in doc.items() if k in known}
        for key in ("colour_gains", "crop"):
            if data.get(key) is not None:
                data[key] = tuple(float(v) for v in data[key])
        data["colour_temperature"] = float(data["colour_temperature"])
        data["lux"] = float(data["lux"])
        return cls(**data)


def encode_private_data(recipe: CaptureRecipe) -> bytes:
    return PRIVATE_MAGIC + json.dumps(recipe.to_dict(), sort_keys=True, allow_nan=False).encode("utf-8")


def decode_private_data(data: bytes | None) -> CaptureRecipe | None:
    """The recipe in a ``DNGPrivateData`` value, or None when it is someone else's or damaged."""
    if not data or not bytes(data).startswith(PRIVATE_MAGIC):
        return None
    try:
        return CaptureRecipe.from_dict(json.loads(bytes(data)[len(PRIVATE_MAGIC):].decode("utf-8")))
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None


def read_recipe(source: str | Path | Mapping[int, Any]) -> CaptureRecipe | None:
    """The recipe stored in a DNG: from a path, or from IFD0's tags as tifffile gives them (code -> tag or
    value). None for a DNG from anywhere else (or one whose private data is not ours)."""
    if isinstance(source, Mapping):
        tag = source.get(DNG_PRIVATE_DATA)
        return decode_private_data(getattr(tag, "value", tag))
    import tifffile

    try:
        with tifffile.TiffFile(str(source)) as tif:
            tag = tif.pages[0].tags.get(DNG_PRIVATE_DATA)
            return decode_private_data(tag.value if tag is not None else None)
    except (OSError, ValueError, tifffile.TiffFileError):
        return None


def xmp_packet(recipe: CaptureRecipe, creator: str) -> bytes:
    """An XMP packet naming the look and the tuning (for photo managers; the full recipe is in the DNG)."""
    items = {"Look": recipe.look or "", "Tuning": recipe.tuning, "TuningDigest": recipe.tuning_digest,
             "Denoise": recipe.denoise, "Demosaic": recipe.demosaic,
             "ColourTemperature": f"{recipe.colour_temperature:.0f}"}
    props = "".join(f"   <camerad:{k}>{escape(str(v))}</camerad:{k}>\n" for k, v in items.items())
    text = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            f'  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
            f'    xmlns:camerad="{XMP_NS}">\n'
            f'   <xmp:CreatorTool>{escape(creator)}</xmp:CreatorTool>\n'
            f'{props}'
            '  </rdf:Description>\n'
            ' </rdf:RDF>\n'
            '</x:xmpmeta>\n'
            '<?xpacket end="w"?>')
    return text.encode("utf-8")


def capture_recipe(tuning, *, look: str | None, pipeline, metadata: Mapping[str, Any],
                   crop: tuple[float, float, float, float] | None = None) -> CaptureRecipe:
    """The recipe of a capture developed by ``pipeline`` (an ``isp.Pipeline``) from ``tuning`` (the base)
    with ``look``: its denoiser (mode and runtime) and demosaic method read from the pipeline's stages, the
    colour temperature and lux the ISP keyed on from the frame's metadata."""
    from .dng_opcodes import shot_ct
    from .dng_profile import tuning_digest, tuning_name

    stages = {getattr(s, "name", ""): s for s in getattr(pipeline, "stages", ())}
    den = getattr(stages.get("denoise"), "denoiser", None)
    runtime = None if den is None else (getattr(den, "runtime_name", None) or "classical non-local means")
    gains = metadata.get("ColourGains")
    gains = (float(gains[0]), float(gains[1])) if gains else None
    return CaptureRecipe(tuning=tuning_name(tuning), tuning_digest=tuning_digest(tuning), target=tuning.target,
                         look=look, denoise=str(getattr(den, "mode", "off")) if den is not None else "off",
                         denoise_runtime=runtime, demosaic=str(getattr(stages.get("demosaic"), "method", "hq")),
                         colour_temperature=round(shot_ct(tuning, metadata.get("ColourTemperature"), gains), 1),
                         colour_gains=gains, lux=float(metadata.get("Lux", 400.0)),
                         crop=tuple(float(v) for v in crop) if crop else None)


def develop_choices(stored: CaptureRecipe | None, *, look: str | None, denoise: str | None,
                    demosaic: str | None) -> tuple[str | None, str, str]:
    """(look, denoise, demosaic) for developing a DNG: what the user asked, else what the camera used (the
    stored recipe), else the base tuning, no denoising and the hq demosaic."""
    if stored is None:
        return look, denoise or "off", demosaic or "hq"
    return (look if look is not None else stored.look, denoise or stored.denoise, demosaic or stored.demosaic)


def frame_as_shot(frame, stored: CaptureRecipe | None):
    """``frame`` (an ``isp.FrameInfo`` read from the DNG) with the facts the camera's ISP keyed on: the colour
    temperature AWB reported, the metered lux and the sensor mode's crop (the DNG's tags hold only gains)."""
    if stored is None:
        return frame
    import dataclasses

    return dataclasses.replace(frame, colour_temperature=stored.colour_temperature, lux=stored.lux,
                               crop=stored.crop)
