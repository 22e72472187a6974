"""camctl's file commands: list captures, fetch one (only from the captures directory, by name)."""

from __future__ import annotations

import base64
import sys

from ..storage.atomic import atomic_write
from .common import UsageError, emit_json, human_bytes, is_tty, output_path, subparser
from .values import POSITIVE


def run_files(client, args) -> int:
    res = client.call("files", limit=args.limit)
    if args.json:
        emit_json(res)
        return 0
    for cap in res["captures"]:
        files = "  ".join(f"{f['name'].split('.', 1)[1]} {human_bytes(f['size'])}" for f in cap["files"])
        print(f"{cap['stem']}  {cap['time']}  {files}")
    shown = len(res["captures"])
    print(f"{shown} of {res['total']} capture(s) in {res['directory']}" if shown < res["total"]
          else f"{res['total']} capture(s) in {res['directory']}")
    if res.get("skipped"):
        print(f"({res['skipped']} file(s) not listed: their names are not UTF-8)")
    return 0


def run_fetch(client, args) -> int:
    name = args.name
    if not name.strip() or "/" in name or name in (".", "..") or name.startswith("."):
        raise UsageError(f"{name!r}: give a file name from camctl files (no paths)")
    out = output_path(args.output, name)
    chunks, offset, size = [], 0, None
    while True:
        res = client.call("fetch", name=name, offset=offset)
        data = base64.b64decode(res["data"])
        chunks.append(data)
        offset += len(data)
        size = res["size"]
        if is_tty() and not args.json:
            sys.stderr.write(f"\r{name}: {human_bytes(offset)} of {human_bytes(size)}")
        if res["eof"] or not data:
            break
    if is_tty() and not args.json:
        sys.stderr.write("\n")
    body = b"".join(chunks)
    if len(body) != size:  # the file changed while it was read
        raise UsageError(f"{name}: got {len(body)} bytes, the file has {size}; try again")
    atomic_write(out, body)  # never a half-fetched file under the final name
    if args.json:
        emit_json({"name": name, "path": str(out), "size": size})
    else:
        print(f"{out} ({human_bytes(size)})")
    return 0


def register(sub, add_common) -> None:
    p = subparser(sub, "files", "the captures on the camera, newest first", """\
  camctl files                      the 20 newest captures
  camctl files --limit 100
  camctl --json files | jq -r '.captures[].files[].name'
""", add_common)
    p.add_argument("--limit", type=POSITIVE, default=20, metavar="N", help="captures to list (default 20)")
    p.set_defaults(run=run_files)

    p = subparser(sub, "fetch", "copy one capture file from the captures directory", """\
  camctl fetch 20250101-120000-000.jpg                  into the current directory
  camctl fetch 20250101-120000-000.dng -o ~/raw/        into a directory
  camctl fetch 20250101-120000-000.jpg -o shot.jpg
""", add_common)
    p.add_argument("name", help="a file name as camctl files lists it")
    p.add_argument("-o", "--output", metavar="PATH", help="file or directory to write (default: ./NAME)")
    p.set_defaults(run=run_fetch)
