"""Control methods for captures on disk: list them, and fetch one file in chunks.

``fetch`` reads only regular files directly inside the captures directory: the name must be a plain file name
(no ``/``, no ``..``, not hidden), it is opened relative to the directory with ``O_NOFOLLOW``, so neither a
crafted name nor a symbolic link planted in the directory can reach anything else.

``files`` leaves out names that are not UTF-8 (a request could never name them, and a response cannot carry
them); it counts them in ``skipped`` so the operator knows they are there.
"""

from __future__ import annotations

import base64
import os
import stat
import time

from ..storage.atomic import TMP_PREFIX
from .method import Context, Method
from .params import Param
from .protocol import RequestError

CHUNK = 1 << 20  # largest fetch chunk (base64 makes the response about 1.4 MB)


def files(ctx: Context, p: dict) -> dict:
    directory = ctx.camera.snapshot().directory
    groups: dict[str, list[dict]] = {}
    skipped = 0
    try:
        entries = list(os.scandir(directory))
    except OSError as exc:
        raise RequestError("failed", f"files: {directory}: {exc.strerror or exc}") from exc
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
            continue
        if not _utf8(entry.name):
            skipped += 1
            continue
        st = entry.stat(follow_symlinks=False)
        stem = entry.name.split(".", 1)[0]
        groups.setdefault(stem, []).append({"name": entry.name, "size": st.st_size, "mtime": st.st_mtime})
    # Stems are capture times (YYYYMMDD-HHMMSS-mmm), so newest first is reverse name order.
    stems = sorted(groups, reverse=True)
    out = []
    for stem in stems[:p["limit"]]:
        items = sorted(groups[stem], key=lambda f: f["name"])
        mtime = max(f["mtime"] for f in items)
        out.append({"stem": stem, "time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(mtime)),
                    "files": [{"name": f["name"], "size": f["size"]} for f in items]})
    shown = str(directory).encode("utf-8", "backslashreplace").decode("utf-8")  # a --captures path in any bytes
    return {"directory": shown, "captures": out, "total": len(stems), "skipped": skipped}


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")  # os.scandir gives undecodable bytes as lone surrogates
    except UnicodeEncodeError:
        return False
    return True


def check_name(name: str) -> str:
    if (not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name or name.startswith(".")
            or name != os.path.basename(name) or name.startswith(TMP_PREFIX)):
        raise RequestError("invalid_params", f"fetch: {name!r} is not the name of a file in the captures "
                                             f"directory (no paths, no hidden files)")
    return name


def fetch(ctx: Context, p: dict) -> dict:
    name = check_name(p["name"])
    directory = ctx.camera.snapshot().directory
    try:
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise RequestError("failed", f"fetch: {directory}: {exc.strerror or exc}") from exc
    try:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dfd)
        except FileNotFoundError:
            raise RequestError("not_found", f"fetch: no capture file {name!r} in {directory}") from None
        except OSError as exc:  # ELOOP: a symbolic link; EACCES
            raise RequestError("not_found", f"fetch: {name!r} in {directory} cannot be read: "
                                            f"{'a symbolic link' if exc.errno == 40 else exc.strerror}") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise RequestError("not_found", f"fetch: {name!r} is not a regular file")
            if p["offset"] > st.st_size:
                raise RequestError("out_of_range", f"fetch: offset {p['offset']} is past the end of {name} "
                                                   f"({st.st_size} bytes)")
            data = os.pread(fd, p["length"], p["offset"])
        finally:
            os.close(fd)
    finally:
        os.close(dfd)
    end = p["offset"] + len(data)
    return {"name": name, "size": st.st_size, "offset": p["offset"], "length": len(data),
            "data": base64.b64encode(data).decode("ascii"), "eof": end >= st.st_size}


METHODS = [
    Method("files", files, {"limit": Param(int, default=20, lo=1, hi=100_000)}, "captures, newest first"),
    Method("fetch", fetch, {"name": Param(str, max_len=255), "offset": Param(int, default=0, lo=0),
                            "length": Param(int, default=CHUNK, lo=1, hi=CHUNK)},
           "a chunk of one capture file (base64)"),
]
