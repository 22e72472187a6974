"""Typed, ranged parameters of control methods: every request's params are checked here before a method runs.

>>> spec = {"count": Param(int, default=1, lo=1, hi=256)}
>>> check_params("capture", spec, {"count": 3})
{'count': 3}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from .protocol import RequestError

_MISSING = object()
_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false", list: "a list",
          dict: "an object"}


@dataclass(frozen=True)
class Param:
    """One parameter: its JSON type, default (absent: required), range or choices, and limits on lists."""

    kind: type
    default: Any = _MISSING
    lo: float | None = None
    hi: float | None = None
    choices: tuple | None = None
    item: type | None = None  # element type of a list
    max_items: int | None = None
    max_len: int | None = None  # longest string

    @property
    def required(self) -> bool:
        return self.default is _MISSING


def check_params(method: str, spec: Mapping[str, Param], params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` checked against ``spec`` with defaults filled in; ``RequestError`` names the first problem."""
    unknown = sorted(set(params) - set(spec))
    if unknown:
        known = ", ".join(spec) or "none"
        raise RequestError("invalid_params", f"{method}: unknown parameter(s) {', '.join(unknown)} "
                                             f"(parameters: {known})")
    out = {}
    for name, p in spec.items():
        if name not in params or params[name] is None and not p.required:
            if p.required:
                raise RequestError("invalid_params", f"{method}: {name} is required")
            out[name] = p.default
            continue
        out[name] = check_value(f"{method}: {name}", p, params[name])
    return out


def check_value(where: str, p: Param, value: Any) -> Any:
    value = _typed(where, p.kind, value)
    if p.kind is list:
        if p.max_items is not None and len(value) > p.max_items:
            raise RequestError("out_of_range", f"{where}: at most {p.max_items} items, got {len(value)}")
        if p.item is not None:
            value = [_typed(f"{where}[{i}]", p.item, v) for i, v in enumerate(value)]
            for i, v in enumerate(value):
                _range(f"{where}[{i}]", p, v)
        return value
    if p.kind is str and p.max_len is not None and len(value) > p.max_len:
        raise RequestError("out_of_range", f"{where}: longer than {p.max_len} characters")
    if p.choices is not None and value not in p.choices:
        raise RequestError("out_of_range", f"{where}: {value!r} is not one of {', '.join(map(str, p.choices))}")
    _range(where, p, value)
    return value


def _typed(where: str, kind: type, value: Any) -> Any:
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RequestError("invalid_params", f"{where}: expected {_NAMES[kind]}, got {_show(value)}")
        value = float(value)
        if not math.isfinite(value):
            raise RequestError("out_of_range", f"{where}: must be finite, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise RequestError("invalid_params", f"{where}: expected {_NAMES[kind]}, got {_show(value)}")
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise RequestError("invalid_params", f"{where}: expected {_NAMES[kind]}, got {_show(value)}")
        return value
    if not isinstance(value, kind):
        raise RequestError("invalid_params", f"{where}: expected {_NAMES.get(kind, kind.__name__)}, "
                                             f"got {_show(value)}")
    return value


def _range(where: str, p: Param, value: Any) -> None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if (p.lo is not None and value < p.lo) or (p.hi is not None and value > p.hi):
            bounds = f"[{_num(p.lo, '-inf')}, {_num(p.hi, 'inf')}]"
            raise RequestError("out_of_range", f"{where}: {value!r} is out of range {bounds}")


def _num(x, unbounded: str) -> str:
    if x is None:
        return unbounded
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
