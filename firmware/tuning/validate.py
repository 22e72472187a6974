"""Check a tuning file with libcamera's rules, naming the file, the block and the key of every problem.

libcamera's Raspberry Pi controller reads a file block by block; a block it cannot read makes the whole IPA fail
to start (``-EINVAL``), usually with a terse log line. ``validate`` reads every block the way its module in
``blocks/`` reads it for the ISP (``REGISTRY``) and says exactly where the problem is::

    >>> tf = TuningFile.from_dict({"version": 2.0, "algorithms": [{"rpi.ccm": {"ccms": []}}]}, "x.json")
    >>> [str(i) for i in validate(tf) if i.level == "error"]
    ['x.json: rpi.ccm: ccms: no CCMs specified (libcamera: "No CCMs specified")']

On top of libcamera's own rules, anything that is not a finite number where a number stands (NaN, infinity) and
keys that are not strings are refused wherever they are, so a file that validates also develops a picture.
"""

from __future__ import annotations

import math
from typing import Any, Iterator

from .blocks import REGISTRY, BlockReader
from .file import TuningFile
from .hardware import PLATFORMS, Platform, platform_for
from .issues import LEVELS, Issue, TuningInvalid, errors

__all__ = ["LEVELS", "Issue", "TuningInvalid", "algorithm_type", "check", "errors", "validate"]


def algorithm_type(name: str) -> str:
    """libcamera's algorithm type: the part after the last dot (``rpi.nn.awb`` -> ``awb``)."""
    return name.rsplit(".", 1)[-1]


def _odd_values(params: dict) -> Iterator[tuple[str, str]]:
    """(key path, problem) for every non-finite number and non-string key inside a block, without recursion."""
    stack: list[tuple[str, Any]] = [("", params)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    yield path or "", f"key {k!r} is {_kind(k)}, not a string (libcamera's keys are names)"
                    continue
                stack.append((f"{path}.{k}" if path else k, v))
        elif isinstance(value, list):
            if all(type(v) is int or (type(v) is float and math.isfinite(v)) for v in value):
                continue  # the common case (a table of numbers): nothing to look at
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            yield path, "is NaN" if math.isnan(value) else "is infinite"


def _kind(value: Any) -> str:
    return {int: "an integer", float: "a number", bool: "a boolean"}.get(type(value), f"a {type(value).__name__}")


def validate(tf: TuningFile, platform: str | Platform | None = None) -> list[Issue]:
    """Every issue in ``tf`` by libcamera's rules; ``platform`` (vc4/pisp) also checks the file's target."""
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
        odd = list(_odd_values(params))
        for key, problem in odd:
            issues.append(Issue("error", name, key, problem, src))
        if params.get("enabled", True) is False:
            issues.append(Issue("info", name, "enabled", "block disabled (libcamera skips it)", src))
            continue
        cls = REGISTRY.get(name)
        if cls is None:
            issues.append(Issue("info", name, "", f"unknown algorithm (libcamera logs 'No algorithm found for "
                                                  f"\"{name}\"' and ignores it)", src))
            continue
        kind = algorithm_type(name)
        if kind in seen:
            issues.append(Issue("error", name, "", f"a second '{kind}' algorithm: {seen[kind]} is already one "
                                                   f"(libcamera: \"Algorithm type '{kind}' already exists\")", src))
            continue
        seen[kind] = name
        if not odd:  # the reader would report the same values again
            cls.parse(BlockReader(name, params, target_platform, src, issues))
    return issues


def check(tf: TuningFile, platform: str | Platform | None = None) -> list[Issue]:
    """Validate and raise ``TuningInvalid`` (its message: the first error, and how many more) on any error;
    returns the warnings and notes otherwise."""
    issues = validate(tf, platform)
    bad = errors(issues)
    if bad:
        raise TuningInvalid(bad)
    return issues
