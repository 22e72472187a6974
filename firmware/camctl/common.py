"""What every camctl command shares: subcommand set-up with examples, output as text or JSON, the terminal's
width (every line fits it), and the units a photographer reads."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import textwrap
import unicodedata
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


def output_path(text: str | None, name: str, *, force: bool = True) -> Path:
    """Where to write a file: ``-o`` (a file, or a directory to put ``name`` in), else ``./name``.

    The directory it goes in must exist (camctl makes none); an existing file is refused unless ``force``."""
    if text is not None and not text.strip():
        raise UsageError("-o: an empty path")
    out = Path(text) if text is not None else Path(name)
    out = out / name if out.is_dir() else out
    if not out.parent.is_dir():
        raise UsageError(f"{out}: no directory {out.parent} (camctl creates none)")
    if not force and (out.exists() or out.is_symlink()):
        raise UsageError(f"{out} exists; --force replaces it")
    return out


def emit_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False), flush=True)


def is_tty() -> bool:
    return sys.stdout.isatty()


def colour(text: str, code: str) -> str:
    """ANSI colour on a terminal, plain text in a pipe."""
    return f"\x1b[{code}m{text}\x1b[0m" if is_tty() else text


# -- width -------------------------------------------------------------------------------------------------
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def columns() -> int | None:
    """The width every line must fit: ``$COLUMNS``, else the terminal's; None in a pipe without ``$COLUMNS``
    (a script gets whole lines). One column is kept free: a character in the last column leaves a terminal's
    cursor waiting to wrap, and a redraw in place would then start one row too low."""
    if not os.environ.get("COLUMNS", "").strip().isdigit() and not is_tty():
        return None
    return max(20, shutil.get_terminal_size((80, 24)).columns - 1)


def cells(text: str) -> int:
    """Terminal cells ``text`` takes (colour codes take none, wide characters two)."""
    plain = _ANSI.sub("", text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
               for ch in plain)


def elide(text: str, width: int | None) -> str:
    """``text`` cut in the middle with ``…`` to fit ``width`` (a path keeps its start and its file name)."""
    if width is None or cells(text) <= width:
        return text
    plain = _ANSI.sub("", text)
    keep = max(width - 1, 2)
    head = keep // 3
    return plain[:head] + "…" + plain[len(plain) - (keep - head):]


def wrap(label: str, value: str, width: int | None, indent: int) -> list[str]:
    """``label`` padded to ``indent``, then ``value`` wrapped to ``width`` under itself."""
    first = label.ljust(indent)
    if width is None or cells(first + value) <= width:
        return [first + value]
    lines = textwrap.wrap(value, max(width - indent, 10), break_on_hyphens=False) or [""]
    return [first + lines[0]] + [" " * indent + elide(line, width - indent) for line in lines[1:]]


def say(*lines: str) -> None:
    """Print text lines, each cut to the terminal's width (see ``columns``)."""
    width = columns()
    print("\n".join(elide(line, width) for line in lines))


# -- units -------------------------------------------------------------------------------------------------
KIB = 1024


def human_bytes(n: float | None) -> str:
    """Sizes as the configuration counts them (``reserve_mb = 200`` is 200 MB): 1 MB = 1024 KB = 1048576 B,
    the same figures as the daemon's status line and ``df -h``."""
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < KIB or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" or n == int(n) else f"{n:.1f} {unit}"
        n /= KIB
    return f"{n:.1f} TB"


def shutter_speed(us: float | None) -> str:
    """An exposure as a camera shows it: ``1/76 s`` below 0.3 s, ``0.5 s``, ``2 s`` above."""
    if not us:
        return "?"
    s = us / 1e6
    if s < 0.3:
        return f"1/{1 / s:.0f} s" if s < 0.1 else f"1/{1 / s:.1f} s".replace(".0 ", " ")
    return f"{s:.1f} s".replace(".0 ", " ")


def iso(analogue_gain: float | None, digital_gain: float | None = 1.0) -> str:
    """ISO as the EXIF of the same frame says it: total gain x 100 (gain 1 is ISO 100, libcamera's rule)."""
    if analogue_gain is None:
        return "ISO ?"
    return f"ISO {round(float(analogue_gain) * float(digital_gain or 1.0) * 100):d}"
