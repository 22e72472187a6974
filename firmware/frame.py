"""What is known about one raw frame, derived once from its metadata (or a DNG's tags): the ground floor.

``FrameInfo`` is what the ISP stages, the denoiser and the file writers read about a frame: CFA order, white
level, black level per CFA site, white balance, exposure, the noise profile, the crop. Every consumer takes it
from here, so the black-level mapping from libcamera's ``SensorBlackLevels`` (R, Gr, Gb, B on the 16-bit scale)
to the sites of a CFA, the ISO speed and the noise profile are each worked out in one place.

>>> md = {"SensorBlackLevels": (4096, 4000, 4010, 4100), "AnalogueGain": 2.0, "ColourGains": (1.9, 1.6)}
>>> f = FrameInfo.from_metadata(md, "GRBG", 12)
>>> f.black_levels, f.white_level, iso_speed(md)
((250.0, 256.0, 256.25, 250.625), 4095, 200)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

CFA_ORDERS = ("RGGB", "BGGR", "GRBG", "GBRG")


@dataclass(frozen=True)
class NoiseProfile:
    """The noise level of a frame in DNG's ``NoiseProfile`` form, the one every consumer uses.

    variance(x) = S * x + O for the black-subtracted signal x normalised to 0..1 (white level = 1). The DNG
    writer stores it, the denoiser conditions on it; it comes from a DNG's tag or from the tuning's
    ``rpi.noise`` (``from_std``).
    """

    shot: float  # S: variance per unit of signal (Poisson part)
    read: float  # O: variance at zero signal (read noise floor)

    def variance(self, x):
        return self.shot * x + self.read

    @classmethod
    def from_std(cls, constant: float, slope: float, gain: float, black16: float, white16: float,
                 mode_factor: float = 1.0) -> "NoiseProfile":
        """From libcamera's ``rpi.noise`` form: std = constant + slope * sqrt(level) on the 16-bit scale at gain 1.

        libcamera scales the profile's std by sqrt(gain) / mode factor (2 for 2x2 binning); squaring the std
        form and dropping its cross term gives the variance form.
        """
        span = white16 - black16
        k = gain / mode_factor**2
        return cls(slope**2 * k / span, constant**2 * k / span**2)


def check_cfa(cfa: str) -> str:
    if cfa not in CFA_ORDERS:
        raise ValueError(f"unknown CFA order {cfa!r} (expected one of {', '.join(CFA_ORDERS)})")
    return cfa


def site_black_levels(metadata: Mapping[str, Any], cfa: str) -> tuple[float, float, float, float] | None:
    """``SensorBlackLevels`` (R, Gr, Gb, B) rearranged into the CFA's site order, still on the 16-bit scale."""
    bl = metadata.get("SensorBlackLevels")
    if bl is None:
        return None
    by_colour = {"R": bl[0], "B": bl[3]}
    greens = [bl[1], bl[2]]
    return tuple(by_colour[ch] if ch in by_colour else greens.pop(0) for ch in check_cfa(cfa))


def black_level_16(metadata: Mapping[str, Any]) -> float:
    """The mean black level on the 16-bit scale (0 when the metadata has none)."""
    return float(sum(metadata.get("SensorBlackLevels", (0,) * 4)) / 4)


def white_level_16(bit_depth: int) -> float:
    """The white level of ``bit_depth``-bit data on libcamera's 16-bit scale."""
    return float(((1 << bit_depth) - 1) << (16 - bit_depth))


def iso_speed(metadata: Mapping[str, Any]) -> int:
    """ISO speed as libcamera's apps report it: 100 x analogue x digital gain."""
    return int(round(float(metadata.get("AnalogueGain", 1.0)) * float(metadata.get("DigitalGain", 1.0)) * 100))


def gain_for_iso(iso: float) -> float:
    """The analogue gain an ISO speed stands for (ISO 100 = gain 1; unknown or lower speeds count as 100)."""
    return max(float(iso or 0), 100.0) / 100.0


def crop_fractions(crop: tuple[int, int, int, int], pixel_array: tuple[int, int]) -> tuple[float, float, float, float]:
    """A mode's crop (x, y, width, height in array pixels) as fractions (x0, y0, x1, y1) of the pixel array."""
    x, y, w, h = crop
    aw, ah = pixel_array
    return x / aw, y / ah, (x + w) / aw, (y + h) / ah


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
        scale = 2 ** (16 - bit_depth)
        sites = site_black_levels(metadata, cfa)
        black = tuple(v / scale for v in sites) if sites is not None else (0.0,) * 4
        gains = metadata.get("ColourGains")
        return cls(cfa=cfa, white_level=(1 << bit_depth) - 1, black_levels=black,
                   colour_gains=tuple(gains) if gains else None,
                   colour_temperature=metadata.get("ColourTemperature"), lux=float(metadata.get("Lux", 400.0)),
                   analogue_gain=float(metadata.get("AnalogueGain", 1.0)),
                   exposure_us=int(metadata.get("ExposureTime", 10_000)), noise=noise, crop=crop)
