"""TIFF structure writer: image file directories, their sub-IFDs and image data, laid out as TIFF 6 asks.

The DNG writer and the JPEG's EXIF block both stand on this. Neither PiDNG nor tifffile can write what a
camera file needs: PiDNG puts every tag into one IFD (EXIF fields in IFD0, its own ``Software`` beside ours)
and has no sub-IFDs for a raw image and its previews; tifffile writes image pages but no EXIF IFD. The rules
kept here are the ones ``exiftool -validate`` checks:

* entries sorted by tag, one entry per tag;
* every value longer than 4 bytes out of line, at a word (even) offset, never overlapping an IFD;
* sub-IFDs (``SubIFDs``, ``ExifIFD``) and the next-IFD chain (IFD1 of an EXIF block) by absolute offsets;
* image data (strips or tiles) after all directories, each segment at an even offset, its offsets and byte
  counts entered in the IFD that owns it.

Little-endian ("II") only: it is what cameras and every reader handle.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Iterable, Sequence

BYTE, ASCII, SHORT, LONG, RATIONAL, SBYTE, UNDEFINED, SSHORT, SLONG, SRATIONAL, FLOAT, DOUBLE = range(1, 13)
_FORMATS = {BYTE: "B", SHORT: "H", LONG: "I", SBYTE: "b", UNDEFINED: "B", SSHORT: "h", SLONG: "i",
            FLOAT: "f", DOUBLE: "d"}
_SIZES = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, SBYTE: 1, UNDEFINED: 1, SSHORT: 2, SLONG: 4,
          SRATIONAL: 8, FLOAT: 4, DOUBLE: 8}
SUBIFDS, EXIF_IFD = 330, 34665


def rational(value: float, limit: int = 1_000_000) -> tuple[int, int]:
    """A non-negative number as the nearest fraction with a denominator of at most ``limit``."""
    from fractions import Fraction

    f = Fraction(float(value)).limit_denominator(limit)
    return f.numerator, f.denominator


def srational(value: float, den: int = 1_000_000) -> tuple[int, int]:
    """A signed number as n/den (fixed denominator: colour matrices keep six decimals)."""
    n = int(round(float(value) * den))
    return max(-(2**31), min(2**31 - 1, n)), den


@dataclass
class _Entry:
    type: int
    count: int
    payload: bytes


@dataclass
class Ifd:
    """One image file directory: its tags, the image data it owns, its sub-IFDs and its EXIF IFD."""

    entries: dict[int, _Entry] = field(default_factory=dict)
    segments: list[bytes] = field(default_factory=list)  # strips or tiles, in order
    segment_tags: tuple[int, int] = (273, 279)  # (offsets, byte counts): strips; tiles use (324, 325)
    subifds: list["Ifd"] = field(default_factory=list)
    exif: "Ifd | None" = None
    next: "Ifd | None" = None  # the next IFD in the chain (IFD1 of a JPEG's EXIF block)

    def set(self, tag: int, type_: int, values) -> "Ifd":
        """Set ``tag``: ``values`` is a str (ASCII), bytes (BYTE/UNDEFINED), a number or a sequence; rationals
        as (numerator, denominator) pairs."""
        if type_ == ASCII:
            raw = values.encode("ascii", "replace") + b"\0"
            self.entries[tag] = _Entry(ASCII, len(raw), raw)
            return self
        if isinstance(values, (bytes, bytearray, memoryview)):
            raw = bytes(values)
            self.entries[tag] = _Entry(type_, len(raw) // _SIZES[type_], raw)
            return self
        if type_ in (RATIONAL, SRATIONAL):
            pairs = [values] if isinstance(values[0], (int, float)) else list(values)
            flat = [int(v) for pair in pairs for v in pair]
            self.entries[tag] = _Entry(type_, len(pairs), struct.pack(f"<{len(flat)}{'I' if type_ == RATIONAL else 'i'}", *flat))
            return self
        seq = _flat(values) if isinstance(values, (list, tuple)) or hasattr(values, "__array__") else [values]
        fmt = _FORMATS[type_]
        conv = [float(v) if fmt in "fd" else int(v) for v in seq]
        self.entries[tag] = _Entry(type_, len(conv), struct.pack(f"<{len(conv)}{fmt}", *conv))
        return self

    def image(self, segments: Sequence[bytes], *, tiles: bool = False) -> "Ifd":
        """The image data this IFD describes, as strips (or tiles), already encoded."""
        self.segments = [bytes(s) for s in segments]
        self.segment_tags = (324, 325) if tiles else (273, 279)
        return self

    def tree(self) -> Iterable["Ifd"]:
        """This IFD, its sub-IFDs and EXIF IFD (depth first), then the IFDs chained after it."""
        yield self
        for sub in self.subifds:
            yield from sub.tree()
        if self.exif is not None:
            yield from self.exif.tree()
        if self.next is not None:
            yield from self.next.tree()


def _flat(array) -> Iterable:
    import numpy as np

    return np.asarray(array).ravel().tolist()


def _even(n: int) -> int:
    return n + (n & 1)


def serialize(first: Ifd, magic: int = 42) -> bytes:
    """The TIFF file (a DNG, or the TIFF part of a JPEG's EXIF block) whose first IFD is ``first``.

    ``magic``: 42 for TIFF; a DNG camera profile (``.dcp``) has 0x4352 ("RC") in its place."""
    ifds = list(first.tree())
    # Pointer entries take their final size now (their values are offsets, filled in once laid out).
    for ifd in ifds:
        if ifd.subifds:
            ifd.entries[SUBIFDS] = _Entry(LONG, len(ifd.subifds), bytes(4 * len(ifd.subifds)))
        if ifd.exif is not None:
            ifd.entries[EXIF_IFD] = _Entry(LONG, 1, bytes(4))
        if ifd.segments:
            off_tag, count_tag = ifd.segment_tags
            n = len(ifd.segments)
            ifd.entries[off_tag] = _Entry(LONG, n, bytes(4 * n))
            ifd.entries[count_tag] = _Entry(LONG, n, struct.pack(f"<{n}I", *(len(s) for s in ifd.segments)))
    # Layout: every directory followed by its out-of-line values, then all image data.
    pos = 8
    where: dict[int, int] = {}
    value_at: dict[tuple[int, int], int] = {}
    for ifd in ifds:
        where[id(ifd)] = pos
        pos += 2 + 12 * len(ifd.entries) + 4
        for tag in sorted(ifd.entries):
            e = ifd.entries[tag]
            if len(e.payload) > 4:
                value_at[(id(ifd), tag)] = pos
                pos = _even(pos + len(e.payload))
    data_at: dict[int, list[int]] = {}
    for ifd in ifds:
        offsets = []
        for seg in ifd.segments:
            offsets.append(pos)
            pos = _even(pos + len(seg))
        data_at[id(ifd)] = offsets
    for ifd in ifds:
        if ifd.subifds:
            ifd.entries[SUBIFDS].payload = struct.pack(f"<{len(ifd.subifds)}I", *(where[id(s)] for s in ifd.subifds))
        if ifd.exif is not None:
            ifd.entries[EXIF_IFD].payload = struct.pack("<I", where[id(ifd.exif)])
        if ifd.segments:
            offs = data_at[id(ifd)]
            ifd.entries[ifd.segment_tags[0]].payload = struct.pack(f"<{len(offs)}I", *offs)
    out = bytearray(pos)
    out[0:8] = struct.pack("<2sHI", b"II", magic, 8)
    for ifd in ifds:
        at = where[id(ifd)]
        struct.pack_into("<H", out, at, len(ifd.entries))
        p = at + 2
        for tag in sorted(ifd.entries):
            e = ifd.entries[tag]
            if len(e.payload) > 4:
                struct.pack_into("<HHII", out, p, tag, e.type, e.count, value_at[(id(ifd), tag)])
                start = value_at[(id(ifd), tag)]
                out[start:start + len(e.payload)] = e.payload
            else:
                struct.pack_into("<HHI", out, p, tag, e.type, e.count)
                out[p + 8:p + 8 + len(e.payload)] = e.payload
            p += 12
        struct.pack_into("<I", out, p, where[id(ifd.next)] if ifd.next is not None else 0)
        for seg, off in zip(ifd.segments, data_at[id(ifd)]):
            out[off:off + len(seg)] = seg
    return bytes(out)
