"""The simulated sensors behind the fake bindings: what ``CameraManager.cameras`` enumerates, and the faults
tests can inject (``freeze``: frames stop without an error; ``disconnect``: the device is gone)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SimSensor:
    model: str = "imx577"
    pixel_array: tuple[int, int] = (4056, 3040)
    cfa: int = 0  # properties.draft.ColorFilterArrangement: 0 RGGB
    black_level: int = 64  # at 10 bits
    bit_depth: int = 10
    # pixel format -> [(width, height, max fps)]
    modes: dict[str, list[tuple[int, int, float]]] = field(default_factory=lambda: {
        "SRGGB10_CSI2P": [(4056, 3040, 30.0), (2028, 1520, 60.0)],
        "SRGGB10": [(4056, 3040, 30.0), (2028, 1520, 60.0)],
    })
    frozen: bool = False
    disconnected: bool = False
    frames_completed: int = 0

    def pattern(self, width: int, height: int, sequence: int) -> np.ndarray:
        """A raw frame at ``bit_depth``: a gradient over black, different each frame, right-aligned."""
        white = (1 << self.bit_depth) - 1
        x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
        y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
        level = self.black_level + (0.2 + 0.6 * x * y + 0.01 * (sequence % 7)) * (white - self.black_level)
        return np.clip(level, 0, white).astype(np.uint16)


CAMERAS: list[SimSensor] = [SimSensor()]


def install(*sensors: SimSensor) -> list[SimSensor]:
    """Replace the simulated cameras (a new CameraManager sees these)."""
    CAMERAS[:] = list(sensors)
    return CAMERAS


def bits_of(fmt: str) -> int:
    digits = "".join(ch for ch in fmt.split("_")[0] if ch.isdigit())
    return int(digits)


def encode(frame: np.ndarray, fmt: str, stride: int, bit_depth: int) -> bytes:
    """Lay out ``frame`` (right-aligned values) as ``fmt`` does in memory, rows padded to ``stride`` bytes."""
    h, w = frame.shape
    bits = bits_of(fmt)
    if fmt.endswith("_CSI2P"):
        v = frame.astype(np.uint16) >> max(0, bit_depth - bits) if bit_depth > bits else frame.astype(np.uint16)
        if bits == 10:
            g = v.reshape(h, w // 4, 4)
            out = np.empty((h, w // 4, 5), np.uint8)
            out[..., :4] = (g >> 2).astype(np.uint8)
            out[..., 4] = ((g[..., 0] & 3) | ((g[..., 1] & 3) << 2) | ((g[..., 2] & 3) << 4) | ((g[..., 3] & 3) << 6))
        elif bits == 12:
            g = v.reshape(h, w // 2, 2)
            out = np.empty((h, w // 2, 3), np.uint8)
            out[..., :2] = (g >> 4).astype(np.uint8)
            out[..., 2] = (g[..., 0] & 15) | ((g[..., 1] & 15) << 4)
        else:
            raise ValueError(f"no packing for {fmt}")
        rows = out.reshape(h, -1)
    else:
        v = frame.astype(np.uint16)
        if bits == 16:
            v = v << (16 - bit_depth)  # 16-bit containers from a deeper pipeline are left-aligned
        rows = v.view(np.uint8).reshape(h, w * 2)
    padded = np.zeros((h, stride), np.uint8)
    padded[:, :rows.shape[1]] = rows
    return padded.tobytes()


def stride_of(fmt: str, width: int) -> int:
    bits = bits_of(fmt)
    row = width * bits // 8 if fmt.endswith("_CSI2P") else width * 2
    return (row + 31) // 32 * 32  # CSI-2 receivers align lines to 32 bytes
