"""Check a tuning file with libcamera's own rules, naming the file, the block and the key of every problem.

libcamera's Raspberry Pi controller reads a file block by block; a block it cannot read makes the whole IPA fail
to start (``-EINVAL``), usually with a terse log line. ``validate`` applies the same rules up front and says
exactly where the problem is::

    >>> tf = TuningFile.from_dict({"version": 2.0, "algorithms": [{"rpi.ccm": {"ccms": []}}]}, "x.json")
    >>> [str(i) for i in validate(tf) if i.level == "error"]
    ['x.json: rpi.ccm: ccms: no CCMs specified (libcamera: "No CCMs specified")']

Levels: ``error`` (libcamera refuses the file, or the ISP would misbehave), ``warning`` (libcamera accepts it,
but something is almost certainly wrong), ``info`` (worth knowing: unknown blocks and keys, which libcamera
ignores, disabled blocks, legacy format).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

from ..errors import TuningError
from .file import TuningFile
from .hardware import PLATFORMS, Platform, platform_for

LEVELS = ("error", "warning", "info")


@dataclass(frozen=True)
class Issue:
    """One finding: how bad, where (block and key, empty for the file itself) and what."""

    level: str
    block: str
    key: str
    message: str
    source: str = "<memory>"

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.source, self.block, self.key) if p)
        return f"{where}: {self.message}"


class TuningInvalid(TuningError):
    """A tuning file libcamera would refuse; ``issues`` lists every error found."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(f"{issues[0]}{more}" if issues else "invalid tuning file")


class BlockChecker:
    """Reads one block's values the way libcamera's ``YamlObject::get<T>()`` does, recording what is wrong."""

    def __init__(self, block: str, params: dict, platform: Platform, issues: list[Issue], source: str):
        self.block = block
        self.params = params
        self.platform = platform
        self.issues = issues
        self.source = source

    # -- recording ---------------------------------------------------------------------------------------
    def add(self, level: str, key: str, message: str) -> None:
        self.issues.append(Issue(level, self.block, key, message, self.source))

    def error(self, key: str, message: str) -> None:
        self.add("error", key, message)

    def warn(self, key: str, message: str) -> None:
        self.add("warning", key, message)

    def info(self, key: str, message: str) -> None:
        self.add("info", key, message)

    # -- values --------------------------------------------------------------------------------------------
    def number(self, value: Any, key: str, *, integer: bool = False, lo: float | None = None,
               hi: float | None = None, lo_open: bool = False) -> float | None:
        """A number as libcamera parses a scalar; None (and an error) when it would not parse."""
        what = "an integer" if integer else "a number"
        if value is None:
            self.error(key, f"must be {what}, got nothing (null)")
            return None
        if isinstance(value, bool):
            self.error(key, f"must be {what}, got {str(value).lower()}")
            return None
        if isinstance(value, str):
            try:
                parsed = int(value) if integer else float(value)
            except ValueError:
                self.error(key, f"must be {what}, got the string {value!r}")
                return None
            self.warn(key, f"is the string {value!r}: libcamera reads it as a number, strict JSON readers "
                           "(Picamera2) see a string")
            value = parsed
        if isinstance(value, (list, dict)):
            self.error(key, f"must be {what}, got {'a list' if isinstance(value, list) else 'an object'}")
            return None
        if not isinstance(value, (int, float)):
            self.error(key, f"must be {what}, got {type(value).__name__}")
            return None
        if isinstance(value, float) and math.isnan(value):
            self.error(key, "is NaN")
            return None
        if isinstance(value, float) and math.isinf(value):
            self.error(key, "is infinite")
            return None
        if integer and isinstance(value, float):
            # libcamera parses integer keys with strtol and rejects "1.0" or "1.5" outright.
            self.error(key, f"must be an integer, got {value!r} (libcamera rejects a decimal point here)")
            return None
        v = float(value)
        if lo is not None and (v <= lo if lo_open else v < lo):
            self.error(key, f"{value!r} must be {'>' if lo_open else '>='} {lo:g}")
            return None
        if hi is not None and v > hi:
            self.error(key, f"{value!r} must be <= {hi:g}")
            return None
        return v

    def key(self, key: str, *, required: bool = False, **kw) -> float | None:
        """The number at ``key`` of the block (optional unless ``required``)."""
        if key not in self.params:
            if required:
                self.error(key, "missing (required)")
            return None
        return self.number(self.params[key], key, **kw)

    def keys(self, names: Iterable[str], **kw) -> None:
        for name in names:
            self.key(name, **kw)

    def numbers(self, value: Any, key: str, *, length: int | None = None, min_length: int = 0,
                **kw) -> list[float] | None:
        """A list of numbers; None (with an error) when it is not one or its length is wrong."""
        if not isinstance(value, list):
            self.error(key, f"must be a list of numbers, got {_kind(value)}")
            return None
        out = []
        for i, v in enumerate(value):
            n = self.number(v, f"{key}[{i}]", **kw)
            if n is None:
                return None
            out.append(n)
        if length is not None and len(out) != length:
            self.error(key, f"has {len(out)} values, expected {length}")
            return None
        if len(out) < min_length:
            self.error(key, f"has {len(out)} values, needs at least {min_length}")
            return None
        return out

    def pwl(self, value: Any, key: str, *, x_range: tuple[float, float] | None = None) -> list[float] | None:
        """A piecewise-linear function ``[x0, y0, x1, y1, ...]`` (or one number) with strictly increasing x."""
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            n = self.number(value, key)
            return None if n is None else [0.0, n]
        flat = self.numbers(value, key)
        if flat is None:
            return None
        if not flat or len(flat) % 2:
            self.error(key, f"must hold x, y pairs, got {len(flat)} numbers")
            return None
        xs = flat[0::2]
        for i in range(1, len(xs)):
            if xs[i] <= xs[i - 1]:
                self.error(key, f"x values must increase: x[{i}] = {xs[i]:g} after {xs[i - 1]:g}")
                return None
        if x_range is not None and (xs[0] < x_range[0] or xs[-1] > x_range[1]):
            self.error(key, f"x spans {xs[0]:g}..{xs[-1]:g}, outside {x_range[0]:g}..{x_range[1]:g}")
            return None
        return flat

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

        ``message`` is formatted with ``v`` and ``last`` for the error when it does not.
        """
        last = None
        for i, e in enumerate(entries or []):
            e = self.mapping(e, f"{key}[{i}]")
            if e is None:
                continue
            v = self.number(e.get(field), f"{key}[{i}].{field}", **kw)
            if v is not None and last is not None and v <= last:
                self.error(f"{key}[{i}].{field}", message.format(v=v, last=last))
            last = v if v is not None else last
            yield i, e, v

    def unknown_keys(self, known: Iterable[str]) -> None:
        known = set(known) | {"enabled"}
        for k in self.params:
            if k not in known:
                self.info(k, "not a key libcamera reads in this block (ignored; a typo?)")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    return {dict: "an object", list: "a list", str: f"the string {value!r}"}.get(type(value), repr(value))


def algorithm_type(name: str) -> str:
    """libcamera's algorithm type: the part after the last dot (``rpi.nn.awb`` -> ``awb``)."""
    return name.rsplit(".", 1)[-1]


