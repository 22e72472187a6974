"""Where camtune writes: into directories that exist. A mistyped ``-o /nonexistent/dir/x.jpg`` is refused in
one line instead of leaving a tree of new directories behind; only a batch's own output directory (``-o
developed/``) is made, and only inside one that exists."""

from __future__ import annotations

from pathlib import Path

from ..errors import CameradError


class OutputError(CameradError, ValueError):
    """An output path camtune will not write to."""


def output_dir(directory: Path, *, may_create: bool = False) -> Path:
    """``directory``, checked to exist (or, with ``may_create``, made when its parent exists)."""
    if directory.is_dir():
        return directory
    if directory.exists():
        raise OutputError(f"{directory}: not a directory")
    if may_create and directory.parent.is_dir():
        directory.mkdir()
        return directory
    raise OutputError(f"{directory}: no such directory (camtune creates none; make it first)")
