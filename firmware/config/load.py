"""Read the TOML configuration into frozen dataclasses, naming file, key and reason on every error.

>>> cfg = loads('[sensor]\\nbackend = "mock"\\n', source="example.toml")
>>> cfg.sensor.backend
'mock'
"""

from __future__ import annotations

import dataclasses
import math
import re
import reprlib
import sys
import typing
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Literal, get_args, get_origin

from ..errors import ConfigError
from ..textfile import parse_toml, read_text
from .model import Config

DEFAULT_PATH = Path("/etc/camerad/camerad.toml")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def load(path: str | Path) -> Config:
    """Load and validate the configuration file at ``path``."""
    return loads(read_text(path, "configuration file", ConfigError), source=str(path))


def loads(text: str, source: str = "<string>") -> Config:
    return parse(_read_toml(text, source), source)


def _read_toml(text: str, source: str) -> dict[str, Any]:
    """TOML to a dict; what tomllib cannot take (arrays nested thousands deep, integers of thousands of digits)
    becomes a one-line error naming the line and key, not a RecursionError or ValueError."""
    try:
        return parse_toml(text, source, ConfigError)
    except ConfigError:
        raise
    except RecursionError:
        line, key = _locate(text, lambda depth, _: depth > 50)
        raise ConfigError(f"{source}: line {line}: {key}: arrays or inline tables nested too deep to read "
                          f"(keep values flat)") from None
    except ValueError as exc:  # int() past sys.get_int_max_str_digits()
        limit = sys.get_int_max_str_digits()
        long_int = re.compile(r"(?<![\w.])[+-]?\d[\d_]{%d,}" % (limit - 1))
        line, key = _locate(text, lambda _, text_line: bool(long_int.search(text_line)))
        digits = re.search(r"has (\d+) digits", str(exc))
        raise ConfigError(f"{source}: line {line}: {key}: an integer of {digits.group(1) if digits else 'too many'} "
                          f"digits (at most {limit} are read; no setting needs more than a few)") from None


def _locate(text: str, found: Callable[[int, str], bool]) -> tuple[int, str]:
    """The first line where ``found(deepest bracket depth on it, line)`` holds, and the key being assigned there, as
    "[table] key". A rough scan (strings' brackets are skipped), good enough to point at a value."""
    table, key, depth = "", "?", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if depth == 0:
            header = re.match(r"\[\[?\s*([^\]]+?)\s*\]", stripped)
            if header:
                table, key = header.group(1), "?"
            elif "=" in stripped and not stripped.startswith("#"):
                key = stripped.split("=", 1)[0].strip()
        quote, deepest = None, depth
        for ch in line:
            if quote:
                quote = None if ch == quote else quote
            elif ch in "\"'":
                quote = ch
            elif ch == "#":
                break
            elif ch in "[{":
                depth += 1
                deepest = max(deepest, depth)
            elif ch in "]}":
                depth = max(0, depth - 1)
        if found(deepest, line):
            return number, f"[{table}] {key}" if table else key
    return 0, f"[{table}] {key}" if table else key


def parse(data: dict[str, Any], source: str = "<dict>") -> Config:
    """Validate an already-parsed mapping (e.g. from TOML) and build the frozen ``Config``."""
    values = _build(Config, data, source, path=())
    return dataclasses.replace(values, source=source)


def _build(cls, data: Any, source: str, path: tuple[str, ...], convert=None, error: type[Exception] = ConfigError):
    """``cls`` from a TOML table: unknown and missing keys refused, each value through ``convert`` (``_convert``
    by default; board profiles pass their own, which knows a few more types)."""
    convert = convert or _convert
    where = _where(source, path)
    if not isinstance(data, dict):
        raise error(f"{where}: expected a table, got {_tname(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields))
        raise error(f"{_where(source, path + (unknown[0],))}: unknown key (known keys here: {known})")
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise error(f"{_where(source, path + (name,))}: missing key")
            continue
        kwargs[name] = convert(hints[name], f, data[name], source, path + (name,))
    return cls(**kwargs)


def _convert(tp, f: dataclasses.Field, value: Any, source: str, path: tuple[str, ...]):
    where = _where(source, path)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, source, path)
    origin = get_origin(tp)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            allowed = ", ".join(repr(c) for c in choices)
            raise ConfigError(f"{where}: must be one of {allowed}, not {_show(value)}")
        return value
    if isinstance(tp, type) and issubclass(tp, Enum):  # a domain's vocabulary (firmware.actions, .boards)
        choices = [m.value for m in tp]
        if value not in choices:
            raise ConfigError(f"{where}: must be one of {', '.join(repr(c) for c in choices)}, not {_show(value)}")
        return tp(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {_tname(value)} {_show(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {_tname(value)} {_show(value)}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {_tname(value)} {_show(value)}")
        try:
            value = float(value)
        except OverflowError:  # an integer past 1.8e308
            raise ConfigError(f"{where}: {_show(value)} is out of range [{f.metadata.get('min')}, "
                              f"{f.metadata.get('max')}]") from None
        if not math.isfinite(value):
            raise ConfigError(f"{where}: must be a finite number, not {_show(value)}")
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {_tname(value)} {_show(value)}")
        if _CONTROL.search(value):  # a NUL in a path would fail far from here, in os calls
            raise ConfigError(f"{where}: {_show(value)} contains a control character")
        items = f.metadata.get("items")  # a comma-separated list of one vocabulary's words
        bad = [w.strip() for w in value.split(",") if w.strip() not in {m.value for m in items}] if items else []
        if bad or (items and not value.strip()):
            raise ConfigError(f"{where}: {_show(value)} is not a comma-separated list of "
                              f"{', '.join(m.value for m in items)}")
        pattern = f.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            raise ConfigError(f"{where}: {_show(value)} is not in the form {f.metadata.get('format', pattern)}")
        return value
    else:  # pragma: no cover - a schema bug, not a user error
        raise TypeError(f"unsupported config type {tp!r} at {where}")
    lo, hi = f.metadata.get("min"), f.metadata.get("max")
    if lo is not None and value < lo or hi is not None and value > hi:
        raise ConfigError(f"{where}: {_show(value)} is out of range [{lo}, {hi}]")
    return value


_REPR = reprlib.Repr()  # (keyword arguments only from Python 3.12)
_REPR.maxlevel, _REPR.maxstring, _REPR.maxlong, _REPR.maxother = 2, 60, 40, 60


def _show(value: Any) -> str:
    """A value for a message: short, whatever its size or depth (a huge integer, a long string, nesting)."""
    return _REPR.repr(value)


def _where(source: str, path: tuple[str, ...]) -> str:
    path = tuple(_key(p) for p in path)
    if not path:
        return source
    if len(path) == 1:
        return f"{source}: [{path[0]}]"
    return f"{source}: [{'.'.join(path[:-1])}] {path[-1]}"


def _key(name: str) -> str:
    """A key as written when it is a plain one, else quoted, escaped and shortened (a key may hold a newline)."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]{1,60}", name) else _show(name)


def _tname(value: Any) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
            float: "a float"}.get(type(value), type(value).__name__)
