"""``get`` and ``set`` on the wire: each JSON value checked against what the camera says the setting accepts.

What the settings mean and how they apply is the camera's (``firmware.camera.settings``); here a ``set`` with
several keys is checked as a whole, naming the first bad value with its error code, before anything changes.
"""

from __future__ import annotations

from typing import Any

from ..camera import Camerad
from .params import Param, check_value
from .protocol import SETTING_KEYS as KEYS, RequestError


def get(camera: Camerad, keys: list[str] | None = None) -> dict[str, Any]:
    values = camera.setting_values()
    for key in keys or []:
        if key not in values:
            raise RequestError("not_found", f"get: {key!r} is not a setting (settings: {', '.join(KEYS)})")
    return {str(k): values[k] for k in (keys or KEYS)}


def check(camera: Camerad, values: dict[str, Any]) -> dict[str, Any]:
    """Every value checked and converted (``RequestError`` naming the first bad one); nothing is applied."""
    if not values:
        raise RequestError("invalid_params", "set: give at least one KEY=VALUE")
    allowed = camera.setting_ranges()
    out = {}
    for key, value in values.items():
        if key not in KEYS:
            raise RequestError("not_found", f"set: {key!r} is not a setting (settings: {', '.join(KEYS)})")
        if key not in allowed:
            raise RequestError("unavailable", f"set: {key}: this camera has no control for it")
        out[key] = _check_one(key, value, allowed[key])
    return out


def _check_one(key: str, value: Any, r: dict[str, Any]) -> Any:
    where = f"set: {key}"
    if r.get("auto") and value == "auto":
        return "auto"
    if r["type"] in ("integer", "number"):
        return check_value(where, Param(int if r["type"] == "integer" else float, lo=r["min"], hi=r["max"]), value)
    if key == "colour_gains":
        gains = check_value(where, Param(list, item=float, lo=0.0, hi=r["max"], max_items=2), value)
        if len(gains) != 2:
            raise RequestError("invalid_params", f"{where}: expected [red, blue] (two numbers) or \"auto\", "
                                                 f"got {value!r}")
        if min(gains) <= 0:
            raise RequestError("out_of_range", f"{where}: gains must be above 0, got {gains}")
        return gains
    if r["type"] == "boolean":
        return check_value(where, Param(bool), value)
    return check_value(where, Param(str, choices=tuple(r["choices"])), value)
