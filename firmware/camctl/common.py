"""What every camctl command shares: subcommand set-up with examples, output as text or JSON, tty handling."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


class UsageError(Exception):
    """A command line camctl cannot act on (exit status 2)."""


def subparser(sub, name: str, help: str, examples: str, add_common) -> argparse.ArgumentParser:
    """A subcommand with its examples in ``--help``."""
    p = sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".",
                       epilog="examples:\n" + examples, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common(p)
    return p


def output_path(text: str | None, name: str) -> Path:
    """Where to write a file: ``-o`` (a file, or a directory to put ``name`` in), else ``./name``."""
    if text is not None and not text.strip():
        raise UsageError("-o: an empty path")
    out = Path(text) if text is not None else Path(name)
    return out / name if out.is_dir() else out


def emit_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False), flush=True)


def is_tty() -> bool:
    return sys.stdout.isatty()


def colour(text: str, code: str) -> str:
    """ANSI colour on a terminal, plain text in a pipe."""
    return f"\x1b[{code}m{text}\x1b[0m" if is_tty() else text


def human_bytes(n: float | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} TB"
