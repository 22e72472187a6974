"""Reading the firmware's text files (configuration, board profiles, tuning) with errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


def read_text(path: str | Path, what: str, error: type[Exception]) -> str:
    """The UTF-8 text of ``path``; ``error`` says "<path>: <what> not found" or why it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read {what}: {exc}") from None


def parse_toml(text: str, source: str, error: type[Exception]) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: TOML syntax error: {exc}") from None
