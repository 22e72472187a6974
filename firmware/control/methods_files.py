"""Control methods for captures on disk: list them, fetch one file in chunks, delete and prune them.

``fetch`` reads only regular files directly inside the captures directory: the name must be a plain file name
(no ``/``, no ``..``, not hidden), it is opened relative to the directory with ``O_NOFOLLOW``, so neither a
crafted name nor a symbolic link planted in the directory can reach anything else. ``delete`` takes the same
names (or a capture's stem, for all its files) and removes them with ``unlinkat`` relative to the directory.

``files`` leaves out names that are not UTF-8 (a request could never name them, and a response cannot carry
them); it counts them in ``skipped`` so the operator knows they are there. A capture's time is the frame's own,
which its stem spells (``YYYYMMDD-HHMMSS-mmm``), not when the files were written or last copied.

``prune`` picks whole captures, oldest first: older than ``older_than`` seconds, or beyond the newest ``keep``,
and then as many more as it takes to reach ``free`` bytes free. It is a dry run unless ``dry_run`` is false;
camctl shows the dry run, asks, and deletes exactly what the operator saw with ``delete``. Only captures named
as camerad names them are ever pruned; other files are left alone.
"""

from __future__ import annotations

import base64
import os
import re
import stat
import time
from pathlib import Path

from ..storage.atomic import TMP_PREFIX
from .method import Context, Method
from .params import Param
from .protocol import RequestError

CHUNK = 1 << 20  # largest fetch chunk (base64 makes the response about 1.4 MB)
_STEM = re.compile(r"^(\d{8}-\d{6})-(\d{3})(?:-\d+)?$")


def captures_directory(camera) -> Path:
    """Where the camera writes its captures (the preview page serves them from there too)."""
    return Path(camera.snapshot().directory)


def _directory(ctx: Context) -> Path:
    return captures_directory(ctx.camera)


def _free_bytes(ctx: Context) -> int | None:
    return ctx.camera.snapshot().free_bytes


def capture_time(stem: str) -> float | None:
    """The capture's time (epoch seconds) from its stem, None for a name camerad did not give."""
    m = _STEM.match(stem)
    if not m:
        return None
    try:
        return time.mktime(time.strptime(m.group(1), "%Y%m%d-%H%M%S")) + int(m.group(2)) / 1000
    except (ValueError, OverflowError):
        return None


def _shown_time(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) + f".{int(round(t % 1 * 1000)) % 1000:03d}"


def _groups(directory: Path, method: str) -> tuple[dict[str, list[dict]], int]:
    """Captures in ``directory``: stem -> its files (name, size, mtime); and how many names are not UTF-8."""
    groups: dict[str, list[dict]] = {}
    skipped = 0
    try:
        entries = list(os.scandir(directory))
    except OSError as exc:
        raise RequestError("failed", f"{method}: {directory}: {exc.strerror or exc}") from exc
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
            continue
        if not _utf8(entry.name):
            skipped += 1
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:  # deleted meanwhile
            continue
        groups.setdefault(entry.name.split(".", 1)[0], []).append(
            {"name": entry.name, "size": st.st_size, "mtime": st.st_mtime})
    return groups, skipped


def _describe(stem: str, items: list[dict]) -> dict:
    items = sorted(items, key=lambda f: f["name"])
    taken = capture_time(stem)
    return {"stem": stem, "time": _shown_time(taken if taken is not None else max(f["mtime"] for f in items)),
            "captured": taken is not None, "bytes": sum(f["size"] for f in items),
            "files": [{"name": f["name"], "size": f["size"]} for f in items]}


def files(ctx: Context, p: dict) -> dict:
    directory = _directory(ctx)
    groups, skipped = _groups(directory, "files")
    # Stems are capture times (YYYYMMDD-HHMMSS-mmm), so newest first is reverse name order; files camerad did not
    # name come after its captures.
    stems = (sorted(groups, key=lambda s: (capture_time(s) is not None, s), reverse=True) if p["stem"] is None
             else [s for s in groups if s == p["stem"]])
    shown = str(directory).encode("utf-8", "backslashreplace").decode("utf-8")  # a --captures path in any bytes
    return {"directory": shown, "captures": [_describe(s, groups[s]) for s in stems[:p["limit"]]],
            "total": len(stems), "skipped": skipped}


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")  # os.scandir gives undecodable bytes as lone surrogates
    except UnicodeEncodeError:
        return False
    return True


def check_name(name: str, method: str = "fetch") -> str:
    if (not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name or name.startswith(".")
            or name != os.path.basename(name) or name.startswith(TMP_PREFIX) or len(name) > 255):
        raise RequestError("invalid_params", f"{method}: {name!r} is not the name of a file in the captures "
                                             f"directory (no paths, no hidden files)")
    return name


