"""The samples of a DNG's CFA image: uncompressed data unpacked with numpy, compressed data through tifffile.

* Uncompressed data - 8 or 16-bit, 10/12/14-bit packed (PiDNG writes picamera2's DNGs 10/12-bit packed),
  32 or 16-bit float - in tiles or strips, either byte order: each segment is read from the file and
  unpacked here, so no codec library is needed and a short segment is named. Packed samples are a big-endian
  bit stream whatever the file's byte order, each row starting on a byte (TIFF 6.0, DNG 1.4; LibRaw reads
  them so too).
* Compressed data - lossless JPEG (compression 7, what most cameras and Adobe's converter write), deflate,
  with or without a predictor - is decoded by tifffile with the ``imagecodecs`` codecs (a camerad dependency).

Nothing is decoded before the image, its tiles and every lossless-JPEG segment's own header have been
checked against the memory this machine has (``pixel_limit``): a small file that claims a huge image is
refused in one line instead of swapping the machine to death.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..errors import CameradError

# Peak memory a pixel costs from file to developed picture (raw, the ISP's 16-bit planes and RGB, the encoder):
# 15-20 bytes to a JPEG, 30 to a 16-bit TIFF, measured at 3 and 12 MP (peak RSS over RSS before developing).
DEVELOP_BYTES_PER_PIXEL = 32
MEMORY_SHARE = 0.8  # of what is available: the rest for the interpreter, the codecs and everything else
PACKED_BITS = (10, 12, 14)  # packed depths unpacked here; others (9, 11, 13, 15) go to tifffile
COMPRESSION_NAMES = {1: "uncompressed", 7: "lossless JPEG", 8: "deflate", 32946: "deflate",
                     34892: "lossy JPEG", 52546: "JPEG XL"}
DECODED_ELSEWHERE = (7, 8, 32946)  # tifffile decodes these (with imagecodecs)


class DngError(CameradError, ValueError):
    """A file is not a DNG this firmware can develop; the message names the file and the reason."""


@dataclass(frozen=True)
class Layout:
    """The CFA image's storage, each field checked to be a number (a malformed file can put bytes there)."""

    width: int
    height: int
    bits: int
    sample_format: int
    compression: int
    predictor: int
    fill_order: int
    samples: int
    planar: int
    tiled: bool
    tile_width: int
    tile_length: int
    rows_per_strip: int
    offsets: tuple[int, ...]
    counts: tuple[int, ...]

    @classmethod
    def of(cls, path, page) -> "Layout":
        def number(attr: str, tag: str) -> int:
            value = getattr(page, attr)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise DngError(f"{path}: {tag} is {str(value)[:40]!r}, not a number")
            return int(value)

        offsets, counts = tuple(page.dataoffsets), tuple(page.databytecounts)
        if len(offsets) != len(counts) or not offsets:
            raise DngError(f"{path}: {len(offsets)} strip/tile offsets for {len(counts)} byte counts")
        tiled = bool(page.is_tiled)
        return cls(number("imagewidth", "ImageWidth"), number("imagelength", "ImageLength"),
                   number("bitspersample", "BitsPerSample"), number("sampleformat", "SampleFormat"),
                   number("compression", "Compression"), number("predictor", "Predictor"),
                   number("fillorder", "FillOrder"), number("samplesperpixel", "SamplesPerPixel"),
                   number("planarconfig", "PlanarConfiguration"), tiled,
                   number("tilewidth", "TileWidth") if tiled else 0, number("tilelength", "TileLength") if tiled else 0,
                   number("rowsperstrip", "RowsPerStrip") if not tiled else 0,
                   tuple(int(o) for o in offsets), tuple(int(c) for c in counts))


def available_memory() -> int:
    """Bytes this process may still use: the kernel's MemAvailable, or less under a cgroup limit."""
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            avail = 4 << 30
    try:
        with open("/sys/fs/cgroup/memory.max") as fh:
            limit = fh.read().strip()
        with open("/sys/fs/cgroup/memory.current") as fh:
            used = int(fh.read().strip())
        if limit != "max":
            avail = min(avail, int(limit) - used)
    except (OSError, ValueError):
        pass
    return max(avail, 0)


def pixel_limit() -> int:
    """The most pixels a DNG may have for developing it to fit in the memory this machine has now."""
    return int(available_memory() * MEMORY_SHARE) // DEVELOP_BYTES_PER_PIXEL


