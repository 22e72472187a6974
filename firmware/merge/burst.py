"""The inputs and output of a merge: burst frames with their levels, noise and exposure, and the merged raw.

A ``BurstFrame`` is one raw Bayer frame as the sensor (or a DNG) gave it; frames of a burst share size and
CFA but may differ in exposure (an AEB bracket, or HDR+-with-bracketing's long frames), black level and noise.
Everything inside the merge is normalised to the *reference* frame's scale: 0 at black, 1 at the reference's
white, a longer frame divided by its exposure ratio.

The ``MergedRaw`` is again a Bayer frame, on libcamera's 16-bit scale (black 4096, white 65535): 16 times the
precision of a 12-bit sensor, which a merge of many frames needs in the shadows. Its ``noise`` is the merged
frame's own profile (variance = S x + O on the normalised signal), for the denoiser and the DNG.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from ..frame import FrameInfo
from ..frame import NoiseProfile

MERGED_BLACK = 4096
MERGED_WHITE = 65535


@dataclass(frozen=True)
class BurstFrame:
    raw: np.ndarray  # (h, w) uint16 Bayer, black level included
    black_levels: tuple[float, float, float, float]  # per CFA site, in raw units
    white_level: int
    noise: NoiseProfile  # on this frame's normalised signal (0 = black, 1 = white)
    exposure: float  # relative light gathered: exposure time x analogue x digital gain

    @classmethod
    def from_metadata(cls, raw: np.ndarray, metadata: Mapping[str, Any], info: FrameInfo) -> "BurstFrame":
        """From a frame's libcamera metadata and its ``FrameInfo`` (levels and noise profile)."""
        if info.noise is None:
            raise ValueError("a burst frame needs a noise profile (the tuning's rpi.noise or the DNG's)")
        exposure = (float(metadata.get("ExposureTime", info.exposure_us)) * float(metadata.get("AnalogueGain", 1.0))
                    * float(metadata.get("DigitalGain", 1.0)))
        return cls(raw, tuple(info.black_levels), info.white_level, info.noise, exposure)

    @property
    def span(self) -> np.ndarray:
        """White minus black per site (4,)."""
        return self.white_level - np.asarray(self.black_levels, dtype=np.float32)

    def luma(self, ratio: float = 1.0) -> np.ndarray:
        """The 2x2-binned luma (h/2, w/2) float32: mean of the quad's normalised sites, divided by ``ratio``."""
        h, w = self.raw.shape
        out = np.zeros((h // 2, w // 2), np.float32)
        for i in range(4):
            sy, sx = divmod(i, 2)
            site = self.raw[sy::2, sx::2].astype(np.float32)
            site -= np.float32(self.black_levels[i])
            site *= np.float32(0.25 / self.span[i] / ratio)
            out += site
        return out


@dataclass(frozen=True)
class FrameReport:
    """How one frame of the burst was used (the sidecar records these)."""

    index: int
    exposure: float
    motion_px: float  # global displacement from the reference, Bayer-plane pixels
    residual: float  # median alignment residual (1 = frames agree to within noise)
    merged: float  # mean share of the frame's tiles that went into the result (0..1; reference 1)


@dataclass(frozen=True)
class MergedRaw:
    raw: np.ndarray  # (h, w) uint16, black MERGED_BLACK, white MERGED_WHITE
    noise: NoiseProfile  # of the merged frame, normalised signal
    reference: int
    exposure: float  # the reference's exposure: the scale of the merged signal
    frames: tuple[FrameReport, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)

    black_levels = (float(MERGED_BLACK),) * 4
    white_level = MERGED_WHITE

    @property
    def frames_merged(self) -> float:
        """Effective number of frames in the result (sum of each frame's merged share)."""
        return float(sum(f.merged for f in self.frames))

    def frame_info(self, like: FrameInfo) -> FrameInfo:
        """``like`` (the reference frame's facts) with the merged frame's levels and noise profile."""
        return replace(like, white_level=MERGED_WHITE, black_levels=self.black_levels, noise=self.noise)

    def sidecar(self) -> dict:
        """What a capture's sidecar records about the merge."""
        return {"reference": self.reference, "frames_merged": round(self.frames_merged, 2),
                "noise_profile": [self.noise.shot, self.noise.read],
                "frames": [{"index": f.index, "exposure": round(f.exposure, 1), "motion_px": round(f.motion_px, 2),
                            "residual": round(f.residual, 3), "merged": round(f.merged, 3)} for f in self.frames]}


def check_burst(frames) -> None:
    """``ValueError`` naming what makes ``frames`` unmergeable (count, shape, dtype, levels, exposure)."""
    if len(frames) < 2:
        raise ValueError(f"a merge needs at least 2 frames, got {len(frames)}")
    shape = frames[0].raw.shape
    for i, f in enumerate(frames):
        if f.raw.ndim != 2 or f.raw.dtype != np.uint16:
            raise ValueError(f"frame {i}: needs a 2-D uint16 Bayer frame, got {f.raw.dtype} {f.raw.shape}")
        if f.raw.shape != shape:
            raise ValueError(f"frame {i}: size {f.raw.shape[1]}x{f.raw.shape[0]} differs from frame 0's "
                             f"{shape[1]}x{shape[0]}")
        if shape[0] % 2 or shape[1] % 2 or min(shape) < 64:
            raise ValueError(f"frame {i}: {shape[1]}x{shape[0]} is not an even-sized Bayer frame of 64x64 or more")
        if not f.exposure > 0:
            raise ValueError(f"frame {i}: exposure must be positive, got {f.exposure!r}")
        if min(f.span) <= 0:
            raise ValueError(f"frame {i}: white level {f.white_level} is not above the black level")
