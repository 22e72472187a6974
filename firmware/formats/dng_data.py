"""The raw image data of a DNG: uncompressed, or lossless JPEG tiles as cameras and Adobe's converter write.

Lossless JPEG (DNG compression 7, ITU T.81 process 14, predictor 1) is the one lossless scheme every raw
reader decodes: LibRaw, dcraw, RawTherapee, darktable (rawspeed) and the DNG SDK. Each 512 x 512 tile is
encoded as a two-component image half as wide (the CFA row's two colours as two components), so the
predictor takes each photosite from its same-colour neighbour two columns left - the layout the DNG SDK
writes, and the one rawspeed, LibRaw and dcraw unfold by filling the tile row by row. libjpeg-turbo does the
entropy coding (through imagecodecs); edge tiles are padded by repeating the last row and column.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import CameradError

COMPRESSIONS = ("none", "ljpeg")
TILE = 512
_POOL = ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1), thread_name_prefix="camerad-ljpeg")


class CompressionUnavailable(CameradError, RuntimeError):
    """The configured DNG compression cannot run here (its codec library is missing)."""


@dataclass(frozen=True)
class RawData:
    segments: list[bytes]
    compression: int  # TIFF Compression: 1 none, 7 JPEG
    tiles: bool
    tile_size: int = 0


def _encoder():
    try:
        import imagecodecs
    except ImportError as exc:
        raise CompressionUnavailable(f"lossless DNG needs imagecodecs ({exc}); set [capture] "
                                     f"dng_compression = \"none\" or install it") from None
    return imagecodecs.jpeg8_encode


def _tiles(raw: np.ndarray, size: int) -> list[np.ndarray]:
    h, w = raw.shape
    padded = np.pad(raw, ((0, -h % size), (0, -w % size)), mode="edge")
    return [padded[y:y + size, x:x + size] for y in range(0, padded.shape[0], size)
            for x in range(0, padded.shape[1], size)]


def ljpeg_tile(tile: np.ndarray, bits: int) -> bytes:
    """One tile as lossless JPEG: (rows, cols / 2, 2 components), predictor 1, ``bits`` of precision."""
    encode = _encoder()
    rows, cols = tile.shape
    return encode(np.ascontiguousarray(tile).reshape(rows, cols // 2, 2), lossless=True, predictor=1,
                  bitspersample=bits, colorspace="unknown")


def encode_raw(raw: np.ndarray, compression: str = "none", bits: int = 16) -> RawData:
    """``raw`` (h, w) uint16 as DNG image data; ``bits`` is the lossless JPEG precision (the sensor's depth
    suffices; values must fit it)."""
    if compression not in COMPRESSIONS:
        raise ValueError(f"DNG compression {compression!r}: must be one of {', '.join(COMPRESSIONS)}")
    if compression == "none":
        return RawData([np.ascontiguousarray(raw, dtype="<u2").tobytes()], compression=1, tiles=False)
    _encoder()  # fail once, in one line, before any work
    bits = max(2, min(16, int(bits)))
    segments = list(_POOL.map(lambda t: ljpeg_tile(t, bits), _tiles(raw, TILE)))
    return RawData(segments, compression=7, tiles=True, tile_size=TILE)
