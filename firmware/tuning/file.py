"""A libcamera tuning file in memory: version, target, and the ordered list of algorithm blocks.

libcamera reads tuning files with its YAML parser, so files with trailing commas or tabs that strict JSON
rejects still load there; we accept the same (``json`` first, then PyYAML's loader) and always write strict
JSON, which ``Picamera2.load_tuning_file`` needs.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TuningError
from ..textfile import read_text
from ..storage.atomic import atomic_write

TARGETS = {"bcm2835": "vc4", "pisp": "pisp"}
MAX_DEPTH = 32  # libcamera's files nest 5 levels at most; deeper data would overflow Python's recursion later


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    return {int: "an integer", float: "a number", bool: "a boolean"}.get(type(value), f"a {type(value).__name__}")


def _too_deep(params: dict) -> str | None:
    """The key path where ``params`` nests deeper than ``MAX_DEPTH``, or None (walked without recursion)."""
    stack: list[tuple[Any, int, str]] = [(params, 1, "")]
    while stack:
        value, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            return path
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{path}.{k}" if path else str(k)) for k, v in value.items()
                         if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(value) if isinstance(v, (dict, list)))
    return None


@dataclass
class TuningFile:
    version: float
    target: str
    algorithms: list[tuple[str, dict]] = field(default_factory=list)
    source: str = "<memory>"

    @classmethod
    def load(cls, path: str | Path) -> "TuningFile":
        return cls.loads(read_text(path, "tuning file", TuningError), source=str(path))

    @classmethod
    def loads(cls, text: str, source: str = "<string>") -> "TuningFile":
        return cls.from_dict(parse_text(text, source), source)

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> "TuningFile":
        if not isinstance(data, dict):
            raise TuningError(f"{source}: top level must be an object, got {type(data).__name__}")
        version = data.get("version", 1.0)
        if isinstance(version, str):  # libcamera's YAML reads a quoted number as the number
            try:
                version = float(version)
            except ValueError:
                pass
        if isinstance(version, bool) or not isinstance(version, (int, float)) or not math.isfinite(version) \
                or abs(version) > 1e6:
            raise TuningError(f"{source}: version: must be a finite number such as 2.0, got {_short(version)}")
        version = float(version)
        if version < 2.0:
            # Legacy 1.0 files are a flat object of algorithm blocks (libcamera still reads them, with a warning).
            algos = [(k, v) for k, v in data.items() if k != "version"]
            target = "bcm2835"
        else:
            target = data.get("target", "bcm2835")
            raw = data.get("algorithms")
            if not isinstance(raw, list):
                raise TuningError(f"{source}: 'algorithms' must be a list of single-key objects")
            algos = []
            for i, entry in enumerate(raw):
                if not isinstance(entry, dict) or len(entry) != 1:
                    raise TuningError(f"{source}: algorithms[{i}] must be an object with exactly one key")
                (name, params), = entry.items()
                algos.append((name, params))
        for name, params in algos:
            if not isinstance(name, str):
                raise TuningError(f"{source}: block name {_short(name)} is {_kind(name)}, not a string such as "
                                  "\"rpi.ccm\"")
            if not isinstance(params, dict):
                raise TuningError(f"{source}: {name}: must be an object, got {type(params).__name__}")
            deep = _too_deep(params)
            if deep is not None:
                deep = deep if len(deep) <= 40 else deep[:37] + "..."
                raise TuningError(f"{source}: {name}: {deep}: nested more than {MAX_DEPTH} levels deep "
                                  "(no libcamera block nests more than a few)")
        return cls(version=version, target=str(target), algorithms=algos, source=source)

    @property
    def platform(self) -> str:
        """``vc4`` or ``pisp``, the directory libcamera keeps this target's files in."""
        return TARGETS.get(self.target, self.target)

    def names(self) -> list[str]:
        return [name for name, _ in self.algorithms]

    def block(self, name: str, *, enabled_only: bool = True) -> dict | None:
        """The parameters of block ``name`` (e.g. ``"rpi.ccm"``), or None when absent or disabled."""
        for n, params in self.algorithms:
            if n == name:
                if enabled_only and params.get("enabled", True) is False:
                    return None
                return params
        return None

    def set_block(self, name: str, params: dict) -> None:
        """Replace block ``name`` in place, or append it at the end when the file has none."""
        for i, (n, _) in enumerate(self.algorithms):
            if n == name:
                self.algorithms[i] = (name, params)
                return
        self.algorithms.append((name, params))

    def copy(self) -> "TuningFile":
        return TuningFile(self.version, self.target, copy.deepcopy(self.algorithms), self.source)

    def to_dict(self) -> dict:
        # Always the 2.0 layout (a list of single-key blocks): a legacy 1.0 file is converted on the way out,
        # as libcamera's deprecation warning asks.
        return {"version": max(float(self.version), 2.0), "target": self.target,
                "algorithms": [{name: params} for name, params in self.algorithms]}

    def dumps(self) -> str:
        return json.dumps(self.to_dict(), indent=4, allow_nan=False) + "\n"

    def save(self, path: str | Path) -> None:
        """Write strict JSON atomically (temporary name, fsync, rename)."""
        atomic_write(path, self.dumps().encode("utf-8"))


def parse_text(text: str, source: str) -> Any:
    """JSON, or - as libcamera's YAML parser allows - JSON with trailing commas and tabs."""
    try:
        return _parse(text, source)
    except RecursionError:
        raise TuningError(f"{source}: nested too deeply to read (no libcamera block nests more than a few "
                          "levels)") from None


def _parse(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as json_exc:
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            pass
        # PyYAML refuses tabs as indentation, which libcamera's parser tolerates; flow-style JSON does not
        # need them, so replace them with spaces and try again.
        try:
            return yaml.safe_load(text.replace("\t", " "))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise TuningError(f"{source}: not valid JSON or YAML{where}: "
                              f"{getattr(exc, 'problem', None) or json_exc.msg}") from None