def open_capture(directory: Path, name: str, method: str = "fetch") -> tuple[int, os.stat_result]:
    """A descriptor and the status of the regular file ``name`` directly in ``directory`` (never through a link);
    ``RequestError`` when there is none. The caller closes the descriptor."""
    name = check_name(name, method)
    try:
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise RequestError("failed", f"{method}: {directory}: {exc.strerror or exc}") from exc
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dfd)
    except FileNotFoundError:
        raise RequestError("not_found", f"{method}: no capture file {name!r} in {directory}") from None
    except OSError as exc:  # ELOOP: a symbolic link; EACCES
        raise RequestError("not_found", f"{method}: {name!r} in {directory} cannot be read: "
                                        f"{'a symbolic link' if exc.errno == 40 else exc.strerror}") from None
    finally:
        os.close(dfd)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise RequestError("not_found", f"{method}: {name!r} is not a regular file")
    return fd, st


def fetch(ctx: Context, p: dict) -> dict:
    fd, st = open_capture(_directory(ctx), p["name"])
    try:
        if p["offset"] > st.st_size:
            raise RequestError("out_of_range", f"fetch: offset {p['offset']} is past the end of {p['name']} "
                                               f"({st.st_size} bytes)")
        data = os.pread(fd, p["length"], p["offset"])
    finally:
        os.close(fd)
    end = p["offset"] + len(data)
    return {"name": p["name"], "size": st.st_size, "offset": p["offset"], "length": len(data),
            "data": base64.b64encode(data).decode("ascii"), "eof": end >= st.st_size}


# -- delete, prune -----------------------------------------------------------------------------------------
def _remove(directory: Path, names: list[str]) -> None:
    """Unlink ``names`` relative to the directory (never through a link), then make the removal durable."""
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in names:
            try:
                os.unlink(name, dir_fd=dfd)
            except FileNotFoundError:
                pass  # gone meanwhile: the goal is reached
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _result(ctx: Context, chosen: list[dict], dry_run: bool, directory: Path) -> dict:
    free = _free_bytes(ctx)
    total = sum(c["bytes"] for c in chosen)
    if not dry_run and chosen:
        try:
            _remove(directory, [f["name"] for c in chosen for f in c["files"]])
        except OSError as exc:
            raise RequestError("failed", f"delete: {directory}: {exc.strerror or exc}") from exc
    return {"dry_run": dry_run, "deleted": not dry_run and bool(chosen), "captures": chosen, "bytes": total,
            "free_bytes": free, "free_after": None if free is None else (free if not dry_run else free + total)}


def delete(ctx: Context, p: dict) -> dict:
    directory = _directory(ctx)
    groups, _ = _groups(directory, "delete")
    by_name = {f["name"]: stem for stem, items in groups.items() for f in items}
    chosen: dict[str, list[dict]] = {}
    for name in p["names"]:
        check_name(name, "delete")
        if name in groups:  # a stem: the whole capture
            chosen[name] = list(groups[name])
        elif name in by_name:
            stem = by_name[name]
            chosen.setdefault(stem, []).extend(f for f in groups[stem] if f["name"] == name)
        else:  # all or nothing: nothing is deleted when one name is wrong
            raise RequestError("not_found", f"delete: no capture or file {name!r} in {directory}")
    return _result(ctx, [_describe(s, items) for s, items in sorted(chosen.items())], p["dry_run"], directory)


def prune(ctx: Context, p: dict) -> dict:
    if p["older_than"] is None and p["keep"] is None and p["free"] is None:
        raise RequestError("invalid_params", "prune: give older_than (seconds), keep (captures) or free (bytes)")
    directory = _directory(ctx)
    groups, _ = _groups(directory, "prune")
    captures = sorted((capture_time(s), s) for s in groups if capture_time(s) is not None)  # oldest first
    now = time.time()
    chosen = []
    for rank_from_newest, (taken, stem) in zip(range(len(captures) - 1, -1, -1), captures):
        if ((p["older_than"] is not None and now - taken > p["older_than"])
                or (p["keep"] is not None and rank_from_newest >= p["keep"])):
            chosen.append(stem)
    if p["free"] is not None:
        free = _free_bytes(ctx)
        if free is None:
            raise RequestError("failed", f"prune: cannot tell the free space of {directory}")
        gained = sum(f["size"] for s in chosen for f in groups[s])
        for _, stem in captures:
            if free + gained >= p["free"]:
                break
            if stem not in chosen:
                chosen.append(stem)
                gained += sum(f["size"] for f in groups[stem])
    return _result(ctx, [_describe(s, groups[s]) for s in sorted(chosen)], p["dry_run"], directory)


METHODS = [
    Method("files", files, {"limit": Param(int, default=20, lo=1, hi=100_000),
                            "stem": Param(str, default=None, max_len=255)},
           "captures, newest first (or the one capture named by its stem)"),
    Method("fetch", fetch, {"name": Param(str, max_len=255), "offset": Param(int, default=0, lo=0),
                            "length": Param(int, default=CHUNK, lo=1, hi=CHUNK)},
           "a chunk of one capture file (base64)"),
    Method("delete", delete, {"names": Param(list, item=str, max_items=10_000),
                              "dry_run": Param(bool, default=True)},
           "delete captures (by stem) or files (dry run unless dry_run is false)", changes_state=True),
    Method("prune", prune, {"older_than": Param(float, default=None, lo=0.0),
                            "keep": Param(int, default=None, lo=0),
                            "free": Param(int, default=None, lo=0),
                            "dry_run": Param(bool, default=True)},
           "the oldest captures by age, count or a free-space target (dry run unless dry_run is false)",
           changes_state=True),
]
