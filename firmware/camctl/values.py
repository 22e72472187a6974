"""How camctl reads values from its command line: numbers finite and in range, settings as KEY=VALUE.

JSON has no NaN or Infinity and the daemon refuses them; camctl refuses them first, in one line that names
the argument, instead of failing to encode the request. Ranges that depend on the sensor (exposure, gain,
timelapse interval) are the daemon's to check: camctl only checks what makes no sense anywhere.
"""

from __future__ import annotations

import argparse
import math
import re
from typing import Any, Callable

from ..control.protocol import SETTING_KEYS as KEYS
from .common import UsageError


def finite(text: str) -> float:
    """``text`` as a finite number; ``ValueError`` naming it otherwise (``nan``, ``inf``, ``1e999``, ``x``)."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def number(kind: type = float, lo: float | None = None, hi: float | None = None, *,
           above: float | None = None) -> Callable[[str], Any]:
    """An argparse ``type``: an int or a finite float, at least ``lo`` (or more than ``above``), at most ``hi``."""

    def read(text: str):
        try:
            value = int(text) if kind is int else finite(text)
        except ValueError as exc:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}" if kind is int else str(exc)) from None
        if above is not None and not value > above:
            raise argparse.ArgumentTypeError(f"must be more than {above:g}, got {text}")
        if lo is not None and value < lo:
            raise argparse.ArgumentTypeError(f"must be at least {lo:g}, got {text}")
        if hi is not None and value > hi:
            raise argparse.ArgumentTypeError(f"must be at most {hi:g}, got {text}")
        return value

    read.__name__ = kind.__name__
    return read


# What camctl's options accept.
SECONDS = number(float, hi=86400.0, above=0.0)   # --timeout, --interval
POSITIVE = number(int, lo=1)                     # --count of frames, --limit
COUNT_OR_ZERO = number(int, lo=0)                # --count of refreshes (0: until Ctrl-C), --width (0: auto)
ROWS = number(int, lo=1, hi=100)                 # --height
COLUMNS = number(int, lo=0, hi=10000)            # --width


def parse_evs(text: str) -> list[float]:
    """``--bracket -2,0,2``: 2 to 9 finite EV offsets."""
    try:
        evs = [finite(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected EV offsets like -2,0,2: {exc}") from None
    if not 2 <= len(evs) <= 9:
        raise argparse.ArgumentTypeError(f"a bracket has 2 to 9 frames, got {len(evs)}")
    return evs


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(us|µs|ms|s)$")
_FORMS = {"exposure": "microseconds, 10ms, 0.5s, 1/250 or auto", "gain": "a number or auto",
          "ev": "stops, e.g. -1.5", "colour_gains": "RED,BLUE e.g. 1.9,1.6, or auto", "raw": "on or off"}


def parse_setting(item: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE in the form the key takes (checked against the sensor by the daemon)."""
    if "=" not in item:
        raise UsageError(f"{item!r}: expected KEY=VALUE (keys: {', '.join(KEYS)})")
    key, text = (part.strip() for part in item.split("=", 1))
    key = key.replace("-", "_")
    if key == "colour_gain" or key == "color_gains":
        key = "colour_gains"
    low = text.lower()
    try:
        if low == "auto" and key in ("exposure", "gain", "colour_gains"):
            return key, "auto"
        if key == "exposure":
            return key, exposure_us(low)
        if key in ("gain", "ev"):
            return key, finite(low)
        if key == "colour_gains":
            parts = low.replace(" ", "").split(",")
            if len(parts) != 2:
                raise ValueError(f"{text!r} is not two numbers")
            return key, [finite(v) for v in parts]
        if key == "raw":
            if low in ("on", "true", "yes", "1"):
                return key, True
            if low in ("off", "false", "no", "0"):
                return key, False
            raise ValueError(f"{text!r} is neither on nor off")
    except ValueError as exc:
        raise UsageError(f"{key}: {_reason(exc, text)} ({_FORMS.get(key, 'see camctl set --help')})") from None
    return key, text


def exposure_us(text: str) -> int:
    """``1/250``, ``10ms``, ``0.5s`` or whole microseconds, as whole microseconds."""
    if text.startswith("1/"):
        speed = finite(text[2:])
        if speed <= 0:
            raise ValueError(f"1/{text[2:]} is not a shutter speed (1/N with N more than 0)")
        us = 1e6 / speed
    else:
        m = _DURATION.match(text)
        us = float(m.group(1)) * {"us": 1, "µs": 1, "ms": 1e3, "s": 1e6}[m.group(2)] if m else int(text)
    if not math.isfinite(us) or us > 2**53:
        raise ValueError(f"{text!r} is too long an exposure")
    return int(round(us))


def _reason(exc: ValueError, text: str) -> str:
    why = str(exc)
    if why.startswith("invalid literal for int()"):
        return f"{text!r} is not a whole number of microseconds"
    return why if why.startswith(repr(text)) or why.startswith("1/") else f"{text!r}: {why}"
