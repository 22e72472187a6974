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
from typing import BinaryIO, Callable, Sequence

from ..errors import StorageError

TMP_PREFIX = ".camerad-tmp-"


Data = bytes | bytearray | memoryview | Callable[[BinaryIO], None]


def atomic_write(path: str | Path, data: Data, *, sync_dir: bool = True) -> Path:
    """Atomically create or replace ``path`` with ``data`` (bytes, or a function writing to a binary file)."""
    path = Path(path)
    tmp = _stage(path, data)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _storage_error(path, exc) from exc
    if sync_dir:
        fsync_dir(path.parent)
    return path


def write_group(directory: str | Path, files: Sequence[tuple[str, Data]]) -> list[Path]:
    """Write several files that belong together (a capture's DNG, JPEG and sidecar) all or nothing.

    Every file is written and fsynced under a temporary name first; only when all of them are on disk are
    they renamed, in order, and the directory fsynced once. A failure (a full disk) on any file removes
    the temporaries and leaves no file of the group under its final name.
    """
    directory = Path(directory)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, data in files:
            final = directory / name
            staged.append((_stage(final, data), final))
        for tmp, final in staged:
            os.replace(tmp, final)
    except BaseException as exc:
        for tmp, final in staged:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, StorageError):
            raise _storage_error(directory, exc) from exc
        raise
    fsync_dir(directory)
    return [final for _, final in staged]


def _stage(path: Path, data: Data) -> Path:
    """Write ``data`` to a fsynced temporary beside ``path``; return the temporary's name."""
    tmp = path.with_name(f"{TMP_PREFIX}{secrets.token_hex(4)}-{path.name}")
    try:
        with open(tmp, "xb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _storage_error(path, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _storage_error(path: Path, exc: OSError) -> StorageError:
    what = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return StorageError(exc.errno or errno.EIO, f"cannot write {path}: {what}")


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
