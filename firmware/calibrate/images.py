"""Calibration captures: find the DNGs the way the Raspberry Pi tuning tool names them, and read them.

Names (case-insensitive, in the directory's top level):

* ``alsc_3000k_0.dng`` - a flat field (diffuser over the lens) at 3000 K: the name contains ``alsc`` and the
  colour temperature;
* ``<anything>_5000k_1000l.dng`` - a ColorChecker at 5000 K and 1000 lux;
* ``dark_0.dng`` - a dark frame (lens capped).

A ColorChecker capture may have a patch file beside it (``<same name>.json``, as ``camtune mock`` writes);
otherwise the chart is found in the picture.

Every file is read by ``formats.dng_read`` - the reader ``camtune develop`` uses - so calibration takes every
DNG a develop takes (picamera2's packed 10/12-bit files, the Raspberry Pi tuning tool's own input;
rpicam-still's SubIFD layout; tiles, lossless JPEG, ActiveArea, opcode lists), and sees the same samples.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import TuningError
from ..pi_cameras import SENSORS, sensor_names

_ALSC = re.compile(r"alsc.*?(\d+)k", re.IGNORECASE)
_MACBETH = re.compile(r"_(\d+)k_(\d+)l$", re.IGNORECASE)
_DARK = re.compile(r"^dark(_\d+)?$", re.IGNORECASE)
CFA_INDEX = {"R": 0, "G": 1, "B": 2}


@dataclass(frozen=True)
class PatchRect:
    """A ColorChecker patch's sampling rectangle in the capture's pixel coordinates."""

    index: int
    x: int
    y: int
    width: int
    height: int

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2.0, self.y + self.height / 2.0


@dataclass
class Capture:
    """One DNG: what kind of calibration shot it is, how it was exposed, and (on demand) its pixels."""

    path: Path
    kind: str  # alsc | macbeth | dark
    ct: float | None = None
    lux: float | None = None
    width: int = 0
    height: int = 0
    cfa: str = "RGGB"
    black: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # per CFA site, in DN
    white: int = 0
    exposure_us: float | None = None
    gain: float | None = None
    model: str = ""
    patches: list[PatchRect] | None = None
    _planes: dict | None = field(default=None, repr=False)

    @property
    def bit_depth(self) -> int:
        return max(1, int(self.white).bit_length())

    @property
    def scale16(self) -> float:
        """Factor from this capture's DN to libcamera's 16-bit scale."""
        return float(2 ** (16 - self.bit_depth))

    def sites(self) -> dict[str, int]:
        """Plane name (``R``, ``Gr``, ``Gb``, ``B``) -> its CFA site index (0..3, row-major in the 2x2 block)."""
        out: dict[str, int] = {}
        for i, c in enumerate(self.cfa):
            out[c if c != "G" else ("Gr" if "Gr" not in out else "Gb")] = i
        return out

    def planes(self) -> dict[str, np.ndarray]:
        """Black-subtracted float32 planes ``R``, ``Gr``, ``Gb``, ``B`` (half resolution each)."""
        if self._planes is None:
            raw = read_raw(self.path)
            if raw.shape != (self.height, self.width):
                raise TuningError(f"{self.path}: raw data is {raw.shape}, tags say {self.height}x{self.width}")
            self._planes = {name: raw[i // 2::2, i % 2::2].astype(np.float32) - np.float32(self.black[i])
                            for name, i in self.sites().items()}
        return self._planes

    def release(self) -> None:
        self._planes = None


def classify(path: Path) -> tuple[str, float | None, float | None] | None:
    """(kind, ct, lux) from a file name, or None when the name is not a calibration capture."""
    stem = path.stem
    if _DARK.match(stem):
        return "dark", None, None
    m = _ALSC.search(stem)
    if m and stem.lower().startswith("alsc"):
        return "alsc", float(m.group(1)), None
    m = _MACBETH.search(stem)
    if m:
        return "macbeth", float(m.group(1)), float(m.group(2))
    return None


def _read(path: Path):
    from ..formats.dng_read import DngError, read_dng

    try:
        return read_dng(path)
    except DngError as exc:
        raise TuningError(f"cannot read DNG: {exc}") from None


def read_capture(path: Path, kind: str, ct: float | None, lux: float | None) -> Capture:
    """The capture's metadata (the pixels are read again, on demand, by ``planes()``)."""
    dng = _read(path)
    h, w = dng.raw.shape
    cap = Capture(path=path, kind=kind, ct=ct, lux=lux, width=w, height=h, cfa=dng.cfa,
                  black=tuple(float(b) for b in dng.black_levels), white=int(dng.white_level),
                  exposure_us=float(dng.exposure_us) if dng.exposure_us else None,
                  gain=dng.iso / 100.0 if dng.iso else None, model=dng.unique_model or dng.model)
    side = path.with_suffix(".json")
    if kind == "macbeth" and side.is_file():
        cap.patches = read_patch_file(side)
    return cap


def read_raw(path: Path) -> np.ndarray:
    """The CFA samples as the ISP takes them (after the DNG's own processing)."""
    return _read(path).raw


def read_patch_file(path: Path) -> list[PatchRect]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [PatchRect(int(p["index"]), int(p["x"]), int(p["y"]), int(p["width"]), int(p["height"]))
                for p in doc["patches"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TuningError(f"{path}: not a patch file ({exc})") from None


def scan(directory: Path) -> tuple[list[Capture], list[str]]:
    """Every calibration capture in ``directory`` (sorted by kind and CT) and notes on files skipped."""
    if not directory.is_dir():
        raise TuningError(f"{directory}: not a directory of calibration DNGs")
    caps, notes = [], []
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() != ".dng":
            continue
        what = classify(path)
        if what is None:
            notes.append(f"{path.name}: name does not say what it is (alsc_<ct>k_<n>, <name>_<ct>k_<lux>l, "
                         "dark_<n>): skipped")
            continue
        caps.append(read_capture(path, *what))
    caps.sort(key=lambda c: (c.kind, c.ct or 0, c.path.name))
    return caps, notes


def mode_factor(cap: Capture) -> tuple[int, str | None]:
    """libcamera's mode (binning) factor of a capture, from the sensor's full width; and a note if unsure."""
    name = next((n for n in sensor_names(cap.model) if n in SENSORS), "")
    sensor = SENSORS.get(name)
    if sensor is None:
        return 1, f"{cap.path.name}: unknown sensor {cap.model!r}: assuming a full-resolution readout"
    full = sensor.pixel_array[0]
    ratio = full / cap.width
    n = max(1, round(ratio))
    if abs(ratio - n) > 0.02:
        return n, f"{cap.path.name}: {cap.width} px wide is a crop of {name} ({full} px): calibrate on " \
                  "full-field-of-view captures"
    return n, None
