"""Reading one block's values the way libcamera's ``YamlObject::get<T>()`` does, recording what is wrong.

Every block module reads its numbers through a ``BlockReader``: the same code gives the typed view the ISP and
the mock's IPA use and the findings ``camtune validate`` prints, so a number is understood in one place. A value
that cannot be read is recorded as an error naming the block and key, and the reader hands back the block's
default so reading can go on and report every problem at once.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, TypeVar

import numpy as np

from ...errors import TuningError
from ..file import TuningFile
from ..hardware import PLATFORMS, Platform
from ..issues import Issue, TuningInvalid
from ..pwl import Pwl

T = TypeVar("T")
_HUGE = 1e18  # beyond any number a tuning file holds, and where integers stop converting to floats exactly


class BlockReader:
    """The values of one block, each checked as libcamera reads it; findings go to ``issues``."""

    def __init__(self, block: str, params: dict, platform: Platform, source: str = "<memory>",
                 issues: list[Issue] | None = None):
        self.block = block
        self.params = params
        self.platform = platform
        self.source = source
        self.issues = issues if issues is not None else []
        self._first = len(self.issues)

    # -- recording ---------------------------------------------------------------------------------------
    def add(self, level: str, key: str, message: str) -> None:
        self.issues.append(Issue(level, self.block, key, message, self.source))

    def error(self, key: str, message: str) -> None:
        self.add("error", key, message)

    def warn(self, key: str, message: str) -> None:
        self.add("warning", key, message)

    def info(self, key: str, message: str) -> None:
        self.add("info", key, message)

    @property
    def failed(self) -> bool:
        return any(i.level == "error" for i in self.issues[self._first:])

    def raise_if_failed(self) -> None:
        bad = [i for i in self.issues[self._first:] if i.level == "error"]
        if bad:
            raise TuningInvalid(bad)

    # -- scalars -------------------------------------------------------------------------------------------
    def number(self, value: Any, key: str, *, default: Any = None, integer: bool = False, lo: float | None = None,
               hi: float | None = None, lo_open: bool = False) -> Any:
        """``value`` as libcamera parses a scalar, or ``default`` (and an error) when it would not parse."""
        what = "an integer" if integer else "a number"
        if value is None:
            self.error(key, f"must be {what}, got nothing (null)")
            return default
        if isinstance(value, bool):
            self.error(key, f"must be {what}, got {str(value).lower()}")
            return default
        if isinstance(value, str):
            try:
                parsed = int(value) if integer else float(value)
            except ValueError:
                self.error(key, f"must be {what}, got the string {_clip(value)!r}")
                return default
            if isinstance(parsed, float) and not math.isfinite(parsed):
                self.error(key, f"is not finite ({value!r})")
                return default
            self.warn(key, f"is the string {value!r}: libcamera reads it as a number, strict JSON readers "
                           "(Picamera2) see a string")
            value = parsed
        if isinstance(value, (list, dict)):
            self.error(key, f"must be {what}, got {'a list' if isinstance(value, list) else 'an object'}")
            return default
        if not isinstance(value, (int, float)):
            self.error(key, f"must be {what}, got {type(value).__name__}")
            return default
        if isinstance(value, float) and math.isnan(value):
            self.error(key, "is NaN")
            return default
        if isinstance(value, float) and math.isinf(value):
            self.error(key, "is infinite")
            return default
        if abs(value) >= _HUGE:
            self.error(key, f"{_short(value)} is out of any sensible range")
            return default
        if integer and isinstance(value, float):
            # libcamera parses integer keys with strtol and rejects "1.0" or "1.5" outright.
            self.error(key, f"must be an integer, got {value!r} (libcamera rejects a decimal point here)")
            return default
        v = float(value)
        if lo is not None and (v <= lo if lo_open else v < lo):
            self.error(key, f"{_short(value)} must be {'>' if lo_open else '>='} {lo:g}")
            return default
        if hi is not None and v > hi:
            self.error(key, f"{_short(value)} must be <= {hi:g}")
            return default
        return int(value) if integer else v

    def get(self, key: str, default: Any = None, *, required: bool = False, **kw) -> Any:
        """The number at ``key`` of the block: ``default`` when absent (an error too if ``required``)."""
        if key not in self.params:
            if required:
                self.error(key, "missing (required)")
            return default
        return self.number(self.params[key], key, default=default, **kw)

    # -- lists ---------------------------------------------------------------------------------------------
    def numbers(self, value: Any, key: str, *, length: int | None = None, min_length: int = 0, default: Any = None,
                integer: bool = False, **kw) -> Any:
        """A list of numbers as a float array, or ``default`` (and an error) when it is not one or the wrong length."""
        if not isinstance(value, list):
            self.error(key, f"must be a list of numbers, got {_kind(value)}")
            return default
        kinds = (int,) if integer else (int, float)
        arr = None
        if all(type(v) in kinds and abs(v) < _HUGE for v in value):  # the usual case, checked in one pass
            arr = np.asarray(value, dtype=np.float64)
            lo, hi, lo_open = kw.get("lo"), kw.get("hi"), kw.get("lo_open", False)
            if not np.isfinite(arr).all() or (lo is not None and (arr <= lo if lo_open else arr < lo).any()) \
                    or (hi is not None and (arr > hi).any()):
                arr = None
        if arr is None:
            out = []
            for i, v in enumerate(value):
                n = self.number(v, f"{key}[{i}]", integer=integer, **kw)
                if n is None:
                    return default
                out.append(n)
            arr = np.asarray(out, dtype=np.float64)
        if length is not None and len(arr) != length:
            self.error(key, f"has {len(arr)} values, expected {length}")
            return default
        if len(arr) < min_length:
            self.error(key, f"has {len(arr)} values, needs at least {min_length}")
            return default
        return arr

    def pwl(self, value: Any, key: str, *, x_range: tuple[float, float] | None = None, default: Any = None) -> Any:
        """A piecewise-linear function ``[x0, y0, x1, y1, ...]`` (or one number) with strictly increasing x."""
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            n = self.number(value, key)
            return default if n is None else Pwl([0.0, n])
        flat = self.numbers(value, key)
        if flat is None:
            return default
        if not len(flat) or len(flat) % 2:
            self.error(key, f"must hold x, y pairs, got {len(flat)} numbers")
            return default
        xs = flat[0::2]
        bad = np.flatnonzero(np.diff(xs) <= 0)
        if bad.size:
            i = int(bad[0]) + 1
            self.error(key, f"x values must increase: x[{i}] = {xs[i]:g} after {xs[i - 1]:g}")
            return default
        if x_range is not None and (xs[0] < x_range[0] or xs[-1] > x_range[1]):
            self.error(key, f"x spans {xs[0]:g}..{xs[-1]:g}, outside {x_range[0]:g}..{x_range[1]:g}")
            return default
        return Pwl(flat)

    def mapping(self, value: Any, key: str) -> dict | None:
        if not isinstance(value, dict):
            self.error(key, f"must be an object, got {_kind(value)}")
            return None
        return value

    def sequence(self, value: Any, key: str) -> list | None:
        if not isinstance(value, list):
            self.error(key, f"must be a list, got {_kind(value)}")
            return None
        return value

    def ordered(self, entries: list | None, key: str, field: str, message: str, **kw):
        """Yield (index, object, value) of a list of objects whose ``field`` must strictly increase.

        ``message`` is formatted with ``v`` and ``last`` for the error when it does not; entries whose field
        cannot be read are skipped.
        """
        last = None
        for i, e in enumerate(entries or []):
            e = self.mapping(e, f"{key}[{i}]")
            if e is None:
                continue
            v = self.number(e.get(field), f"{key}[{i}].{field}", **kw)
            if v is None:
                continue
            if last is not None and v <= last:
                self.error(f"{key}[{i}].{field}", message.format(v=v, last=last))
                continue
            last = v
            yield i, e, v

    def unknown_keys(self, known: Iterable[str]) -> None:
        known = set(known) | {"enabled"}
        for k in self.params:
            if k not in known:
                self.info(str(k), "not a key libcamera reads in this block (ignored; a typo?)")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f"the string {_clip(value)!r}"
    return {dict: "an object", list: "a list"}.get(type(value), _short(value))


def platform_of(tf: TuningFile) -> Platform:
    return PLATFORMS.get(tf.target, PLATFORMS["vc4"])


def read_block(cls: type[T], tf: TuningFile, name: str, *, required: bool = False) -> T | None:
    """``cls.parse`` on block ``name`` of ``tf``; None when it is absent (``TuningError`` if ``required``).

    Raises ``TuningInvalid`` naming the file, block and key when a value cannot be read.
    """
    params = tf.block(name)
    if params is None:
        if required:
            raise TuningError(f"{tf.source}: {name}: block missing or disabled")
        return None
    reader = BlockReader(name, params, platform_of(tf), tf.source)
    view = cls.parse(reader)  # type: ignore[attr-defined]
    reader.raise_if_failed()
    return view
