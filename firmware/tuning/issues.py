"""What is wrong with a tuning file: one ``Issue`` per finding, and the error that carries them.

Levels: ``error`` (libcamera refuses the file, or our ISP would misbehave), ``warning`` (libcamera accepts it, but
something is almost certainly wrong), ``info`` (worth knowing: unknown blocks and keys, disabled blocks, legacy
format).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..errors import TuningError

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
    """A tuning file libcamera would refuse; ``issues`` lists every error found, the message names the first."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(f"{issues[0]}{more}" if issues else "invalid tuning file")


def errors(issues: Iterable[Issue]) -> list[Issue]:
    return [i for i in issues if i.level == "error"]
