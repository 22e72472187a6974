"""The contract every ISP stage states: what it takes, what it gives, and the tuning block it implements.

The pipeline checks at build time that each stage's output is what the next one takes, so a stage order that
cannot work fails when the pipeline is made, not halfway through a capture.

Most stages also say how far they look (``halo``, in rows) so the pipeline can run them on bands of rows, all
stages of a band one after the other while its data is still in cache, on several threads: a stage's work for
one frame is ``prepare`` (per-frame tables, gains, statistics) returning a kernel for any band of that frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable

import numpy as np

from ..frame import FrameInfo


class Kind(Enum):
    BAYER = "bayer"  # one plane, (h, w), in the sensor's CFA order
    RGB = "rgb"  # (h, w, 3), R G B


@dataclass(frozen=True)
class Format:
    kind: Kind
    dtype: type
    lo: float
    hi: float
    # What the values mean: "sensor" (raw DN), "linear" (light), "encoded" (after the tone curve).
    encoding: str

    def check(self, image: np.ndarray, stage: str, side: str) -> None:
        want_ndim = 2 if self.kind is Kind.BAYER else 3
        if image.ndim != want_ndim or (self.kind is Kind.RGB and image.shape[2] != 3):
            raise ValueError(f"{stage}: {side} should be {self.kind.value} {want_ndim}-D, got shape {image.shape}")
        if image.dtype != np.dtype(self.dtype):
            raise ValueError(f"{stage}: {side} should be {np.dtype(self.dtype)}, got {image.dtype}")

    def __str__(self) -> str:
        return f"{self.kind.value}/{np.dtype(self.dtype)}[{self.lo:g},{self.hi:g}]/{self.encoding}"


BAYER_RAW = Format(Kind.BAYER, np.uint16, 0, 65535, "sensor")
BAYER_LINEAR = Format(Kind.BAYER, np.float32, 0.0, 1.0, "linear")
RGB_LINEAR = Format(Kind.RGB, np.float32, 0.0, 1.0, "linear")
# The still path runs in 16-bit fixed point (0..65535 = black..white): OpenCV's saturating integer kernels are
# several times faster than float32 passes, and 16 bits hold a 12-bit sensor with 4 bits to spare after gains.
BAYER_LINEAR16 = Format(Kind.BAYER, np.uint16, 0, 65535, "linear")
RGB_LINEAR16 = Format(Kind.RGB, np.uint16, 0, 65535, "linear")
RGB_ENCODED16 = Format(Kind.RGB, np.uint16, 0, 65535, "encoded")
RGB_ENCODED8 = Format(Kind.RGB, np.uint8, 0, 255, "encoded")


# ``kernel(rows, top)``: a stage's output for ``rows``, the frame's rows from ``top`` on (same rows out as in).
Kernel = Callable[[np.ndarray, int], np.ndarray]


class Stage:
    """One ISP stage. Subclasses set ``name`` (the tuning block), ``input`` and ``output``.

    A stage that can work on bands of rows sets ``halo`` and implements ``prepare``; one that needs whole
    frames (a resize, a neural network with its own tiling) leaves ``halo`` None and implements ``process``.
    """

    name = "stage"
    input: Format = RGB_LINEAR
    output: Format = RGB_LINEAR
    # Rows above and below a band that the stage reads to get the band's own rows exactly as on the whole
    # frame (0: pointwise). None: whole frames only.
    halo: int | None = None
    # Whether the kernel overwrites the rows it is given (then a band of a shared image is copied first).
    in_place = False

    def needs_frame(self, frame: FrameInfo) -> bool:
        """Whether ``prepare`` must see the whole frame at this stage's input (a statistic over it)."""
        return False

    def prepare(self, frame: FrameInfo, shape: tuple[int, ...], image: np.ndarray | None = None) -> Kernel:
        """This frame's work as a kernel for bands of rows; ``shape`` is the whole frame's.

        ``image`` is the whole frame at this stage's input, given when ``needs_frame`` says it is needed.
        """
        raise NotImplementedError(f"{self.name}: works on whole frames only")

    def process(self, image: np.ndarray, frame: FrameInfo) -> np.ndarray:
        """Return the stage's output for a whole frame; may reuse (overwrite) ``image`` if ``in_place``."""
        return self.prepare(frame, image.shape, image)(image, 0)

    def refine(self, image: np.ndarray, frame: FrameInfo) -> FrameInfo:
        """The frame facts later stages should see; a stage that estimates something (AWB) adds it here."""
        return frame

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {self.input} -> {self.output}>"