def validate(tf: TuningFile, platform: str | Platform | None = None) -> list[Issue]:
    """Every issue in ``tf`` by libcamera's rules; ``platform`` (vc4/pisp) also checks the file's target."""
    from .rules import RULES

    issues: list[Issue] = []
    src = tf.source

    def file_issue(level, key, message):
        issues.append(Issue(level, "", key, message, src))

    if tf.version >= 3.0:
        file_issue("error", "version", f"{tf.version:g} is not supported (libcamera reads 1.0 and 2.x)")
    elif tf.version < 2.0:
        file_issue("info", "version", "legacy 1.0 format (libcamera reads it with a deprecation warning; "
                                      "saving writes 2.0)")
    target_platform = PLATFORMS.get(tf.target)
    if target_platform is None or tf.target not in ("bcm2835", "pisp"):
        file_issue("error", "target", f"{tf.target!r} is not a Raspberry Pi ISP target (bcm2835 or pisp)")
        target_platform = PLATFORMS["vc4"]
    if platform is not None:
        want = platform if isinstance(platform, Platform) else platform_for(platform)
        if want.target != tf.target:
            file_issue("error", "target", f"{tf.target!r} does not match the {want.name} platform, which needs "
                                          f"{want.target!r} (libcamera: \"Tuning file version mismatch\")")
    if not tf.algorithms:
        file_issue("warning", "algorithms", "no algorithm blocks: the camera runs with no tuning at all")

    seen: dict[str, str] = {}
    for name, params in tf.algorithms:
        if params.get("enabled", True) is False:
            issues.append(Issue("info", name, "enabled", "block disabled (libcamera skips it)", src))
            continue
        rule = RULES.get(name)
        if rule is None:
            issues.append(Issue("info", name, "", f"unknown algorithm (libcamera logs 'No algorithm found for "
                                                  f"\"{name}\"' and ignores it)", src))
            continue
        kind = algorithm_type(name)
        if kind in seen:
            issues.append(Issue("error", name, "", f"a second '{kind}' algorithm: {seen[kind]} is already one "
                                                   f"(libcamera: \"Algorithm type '{kind}' already exists\")", src))
            continue
        seen[kind] = name
        rule(BlockChecker(name, params, target_platform, issues, src))
    return issues


def errors(issues: Iterable[Issue]) -> list[Issue]:
    return [i for i in issues if i.level == "error"]


def check(tf: TuningFile, platform: str | Platform | None = None) -> list[Issue]:
    """Validate and raise ``TuningInvalid`` on any error; returns the warnings and notes otherwise."""
    issues = validate(tf, platform)
    bad = errors(issues)
    if bad:
        raise TuningInvalid(bad)
    return issues
