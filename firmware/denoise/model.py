"""The TFLite raw denoiser: packed Bayer, noise-stabilised, run in seamless tiles on the chosen runtime."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from firmware.isp.cfa import check_cfa
from firmware.isp.frame import FrameInfo

from . import conditioning, runtime
from .tiling import Tiling

log = logging.getLogger(__name__)


def rggb_order(cfa: str) -> list[int]:
    """Packed-channel indices (sites in raster order) that give R, Gr, Gb, B for this CFA order."""
    check_cfa(cfa)
    greens = [i for i, c in enumerate(cfa) if c == "G"]
    return [cfa.index("R"), greens[0], greens[1], cfa.index("B")]


def pack(bayer: np.ndarray, cfa: str) -> np.ndarray:
    """(h, w) Bayer → (h/2, w/2, 4) with channels in RGGB order, whatever the sensor's CFA."""
    h, w = bayer.shape
    if h % 2 or w % 2:
        raise ValueError(f"Bayer frames need even dimensions, got {w}x{h}")
    sites = bayer.reshape(h // 2, 2, w // 2, 2).transpose(0, 2, 1, 3).reshape(h // 2, w // 2, 4)
    return np.ascontiguousarray(sites[..., rggb_order(cfa)], dtype=np.float32)


def unpack(packed: np.ndarray, cfa: str) -> np.ndarray:
    hh, ww, _ = packed.shape
    sites = packed[..., np.argsort(rggb_order(cfa))]
    return np.ascontiguousarray(sites.reshape(hh, ww, 2, 2).transpose(0, 2, 1, 3).reshape(hh * 2, ww * 2))


def read_meta(path: Path) -> dict:
    try:
        meta = json.loads(Path(path).read_text())
        for key in ("tile", "margin", "align", "input_scale", "models"):
            meta[key]  # noqa: B018 - presence check
    except (OSError, ValueError, KeyError) as exc:
        raise runtime.ModelError(f"{path}: not a denoiser model description ({exc})") from exc
    if abs(float(meta["input_scale"]) - conditioning.INPUT_SCALE) > 1e-12:
        raise runtime.ModelError(f"{path}: input_scale {meta['input_scale']} differs from the firmware's "
                                 f"{conditioning.INPUT_SCALE}")
    return meta


class TFLiteDenoiser:
    """A ``firmware.isp.denoise.Denoiser`` running a TFLite model over the frame in tiles.

    ``denoise`` conditions on ``frame.noise``; a frame without a noise profile gets one fitted from its own
    pixels (``conditioning.estimate_profile``). ``interpreter`` replaces the runtime (a ``FakeInterpreter``
    in tests); ``tile`` overrides the model's tile shape.
    """

    def __init__(self, model_path: Path, meta: dict, *, mode: str, threads: int = 2, interpreter=None,
                 tile: tuple[int, int] | None = None):
        self.mode = mode
        self.model_path = Path(model_path)
        if interpreter is None and not self.model_path.is_file():
            raise runtime.ModelError(f"{self.model_path}: model file not found")
        self.tiling = Tiling(tuple(tile or meta["tile"]), int(meta["margin"]), int(meta["align"]))
        t = time.perf_counter()
        self.interpreter = interpreter or runtime.load(self.model_path, threads)
        self._in = self.interpreter.get_input_details()[0]
        self._out = self.interpreter.get_output_details()[0]
        self._shape: tuple[int, ...] = ()
        self._resize(self.tiling.tile)
        self.load_s = time.perf_counter() - t
        self.runtime_name = getattr(self.interpreter, "runtime_name", "?")
        log.info("denoiser %s: %s on %s, tile %s, margin %d, loaded in %.0f ms", mode, self.model_path.name,
                 self.runtime_name, self.tiling.tile, self.tiling.margin, self.load_s * 1e3)

    def _resize(self, hw: tuple[int, int]) -> None:
        shape = (1, int(hw[0]), int(hw[1]), 4)
        if shape != self._shape:
            try:
                self.interpreter.resize_tensor_input(self._in["index"], shape)
                self.interpreter.allocate_tensors()
            except (ValueError, RuntimeError) as exc:
                raise runtime.ModelError(f"{self.model_path}: cannot run on a {shape} input: {exc}") from exc
            self._in = self.interpreter.get_input_details()[0]
            self._out = self.interpreter.get_output_details()[0]
            self._shape = shape

    def _invoke(self, z: np.ndarray) -> np.ndarray:
        self.interpreter.set_tensor(self._in["index"], np.ascontiguousarray(z[None], dtype=np.float32))
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._out["index"])[0]

    def residual(self, z: np.ndarray, tiled: bool = True) -> np.ndarray:
        """The model's correction for a stabilised packed frame: in tiles, or in one pass (for checks)."""
        if tiled:
            return self.tiling.run(z, self._invoke)
        padded = self.tiling.pad(z)
        self._resize(padded.shape[:2])
        try:
            out = self._invoke(padded)
        finally:
            self._resize(self.tiling.tile)
        m = self.tiling.margin
        return out[m:m + z.shape[0], m:m + z.shape[1]]

    def denoise(self, bayer: np.ndarray, frame: FrameInfo, tiled: bool = True) -> np.ndarray:
        packed = pack(bayer, frame.cfa)
        profile = frame.noise or conditioning.estimate_profile(packed)
        z = conditioning.forward(packed, profile, out=packed)
        z += self.residual(z, tiled)
        return unpack(conditioning.inverse(z, profile, out=z), frame.cfa)

    def close(self) -> None:
        self.interpreter = None
