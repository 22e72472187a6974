"""Write files so that a reader (or a crash) never sees half of one.

The data goes to a hidden temporary name in the same directory, is fsynced, renamed over the final name, and
the directory is fsynced so the rename itself survives a power cut. Leftover temporaries from a crash carry
``TMP_PREFIX`` and are removed by ``clean_leftovers`` at start-up.
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path
from typing import BinaryIO, Callable

from ..errors import StorageError

TMP_PREFIX = ".camerad-tmp-"


def atomic_write(path: str | Path, data: bytes | bytearray | memoryview | Callable[[BinaryIO], None],
                 *, sync_dir: bool = True) -> Path:
    """Atomically create or replace ``path`` with ``data`` (bytes, or a function writing to a binary file)."""
    path = Path(path)
    tmp = path.with_name(f"{TMP_PREFIX}{secrets.token_hex(4)}-{path.name}")
    try:
        with open(tmp, "xb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        what = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise StorageError(exc.errno or errno.EIO, f"cannot write {path}: {what}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        fsync_dir(path.parent)
    return path


def fsync_dir(directory: str | Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_leftovers(directory: str | Path) -> list[Path]:
    """Remove temporaries a crash left behind in ``directory``; return what was removed."""
    removed = []
    directory = Path(directory)
    if not directory.is_dir():
        return removed
    for p in directory.iterdir():
        if p.name.startswith(TMP_PREFIX) and p.is_file():
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed
