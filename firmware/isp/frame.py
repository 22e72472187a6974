"""What the ISP needs to know about one frame, gathered from its metadata (or a DNG's tags)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .noise import NoiseProfile


@dataclass(frozen=True)
class FrameInfo:
    """Per-frame facts, immutable: stages read them, none writes them.

    ``black_levels`` are per CFA site in the order of the 2x2 block (top-left, top-right, bottom-left,
    bottom-right), in the raw data's own units.
    """

    cfa: str
    white_level: int
    black_levels: tuple[float, float, float, float]
    colour_gains: tuple[float, float] | None = None
    colour_temperature: float | None = None
    lux: float = 400.0
    analogue_gain: float = 1.0
    exposure_us: int = 10_000
    # The frame's noise on the normalised black-subtracted signal (DNG NoiseProfile form), if known.
    noise: NoiseProfile | None = None
    # The part of the pixel array this frame shows, as fractions (x0, y0, x1, y1); None = all of it.
    crop: tuple[float, float, float, float] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any], cfa: str, bit_depth: int,
                      noise: NoiseProfile | None = None,
                      crop: tuple[float, float, float, float] | None = None) -> "FrameInfo":
        """Build from libcamera metadata; ``SensorBlackLevels`` are on the 16-bit scale (R, Gr, Gb, B).

        ``crop``: the sensor mode's field of view as fractions of the pixel array (x0, y0, x1, y1), so lens
        shading uses the right part of its grid; see ``crop_fractions``.
        """
        shift = 16 - bit_depth
        bl = metadata.get("SensorBlackLevels")
        if bl is not None:
            by_colour = {"R": bl[0] / 2**shift, "B": bl[3] / 2**shift}
            greens = [bl[1] / 2**shift, bl[2] / 2**shift]
            sites = []
            for ch in cfa:
                sites.append(by_colour[ch] if ch in by_colour else greens.pop(0))
            black = tuple(sites)
        else:
            black = (0.0,) * 4
        gains = metadata.get("ColourGains")
        return cls(cfa=cfa, white_level=(1 << bit_depth) - 1, black_levels=black,
                   colour_gains=tuple(gains) if gains else None,
                   colour_temperature=metadata.get("ColourTemperature"), lux=float(metadata.get("Lux", 400.0)),
                   analogue_gain=float(metadata.get("AnalogueGain", 1.0)),
                   exposure_us=int(metadata.get("ExposureTime", 10_000)), noise=noise, crop=crop)


def crop_fractions(crop: tuple[int, int, int, int], pixel_array: tuple[int, int]) -> tuple[float, float, float, float]:
    """A mode's crop (x, y, width, height in array pixels) as fractions (x0, y0, x1, y1) of the pixel array."""
    x, y, w, h = crop
    aw, ah = pixel_array
    return x / aw, y / ah, (x + w) / aw, (y + h) / ah
