"""The samples of a DNG's CFA image: uncompressed data unpacked with numpy, compressed data through tifffile.

* Uncompressed data - 8 or 16-bit, 10/12/14-bit packed (PiDNG writes picamera2's DNGs 10/12-bit packed),
  32 or 16-bit float - in tiles or strips, either byte order: each segment is read from the file and
  unpacked here, so no codec library is needed and a short segment is named. Packed samples are a big-endian
  bit stream whatever the file's byte order, each row starting on a byte (TIFF 6.0, DNG 1.4; LibRaw reads
  them so too).
* Compressed data - lossless JPEG (compression 7, what most cameras and Adobe's converter write), deflate,
  with or without a predictor - is decoded by tifffile with the ``imagecodecs`` codecs (``camerad[tune]``).

Nothing is decoded before the image, its tiles and every lossless-JPEG segment's own header have been
checked against the memory this machine has (``pixel_limit``): a small file that claims a huge image is
refused in one line instead of swapping the machine to death.
"""

from __future__ import annotations

import math
import os

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


def check_geometry(path, page, limit: int | None = None) -> None:
    """Refuse, before decoding, an image or tile layout larger than ``limit`` pixels (default: memory)."""
    width, height = int(page.imagewidth), int(page.imagelength)
    if width <= 0 or height <= 0:
        raise DngError(f"{path}: the raw image is {width}x{height} pixels (ImageWidth/ImageLength)")
    limit = pixel_limit() if limit is None else limit
    tw, th = (int(page.tilewidth), int(page.tilelength)) if page.is_tiled else (width, height)
    padded = math.ceil(width / max(tw, 1)) * tw * math.ceil(height / max(th, 1)) * th
    if width * height > limit or padded > 2 * limit:
        raise DngError(f"{path}: a {width}x{height} raw image ({width * height / 1e6:.0f} MP) needs more memory "
                       f"than this machine has free (at most {limit / 1e6:.0f} MP now)")
    if page.is_tiled and (tw <= 0 or th <= 0 or tw * th > limit):
        raise DngError(f"{path}: tiles of {tw}x{th} pixels (TileWidth/TileLength) do not fit the image")


def unpack_bits(data: np.ndarray, bits: int, rows: int, cols: int) -> np.ndarray:
    """(rows, cols) uint16 from rows of ``bits``-bit samples packed MSB first, each row byte-aligned."""
    per_group = 8 // math.gcd(bits, 8)  # samples in the smallest whole number of bytes: 4 in 5, 2 in 3, 4 in 7
    group_bytes = bits * per_group // 8
    groups = -(-cols // per_group)
    row_bytes = -(-cols * bits // 8)
    packed = np.zeros((rows, groups * group_bytes), np.uint8)
    packed[:, :row_bytes] = data[:rows * row_bytes].reshape(rows, row_bytes)
    g = packed.reshape(rows, groups, group_bytes).astype(np.uint64)
    word = np.zeros((rows, groups), np.uint64)
    for i in range(group_bytes):
        word = (word << np.uint64(8)) | g[..., i]
    mask = np.uint64((1 << bits) - 1)
    out = np.empty((rows, groups, per_group), np.uint16)
    for k in range(per_group):
        out[..., k] = (word >> np.uint64(bits * (per_group - 1 - k))) & mask
    return out.reshape(rows, groups * per_group)[:, :cols]


def _sample_dtype(path, page, byteorder: str) -> np.dtype | None:
    """The numpy type of whole-byte uncompressed samples, None for packed ones; DngError for the unsupported."""
    bits, fmt = int(page.bitspersample), int(page.sampleformat)
    if fmt == 3 and bits in (16, 32):
        return np.dtype(f"{byteorder}f{bits // 8}")
    if fmt == 1 and bits in (8, 16):
        return np.dtype(f"{byteorder}u{bits // 8}")
    if fmt == 1 and bits in PACKED_BITS:
        return None
    kind = {1: "unsigned", 2: "signed", 3: "floating-point"}.get(fmt, f"SampleFormat {fmt}")
    raise DngError(f"{path}: {bits}-bit {kind} samples (BitsPerSample/SampleFormat) are not supported")


def _segments(page):
    """(offset, byte count, rows, cols, top, left) of each tile or strip, in file order."""
    width, height = int(page.imagewidth), int(page.imagelength)
    offsets, counts = page.dataoffsets, page.databytecounts
    if page.is_tiled:
        tw, th = int(page.tilewidth), int(page.tilelength)
        across = math.ceil(width / tw)
        places = [(i // across * th, i % across * tw, th, tw) for i in range(len(offsets))]
    else:
        rps = min(int(page.rowsperstrip) or height, height)
        places = [(i * rps, 0, min(rps, height - i * rps), width) for i in range(len(offsets))]
    return [(o, c, r, w, t, left) for (o, c), (t, left, r, w) in zip(zip(offsets, counts), places)]


def _read_uncompressed(path, fh, page, byteorder: str) -> np.ndarray:
    width, height = int(page.imagewidth), int(page.imagelength)
    dtype = _sample_dtype(path, page, byteorder)
    bits = int(page.bitspersample)
    segs = _segments(page)
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


def _check_jpeg_headers(path, fh, page) -> None:
    """Each lossless-JPEG segment must not claim more samples than its tile or strip holds."""
    for i, (offset, count, rows, cols, _t, _l) in enumerate(_segments(page)):
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
    check_geometry(path, page)
    compression = int(page.compression)
    if int(page.samplesperpixel) != 1 or (int(page.planarconfig) != 1 and int(page.samplesperpixel) != 1):
        raise DngError(f"{path}: a CFA image with {page.samplesperpixel} samples per pixel is not supported")
    if compression == 1 and int(page.predictor) == 1 and int(page.fillorder) == 1 \
            and (int(page.bitspersample) in (8, 16, 32) or int(page.bitspersample) in PACKED_BITS):
        samples = _read_uncompressed(path, fh, page, byteorder)
    elif compression in DECODED_ELSEWHERE or compression == 1:
        if compression == 7:
            _check_jpeg_headers(path, fh, page)
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
                       f"needs the 'imagecodecs' package: pip install 'camerad[tune]'") from None
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
