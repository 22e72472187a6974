"""The TFLite raw denoiser: packed Bayer, noise-stabilised, run in seamless tiles on the chosen runtime."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from firmware.frame import check_cfa
from firmware.frame import FrameInfo

from . import conditioning, runtime
from .tiling import Tiling

log = logging.getLogger(__name__)


def rggb_order(cfa: str) -> list[int]:
    """Packed-channel indices (sites in raster order) that give R, Gr, Gb, B for this CFA order."""
    check_cfa(cfa)
    greens = [i for i, c in enumerate(cfa) if c == "G"]
    return [cfa.index("R"), greens[0], greens[1], cfa.index("B")]


def pack(bayer: np.ndarray, cfa: str, out: np.ndarray | None = None) -> np.ndarray:
    """(h, w) Bayer → (h/2, w/2, 4) with channels in RGGB order, whatever the sensor's CFA (into ``out``)."""
    h, w = bayer.shape
    if h % 2 or w % 2:
        raise ValueError(f"Bayer frames need even dimensions, got {w}x{h}")
    if out is None:
        out = np.empty((h // 2, w // 2, 4), np.float32)
    for k, site in enumerate(rggb_order(cfa)):  # one strided copy per site: 3-4x faster than a transpose
        out[..., k] = bayer[site // 2::2, site % 2::2]
    return out


def unpack_into(bayer: np.ndarray, packed: np.ndarray, cfa: str, row: int = 0, col: int = 0) -> None:
    """Write packed (h, w, 4) RGGB values into ``bayer`` from packed position (row, col) on."""
    hh, ww, _ = packed.shape
    for k, site in enumerate(rggb_order(cfa)):
        dy, dx = divmod(site, 2)
        bayer[2 * row + dy:2 * (row + hh):2, 2 * col + dx:2 * (col + ww):2] = packed[..., k]


def unpack(packed: np.ndarray, cfa: str) -> np.ndarray:
    hh, ww, _ = packed.shape
    out = np.empty((hh * 2, ww * 2), np.float32)
    unpack_into(out, packed, cfa)
    return out


def read_meta(path: Path) -> dict:
    try:
        meta = json.loads(Path(path).read_text())
        for key in ("tile", "margin", "align", "input_scale", "float", "int8"):
            meta[key]  # noqa: B018 - presence check
        banks = [(float(b["input_max"]), str(b["file"])) for b in meta["int8"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise runtime.ModelError(f"{path}: not a denoiser model description ({exc})") from exc
    if not banks or [m for m, _ in banks] != sorted(m for m, _ in banks):
        raise runtime.ModelError(f"{path}: int8 banks must be listed by rising input_max")
    if abs(float(meta["input_scale"]) - conditioning.INPUT_SCALE) > 1e-12:
        raise runtime.ModelError(f"{path}: input_scale {meta['input_scale']} differs from the firmware's "
                                 f"{conditioning.INPUT_SCALE}")
    return meta


def int8_banks(meta: dict, directory: Path) -> list[tuple[float, Path]]:
    """(input range's top, file) of each int8 range bank the metadata lists, by rising range."""
    return [(float(b["input_max"]), Path(directory) / b["file"]) for b in meta["int8"]]


class _Net:
    """One interpreter, resized to one input shape and fed in place: tiles never pass through extra copies.

    ``release`` frees the interpreter (its tensors take ~30 MB at a 192² tile, ~190 MB at 528²); the next ``resize`` loads it
    again. An injected interpreter (a fake) is kept.
    """

    def __init__(self, path: Path, threads: int, interpreter=None):
        self.path = Path(path)
        if interpreter is None and not self.path.is_file():
            raise runtime.ModelError(f"{self.path}: model file not found")
        self.threads = threads
        self.injected = interpreter is not None
        self.interpreter = interpreter or runtime.load(self.path, threads)
        self.shape: tuple[int, ...] = ()

    def release(self) -> None:
        if not self.injected and self.interpreter is not None:
            self.interpreter = None
            self.shape = ()

    def resize(self, hw: tuple[int, int]) -> None:
        shape = (1, int(hw[0]), int(hw[1]), 4)
        if shape != self.shape:
            if self.interpreter is None:
                self.interpreter = runtime.load(self.path, self.threads)
            try:
                self.interpreter.resize_tensor_input(self.interpreter.get_input_details()[0]["index"], shape)
                self.interpreter.allocate_tensors()
            except (ValueError, RuntimeError) as exc:
                raise runtime.ModelError(f"{self.path}: cannot run on a {shape} input: {exc}") from exc
            self._in = self.interpreter.get_input_details()[0]["index"]
            self._out = self.interpreter.get_output_details()[0]["index"]
            self.shape = shape

    def invoke(self, z: np.ndarray) -> np.ndarray:
        """The model's output for ``z``: a view into the runtime's buffer, to drop before the next call."""
        self.interpreter.tensor(self._in)()[0] = z
        self.interpreter.invoke()
        return self.interpreter.tensor(self._out)()[0]


class TFLiteDenoiser:
    """A ``firmware.isp.denoise.Denoiser`` running a TFLite model over the frame in tiles.

    ``models`` is one model file, or int8 range banks: (input range's top, file) pairs by rising range, of
    which each frame takes the first that holds its stabilised white level (``conditioning.white_level``),
    else the last. Only one bank holds its tensors at a time: a frame that needs another bank frees the last
    one's and allocates its own (~0.1 s), so frames at a steady gain never wait and memory stays that of
    one model. ``denoise`` conditions on ``frame.noise``; a frame without a noise profile gets one fitted
    from its own pixels (``conditioning.estimate_profile``). ``interpreter`` replaces the runtime (a
    ``FakeInterpreter`` in tests); ``tile`` overrides the model's tile shape.
    """

    def __init__(self, models, meta: dict, *, mode: str, threads: int = 2, interpreter=None,
                 tile: tuple[int, int] | None = None):
        self.mode = mode
        banks = [(float("inf"), Path(models))] if isinstance(models, (str, Path)) else list(models)
        self.tiling = Tiling(tuple(tile or meta["tile"]), int(meta["margin"]), int(meta["align"]))
        t = time.perf_counter()
        self.banks = [(top, _Net(path, threads, interpreter)) for top, path in banks]
        self.banks[0][1].resize(self.tiling.tile)
        self.load_s = time.perf_counter() - t
        self.runtime_name = getattr(self.banks[0][1].interpreter, "runtime_name", "?")
        log.info("denoiser %s: %s on %s, tile %s, margin %d, loaded in %.0f ms", mode,
                 ", ".join(net.path.name for _, net in self.banks), self.runtime_name, self.tiling.tile,
                 self.tiling.margin, self.load_s * 1e3)

    def net_for(self, profile) -> _Net:
        """The bank whose input range holds this profile's white level (the widest if none does)."""
        white = conditioning.white_level(profile)
        net = next((net for top, net in self.banks if white <= top), self.banks[-1][1])
        for _, other in self.banks:
            if other is not net:
                other.release()
        net.resize(self.tiling.tile)
        return net

    def _whole(self, net: _Net, z: np.ndarray) -> np.ndarray:
        """The model over the whole (padded) frame in one pass: the reference tiling must equal."""
        padded = self.tiling.pad(z)
        net.resize(padded.shape[:2])
        try:
            out = net.invoke(padded).copy()
        finally:
            net.resize(self.tiling.tile)
        m = self.tiling.margin
        return out[m:m + z.shape[0], m:m + z.shape[1]]

    def denoise(self, bayer: np.ndarray, frame: FrameInfo, tiled: bool = True) -> np.ndarray:
        h, w = bayer.shape[0] // 2, bayer.shape[1] // 2
        padded, z = self.tiling.empty(h, w, 4)  # packed straight into the padded frame the tiles read
        pack(bayer, frame.cfa, out=z)
        profile = frame.noise or conditioning.estimate_profile(z)
        net = self.net_for(profile)
        conditioning.forward(z, profile, out=z)
        out = np.empty(bayer.shape, np.float32)

        def emit(r0, r1, c0, c1, residual):
            # Each output region once, straight from the runtime's buffer: add, invert, unpack while in cache.
            region = np.add(z[r0:r1, c0:c1], residual)
            unpack_into(out, conditioning.inverse(region, profile, out=region), frame.cfa, r0, c0)

        if tiled:
            self.tiling.fill_margins(padded, h, w)
            self.tiling.run_padded(padded, h, w, net.invoke, emit)
        else:
            emit(0, h, 0, w, self._whole(net, z))
        return out

    def close(self) -> None:
        self.banks = []
