"""Read the TOML configuration into frozen dataclasses, naming file, key and reason on every error.

>>> cfg = loads('[sensor]\\nbackend = "mock"\\n', source="example.toml")
>>> cfg.sensor.backend
'mock'
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from enum import Enum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from ..errors import ConfigError
from ..textfile import parse_toml, read_text
from .model import Config

DEFAULT_PATH = Path("/etc/camerad/camerad.toml")


def load(path: str | Path) -> Config:
    """Load and validate the configuration file at ``path``."""
    return loads(read_text(path, "configuration file", ConfigError), source=str(path))


def loads(text: str, source: str = "<string>") -> Config:
    return parse(parse_toml(text, source, ConfigError), source)


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
            raise ConfigError(f"{where}: must be one of {allowed}, not {value!r}")
        return value
    if isinstance(tp, type) and issubclass(tp, Enum):  # a domain's vocabulary (firmware.actions, .boards)
        choices = [m.value for m in tp]
        if value not in choices:
            raise ConfigError(f"{where}: must be one of {', '.join(repr(c) for c in choices)}, not {value!r}")
        return tp(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {_tname(value)} {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {_tname(value)} {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {_tname(value)} {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{where}: must be a finite number, not {value!r}")
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {_tname(value)} {value!r}")
        items = f.metadata.get("items")  # a comma-separated list of one vocabulary's words
        bad = [w.strip() for w in value.split(",") if w.strip() not in {m.value for m in items}] if items else []
        if bad or (items and not value.strip()):
            raise ConfigError(f"{where}: {value!r} is not a comma-separated list of "
                              f"{', '.join(m.value for m in items)}")
        pattern = f.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            raise ConfigError(f"{where}: {value!r} is not in the form {f.metadata.get('format', pattern)}")
        return value
    else:  # pragma: no cover - a schema bug, not a user error
        raise TypeError(f"unsupported config type {tp!r} at {where}")
    lo, hi = f.metadata.get("min"), f.metadata.get("max")
    if lo is not None and value < lo or hi is not None and value > hi:
        raise ConfigError(f"{where}: {value!r} is out of range [{lo}, {hi}]")
    return value


def _where(source: str, path: tuple[str, ...]) -> str:
    if not path:
        return source
    if len(path) == 1:
        return f"{source}: [{path[0]}]"
    return f"{source}: [{'.'.join(path[:-1])}] {path[-1]}"


def _tname(value: Any) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
            float: "a float"}.get(type(value), type(value).__name__)
