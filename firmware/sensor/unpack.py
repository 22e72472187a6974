"""Raw buffers as libcamera lays them out, turned into (height, width) uint16 right-aligned at the bit depth.

* ``S<cfa><n>`` unpacked: one pixel per 16-bit little-endian word, value in the low ``n`` bits;
* ``S<cfa>16`` from a deeper ISP front end (the Pi 5's CFE): 16-bit words, value left-aligned;
* ``S<cfa>10_CSI2P`` / ``S<cfa>12_CSI2P``: MIPI CSI-2 packing, 4 pixels in 5 bytes / 2 pixels in 3 bytes.

Rows may be padded to ``stride`` bytes. The Pi 5's compressed ``*_PISP_COMP1`` is not decoded here: the
backends ask for an uncompressed format instead.

>>> import numpy as np
>>> unpack(np.array([[1, 2, 3, 4, 0b11100100]], np.uint8), "SRGGB10_CSI2P", 4, 1, 5, 10).tolist()
[[4, 9, 14, 19]]
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import SensorError

_FORMAT = re.compile(r"S(RGGB|GRBG|GBRG|BGGR)(\d+)(_CSI2P)?$")


def parse_format(fmt: str) -> tuple[str, int, bool]:
    """(cfa, bits per sample, packed) of a libcamera Bayer format name."""
    m = _FORMAT.match(fmt)
    if not m:
        raise SensorError(f"raw format {fmt} is not an uncompressed Bayer format this firmware reads "
                          f"(S<cfa><bits>, S<cfa>16 or S<cfa><bits>_CSI2P)")
    return m.group(1), int(m.group(2)), bool(m.group(3))


def unpack(buf: np.ndarray, fmt: str, width: int, height: int, stride: int, bit_depth: int) -> np.ndarray:
    _, bits, packed = parse_format(fmt)
    rows = np.asarray(buf, dtype=np.uint8).reshape(-1)[: stride * height].reshape(height, stride)
    if not packed:
        out = rows[:, : width * 2].copy().view("<u2")
        if bits == 16 and bit_depth < 16:
            out >>= 16 - bit_depth
        return out
    if bits == 10:
        g = rows[:, : width // 4 * 5].reshape(height, width // 4, 5).astype(np.uint16)
        low = g[..., 4]
        out = np.empty((height, width // 4, 4), np.uint16)
        for i in range(4):
            out[..., i] = (g[..., i] << 2) | ((low >> (2 * i)) & 3)
        return out.reshape(height, width)
    if bits == 12:
        g = rows[:, : width // 2 * 3].reshape(height, width // 2, 3).astype(np.uint16)
        out = np.empty((height, width // 2, 2), np.uint16)
        out[..., 0] = (g[..., 0] << 4) | (g[..., 2] & 15)
        out[..., 1] = (g[..., 1] << 4) | (g[..., 2] >> 4)
        return out.reshape(height, width)
    raise SensorError(f"raw format {fmt}: no CSI-2 unpacking for {bits}-bit samples")
