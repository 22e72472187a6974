"""DNG tag values read defensively: a tag of the wrong type or count is a one-line error naming the tag.

tifffile gives a tag's value as the TIFF type has it (an int, a tuple, rationals as (numerator, denominator)
pairs, bytes, str); a malformed file can put any of those under any code. ``Tags`` looks a tag up in the CFA
image's IFD, then IFD0, then EXIF (DNG puts camera-wide tags in IFD0 and EXIF facts in either), and turns
the value into what the reader needs or says what is wrong with it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .dng_decode import DngError

_RATIONAL_TYPES = (5, 10)  # TIFF RATIONAL, SRATIONAL: tifffile gives (numerator, denominator) pairs
_TEXT_TYPES = (2,)  # ASCII


def tag_name(code: int) -> str:
    import tifffile

    name = tifffile.TIFF.TAGS.get(code)
    return name if isinstance(name, str) else f"tag {code}"


class _ExifValue:
    """A value from tifffile's decoded EXIF dictionary, shaped like a TiffTag."""

    def __init__(self, code: int, value: Any):
        self.code, self.value = code, value
        self.dtype = 5 if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value) \
            else 12


def exif_tags(ifd0) -> dict:
    """EXIF values by tag code (tifffile decodes the EXIF IFD into a name -> value dict)."""
    import tifffile

    tag = ifd0.get(34665)
    if tag is None or not isinstance(tag.value, dict):
        return {}
    out = {}
    for name, value in tag.value.items():
        code = tifffile.TIFF.TAGS.get(name)
        if isinstance(code, int):
            out[code] = _ExifValue(code, value)
    return out


class Tags:
    """Typed access to the DNG's tags for one file; errors name the file and the tag."""

    def __init__(self, path, *sources):
        self.path = path
        self.sources = [s for s in sources if s is not None]

    def find(self, code: int):
        for source in self.sources:
            tag = source.get(code)
            if tag is not None:
                return tag
        return None

    def has(self, code: int) -> bool:
        return self.find(code) is not None

    def error(self, code: int, what: str) -> DngError:
        return DngError(f"{self.path}: {tag_name(code)} {what}")

    def numbers(self, code: int, count: int | None = None, at_least: int = 1) -> list[float] | None:
        """The tag's values as finite floats (rationals divided out); None when absent."""
        tag = self.find(code)
        if tag is None:
            return None
        value = tag.value
        if isinstance(value, (str, dict)) or int(getattr(tag, "dtype", 0)) in _TEXT_TYPES:
            raise self.error(code, f"holds {type(value).__name__} {str(value)[:40]!r}, not numbers")
        if isinstance(value, (bytes, bytearray)):
            flat = list(value)
        else:
            try:
                flat = [float(v) for v in np.ravel(np.asarray(value, dtype=object))]
            except (TypeError, ValueError):
                raise self.error(code, f"holds {str(value)[:40]!r}, not numbers") from None
        if int(getattr(tag, "dtype", 0)) in _RATIONAL_TYPES:
            if len(flat) % 2:
                raise self.error(code, "is a rational with no denominator")
            flat = [a / b if b else math.nan for a, b in zip(flat[0::2], flat[1::2])]
        flat = [float(v) for v in flat]
        if not all(math.isfinite(v) for v in flat):
            raise self.error(code, f"holds a value that is not a finite number ({flat[:8]})")
        if (count is not None and len(flat) != count) or len(flat) < at_least:
            want = count if count is not None else f"at least {at_least}"
            raise self.error(code, f"has {len(flat)} values, {want} expected")
        return flat

    def number(self, code: int, default=None):
        vals = self.numbers(code)
        return default if vals is None else vals[0]

    def integers(self, code: int, count: int | None = None, at_least: int = 1) -> list[int] | None:
        vals = self.numbers(code, count, at_least)
        if vals is None:
            return None
        if any(v != int(v) for v in vals):
            raise self.error(code, f"holds fractions where whole numbers belong ({vals[:8]})")
        return [int(v) for v in vals]

    def text(self, code: int) -> str:
        tag = self.find(code)
        if tag is None or not tag.value:
            return ""
        v = tag.value
        if isinstance(v, (bytes, bytearray)):
            v = bytes(v).decode("utf-8", errors="replace")
        if not isinstance(v, str):
            return ""  # a number where text belongs: ignored like an absent name (it only labels the output)
        # EXIF text is ASCII: anything else (a corrupt byte, a stray control code) becomes "?".
        return "".join(c if " " <= c <= "~" else "?" for c in v.strip("\x00 "))[:200]

    def blob(self, code: int) -> bytes | None:
        """An UNDEFINED/BYTE tag's bytes (opcode lists); None when absent."""
        tag = self.find(code)
        if tag is None:
            return None
        v = tag.value
        if isinstance(v, (bytes, bytearray)):
            return bytes(v)
        if isinstance(v, (tuple, list)) and all(isinstance(x, int) and 0 <= x < 256 for x in v):
            return bytes(v)
        raise self.error(code, f"holds {type(v).__name__}, not bytes")