def check_geometry(path, lay: Layout, limit: int | None = None) -> None:
    """Refuse, before decoding, an image or tile layout larger than ``limit`` pixels (default: memory)."""
    width, height = lay.width, lay.height
    if width <= 0 or height <= 0:
        raise DngError(f"{path}: the raw image is {width}x{height} pixels (ImageWidth/ImageLength)")
    limit = pixel_limit() if limit is None else limit
    tw, th = (lay.tile_width, lay.tile_length) if lay.tiled else (width, height)
    if tw <= 0 or th <= 0 or tw * th > limit:
        raise DngError(f"{path}: tiles of {tw}x{th} pixels (TileWidth/TileLength) do not fit the image")
    padded = math.ceil(width / tw) * tw * math.ceil(height / th) * th
    if width * height > limit or padded > 2 * limit:
        raise DngError(f"{path}: a {width}x{height} raw image ({width * height / 1e6:.0f} MP) needs more memory "
                       f"than this machine has free (at most {limit / 1e6:.0f} MP now)")


def unpack_bits(data: np.ndarray, bits: int, rows: int, cols: int, chunk_rows: int = 256) -> np.ndarray:
    """(rows, cols) uint16 from rows of ``bits``-bit samples packed MSB first, each row byte-aligned.

    A group of ``per_group`` samples fills whole bytes (4 in 5 at 10 bits, 2 in 3 at 12, 4 in 7 at 14); sample
    k of a group lies within the 3 bytes from byte k*bits//8, so each is one 24-bit word shifted and masked.
    Rows go in chunks, so the temporaries stay a few MB at any image size.
    """
    per_group = 8 // math.gcd(bits, 8)
    group_bytes = bits * per_group // 8
    groups = -(-cols // per_group)
    row_bytes = -(-cols * bits // 8)
    rows_in = data[:rows * row_bytes].reshape(rows, row_bytes)
    out = np.empty((rows, groups * per_group), np.uint16)
    mask = np.uint32((1 << bits) - 1)
    for top in range(0, rows, chunk_rows):
        part = rows_in[top:top + chunk_rows]
        if row_bytes != groups * group_bytes:  # a row ends inside a group: pad it to whole groups
            padded = np.zeros((len(part), groups * group_bytes), np.uint8)
            padded[:, :row_bytes] = part
            part = padded
        g = part.reshape(len(part), groups, group_bytes)
        block = out[top:top + chunk_rows].reshape(len(part), groups, per_group)
        for k in range(per_group):
            first = k * bits // 8
            word = g[..., first].astype(np.uint32) << 16
            if first + 1 < group_bytes:
                word |= g[..., first + 1].astype(np.uint32) << 8
            if first + 2 < group_bytes:
                word |= g[..., first + 2]
            block[..., k] = (word >> np.uint32(24 - k * bits % 8 - bits)) & mask
    return out[:, :cols]


def _sample_dtype(path, lay: Layout, byteorder: str) -> np.dtype | None:
    """The numpy type of whole-byte uncompressed samples, None for packed ones; DngError for the unsupported."""
    bits, fmt = lay.bits, lay.sample_format
    if fmt == 3 and bits in (16, 32):
        return np.dtype(f"{byteorder}f{bits // 8}")
    if fmt == 1 and bits in (8, 16):
        return np.dtype(f"{byteorder}u{bits // 8}")
    if fmt == 1 and bits in PACKED_BITS:
        return None
    raise _unsupported_samples(path, lay)


def _unsupported_samples(path, lay: Layout) -> DngError:
    kind = {1: "unsigned", 2: "signed", 3: "floating-point"}.get(lay.sample_format, f"SampleFormat {lay.sample_format}")
    return DngError(f"{path}: {lay.bits}-bit {kind} samples (BitsPerSample/SampleFormat) are not supported")


def _segments(lay: Layout):
    """(offset, byte count, rows, cols, top, left) of each tile or strip, in file order."""
    width, height = lay.width, lay.height
    if lay.tiled:
        tw, th = lay.tile_width, lay.tile_length
        across = math.ceil(width / tw)
        places = [(i // across * th, i % across * tw, th, tw) for i in range(len(lay.offsets))]
    else:
        rps = min(lay.rows_per_strip, height) if lay.rows_per_strip > 0 else height
        places = [(i * rps, 0, max(min(rps, height - i * rps), 0), width) for i in range(len(lay.offsets))]
    return [(o, c, r, w, t, left) for (o, c), (t, left, r, w) in zip(zip(lay.offsets, lay.counts), places)]


def _read_uncompressed(path, fh, lay: Layout, byteorder: str) -> np.ndarray:
    width, height = lay.width, lay.height
    dtype = _sample_dtype(path, lay, byteorder)
    bits = lay.bits
    segs = _segments(lay)
    covered = sum(min(r, height - t) * min(w, width - x) for _, _, r, w, t, x in segs if t < height and x < width)
    if covered < width * height:
        raise DngError(f"{path}: the {len(segs)} strips/tiles (StripOffsets/TileOffsets) cover "
                       f"{covered} of {width * height} pixels")
    out = np.empty((height, width), dtype.newbyteorder("=") if dtype is not None else np.uint16)
    for i, (offset, _count, rows, cols, top, left) in enumerate(segs):
        if top >= height or left >= width:
            continue
        size = rows * cols * dtype.itemsize if dtype is not None else rows * -(-cols * bits // 8)
        fh.seek(offset)
        data = fh.read(size)
        if len(data) < size:
            raise DngError(f"{path}: raw data segment {i + 1} of {len(segs)} is cut short "
                           f"({len(data)} of {size} bytes): the file is truncated")
        if dtype is not None:
            seg = np.frombuffer(data, dtype).reshape(rows, cols)
        else:
            seg = unpack_bits(np.frombuffer(data, np.uint8), bits, rows, cols)
        h, w = min(rows, height - top), min(cols, width - left)
        out[top:top + h, left:left + w] = seg[:h, :w]
    return out


def _check_jpeg_headers(path, fh, lay: Layout) -> None:
    """Each lossless-JPEG segment must not claim more samples than its tile or strip holds."""
    for i, (offset, count, rows, cols, _t, _l) in enumerate(_segments(lay)):
        fh.seek(offset)
        head = fh.read(min(int(count), 4096))
        sof = _jpeg_frame(head)
        if sof is None:
            raise DngError(f"{path}: lossless JPEG segment {i + 1} has no frame header (SOF)")
        h, w, comps = sof
        if h * w * comps > rows * cols or h * w * comps == 0:
            raise DngError(f"{path}: lossless JPEG segment {i + 1} claims {w}x{h}x{comps} samples for a "
                           f"{cols}x{rows} tile")


def _jpeg_frame(head: bytes) -> tuple[int, int, int] | None:
    """(height, width, components) from a JPEG stream's SOF marker, None if not found in ``head``."""
    if head[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 4 <= len(head):
        if head[pos] != 0xFF:
            return None
        marker, length = head[pos + 1], int.from_bytes(head[pos + 2:pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if pos + 10 > len(head):
                return None
            return (int.from_bytes(head[pos + 5:pos + 7], "big"), int.from_bytes(head[pos + 7:pos + 9], "big"),
                    head[pos + 9])
        pos += 2 + length
    return None


def read_samples(path, fh, page, byteorder: str) -> np.ndarray:
    """The CFA image's stored samples as (height, width): uint16 for integers, float32 for floats."""
    lay = Layout.of(path, page)
    check_geometry(path, lay)
    compression = lay.compression
    if lay.samples != 1:
        raise DngError(f"{path}: a CFA image with {lay.samples} samples per pixel (SamplesPerPixel) is not supported")
    if not ((lay.sample_format == 1 and 1 <= lay.bits <= 16) or (lay.sample_format == 3 and lay.bits in (16, 24, 32))):
        raise _unsupported_samples(path, lay)
    if compression == 1 and lay.predictor == 1 and lay.fill_order == 1 and lay.bits in (8, 16, 32) + PACKED_BITS:
        samples = _read_uncompressed(path, fh, lay, byteorder)
    elif compression in DECODED_ELSEWHERE or compression == 1:
        if compression == 7:
            _check_jpeg_headers(path, fh, lay)
        samples = _decode_with_tifffile(path, page, compression)
    else:
        name = COMPRESSION_NAMES.get(compression, "unknown")
        raise DngError(f"{path}: Compression {compression} ({name}) is not supported for the raw image")
    if samples.dtype.kind == "f":
        return samples.astype(np.float32, copy=False)
    return samples.astype(np.uint16, copy=False)


def _decode_with_tifffile(path, page, compression: int) -> np.ndarray:
    try:
        import imagecodecs  # noqa: F401  (tifffile's codecs for everything but plain data)
    except ImportError:
        raise DngError(f"{path}: Compression {compression} ({COMPRESSION_NAMES.get(compression, 'unknown')}) "
                       f"needs the 'imagecodecs' package (pip install imagecodecs)") from None
    try:
        data = page.asarray(maxworkers=1)
    except MemoryError:
        raise DngError(f"{path}: not enough memory to decode the raw image") from None
    except Exception as exc:  # tifffile and the codecs raise many kinds for corrupt segments
        raise DngError(f"{path}: cannot decode the {COMPRESSION_NAMES.get(compression, 'compressed')} raw data "
                       f"({type(exc).__name__}: {exc})") from None
    if data.ndim != 2:
        raise DngError(f"{path}: the raw image decodes to shape {data.shape}, not one plane")
    return data
