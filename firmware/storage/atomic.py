"""Write files so that a reader (or a crash) never sees half of one, and a capture's files all or none.

One file: the data goes to a hidden temporary name in the same directory, is fsynced, renamed over the final
name, and the directory is fsynced so the rename itself survives a power cut.

A group (a capture's DNG, JPEG and sidecar) cannot be renamed in one system call, so it is published with a
redo journal, the way a database commits: every file is staged and fsynced first; then a small journal naming
each temporary and its final name is written and made durable — the commit point; then the files are renamed
and the journal removed. Recovery (``clean_leftovers``, run before anything reads the directory) completes
every group whose journal exists and removes every temporary without one. So after a crash at any moment —
kill -9, a power cut — a group is, once recovered, either whole under its final names or absent, and the
captures directory stays flat (one stem, three files) for operators, ``camctl files`` and ``fetch``.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
from pathlib import Path
from typing import BinaryIO, Callable, Sequence

from ..errors import StorageError

log = logging.getLogger(__name__)

TMP_PREFIX = ".camerad-tmp-"
JOURNAL_PREFIX = ".camerad-group-"  # a committed group whose renames may not all have happened yet


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

    A failure before the commit (a full disk while staging) removes the temporaries and leaves no file of the
    group under its final name; a crash after it leaves a journal from which the next ``clean_leftovers``
    finishes the group.
    """
    directory = Path(directory)
    staged: list[tuple[Path, Path]] = []
    journal: Path | None = None
    try:
        for name, data in files:
            final = directory / name
            staged.append((_stage(final, data), final))
        journal = _commit(directory, staged)
        for tmp, final in staged:
            os.replace(tmp, final)
    except BaseException as exc:
        if journal is not None:  # committed: the journal stays, and the next start finishes the group
            if isinstance(exc, OSError) and not isinstance(exc, StorageError):
                raise StorageError(exc.errno or errno.EIO, f"cannot rename a capture's files in {directory}: "
                                   f"{exc.strerror or exc}; the next start completes them") from exc
            raise
        error = _storage_error(directory, exc) if isinstance(exc, OSError) and not isinstance(
            exc, StorageError) else None  # made before the temporaries give their space back
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        if error is not None:
            raise error from exc
        raise
    fsync_dir(directory)
    journal.unlink(missing_ok=True)
    return [final for _, final in staged]


def _commit(directory: Path, staged: list[tuple[Path, Path]]) -> Path:
    """Make the group's renames a promise: a durable journal naming each temporary and its final name."""
    journal = directory / f"{JOURNAL_PREFIX}{secrets.token_hex(6)}"
    # Durable with the directory's fsync: the staged files' names and the journal are on disk before any final
    # name appears.
    return atomic_write(journal, json.dumps({"rename": [[tmp.name, final.name] for tmp, final in staged]}).encode())


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
        error = _storage_error(path, exc)  # before the unlink gives the partial file's space back
        tmp.unlink(missing_ok=True)
        raise error from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _storage_error(path: Path, exc: OSError) -> StorageError:
    """The one-line error for a failed write; for ENOSPC it notes what statvfs says is free at that moment."""
    what = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    error = StorageError(exc.errno or errno.EIO, f"cannot write {path}: {what}")
    if exc.errno == errno.ENOSPC:
        error.free_bytes_at_failure = _free_bytes(path if path.is_dir() else path.parent)
    return error


def _free_bytes(directory: Path) -> int | None:
    try:
        st = os.statvfs(directory)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def fsync_dir(directory: str | Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def finish_groups(directory: str | Path) -> list[Path]:
    """Complete every group a crash interrupted after its commit; return the files put under final names."""
    directory = Path(directory)
    done: list[Path] = []
    for journal in sorted(directory.glob(f"{JOURNAL_PREFIX}*")):
        if not journal.is_file():
            continue
        try:
            renames = json.loads(journal.read_bytes())["rename"]
            pairs = [(directory / _plain(t), directory / _plain(f)) for t, f in renames]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Written whole through a rename, so only a damaged card gets here; without it the temporaries
            # go as uncommitted ones do, and what was already renamed stays.
            log.error("capture journal %s is unreadable (%s): removing it", journal, exc)
            journal.unlink(missing_ok=True)
            continue
        for tmp, final in pairs:
            if tmp.exists():
                os.replace(tmp, final)
                done.append(final)
                log.warning("completed %s from %s, left half-written by an earlier crash", final.name, tmp.name)
        fsync_dir(directory)
        journal.unlink()
    return done


def _plain(name: object) -> str:
    if not isinstance(name, str) or not name or name != os.path.basename(name) or name in (".", ".."):
        raise ValueError(f"not a plain file name: {name!r}")
    return name


def clean_leftovers(directory: str | Path) -> list[Path]:
    """Recover ``directory`` after a crash: finish committed groups, then remove every other temporary.

    Returns the temporaries removed (groups finished are logged by ``finish_groups``)."""
    removed: list[Path] = []
    directory = Path(directory)
    if not directory.is_dir():
        return removed
    finish_groups(directory)
    for p in directory.iterdir():
        if p.name.startswith(TMP_PREFIX) and p.is_file():
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed
