"""camctl's file commands: list captures, fetch them (only from the captures directory, by name), delete and
prune them (a dry run first: the operator sees what goes, then confirms)."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

from ..storage.atomic import atomic_write
from .common import UsageError, cells, columns, elide, emit_json, human_bytes, is_tty, output_path, say, subparser
from .values import POSITIVE, age_seconds, size_bytes


def run_files(client, args) -> int:
    res = client.call("files", limit=args.limit)
    if args.json:
        emit_json(res)
        return 0
    width = columns()
    for cap in res["captures"]:
        kinds = "  ".join(f"{f['name'].split('.', 1)[1] if '.' in f['name'] else '-'} {human_bytes(f['size'])}"
                          for f in cap["files"])
        say(f"{cap['stem']}  {cap['time'][5:19]}  {kinds}")
    shown = len(res["captures"])
    head = f"{shown} of {res['total']} capture(s) in" if shown < res["total"] else f"{res['total']} capture(s) in"
    if width is None or cells(f"{head} {res['directory']}") <= width:
        say(f"{head} {res['directory']}")
    else:
        say(head, "  " + elide(res["directory"], width - 2))
    if res.get("skipped"):
        say(f"({res['skipped']} file(s) not listed: their names are not UTF-8)")
    return 0


# -- fetch -------------------------------------------------------------------------------------------------
def _check_name(name: str) -> str:
    if not name.strip() or "/" in name or name in (".", "..") or name.startswith("."):
        raise UsageError(f"{name!r}: give a file name or a capture's stem from camctl files (no paths)")
    return name


def _targets(client, args) -> list[str]:
    """The file names to fetch: each NAME, a stem standing for all its capture's files, or the newest capture."""
    if args.latest:
        if args.names:
            raise UsageError("--latest fetches the newest capture; give no NAME with it")
        listing = client.call("files", limit=1)["captures"]
        if not listing:
            raise UsageError("no captures yet")
        names = [f["name"] for f in listing[0]["files"]]
    elif not args.names:
        raise UsageError("give a file name or stem from camctl files, or --latest")
    else:
        names = []
        for name in map(_check_name, args.names):
            if "." in name:
                names.append(name)
                continue
            found = client.call("files", stem=name, limit=1)["captures"]
            if not found:
                raise UsageError(f"no capture {name!r} (camctl files lists them)")
            names += [f["name"] for f in found[0]["files"]]
    if args.only:
        wanted = {e.strip().lower().lstrip(".") for e in args.only.split(",")}
        names = [n for n in names if n.rsplit(".", 1)[-1].lower() in wanted]
        if not names:
            raise UsageError(f"none of the files is {args.only}")
    return names


def run_fetch(client, args) -> int:
    names = _targets(client, args)
    if len(names) > 1 and args.output is not None and not Path(args.output).is_dir():
        raise UsageError(f"-o {args.output}: several files go into a directory that exists")
    outs = [output_path(args.output, name, force=args.force) for name in names]  # refuse before fetching any
    for name, out in zip(names, outs):
        size = _fetch_one(client, name, out, progress=is_tty() and not args.json)
        if args.json:
            emit_json({"name": name, "path": str(out), "size": size})
        else:
            say(f"{out} ({human_bytes(size)})")
    return 0


def _fetch_one(client, name: str, out: Path, progress: bool) -> int:
    chunks, offset, size = [], 0, None
    width = columns() or 80
    while True:
        res = client.call("fetch", name=name, offset=offset)
        data = base64.b64decode(res["data"])
        chunks.append(data)
        offset += len(data)
        size = res["size"]
        if progress:
            tail = f": {human_bytes(offset)} of {human_bytes(size)}"
            sys.stderr.write(f"\r\x1b[K{elide(name, width - cells(tail))}{tail}")
        if res["eof"] or not data:
            break
    if progress:
        sys.stderr.write("\r\x1b[K")
    body = b"".join(chunks)
    if len(body) != size:  # the file changed while it was read
        raise UsageError(f"{name}: got {len(body)} bytes, the file has {size}; try again")
    atomic_write(out, body)  # never a half-fetched file under the final name
    return size


# -- delete, prune -----------------------------------------------------------------------------------------
def _show_plan(res: dict, verb: str) -> None:
    for cap in res["captures"]:
        say(f"  {cap['stem']}  {cap['time'][:19]}  {len(cap['files'])} file(s), {human_bytes(cap['bytes'])}")
    free = res.get("free_bytes")
    after = f"; {human_bytes(res['free_after'])} free after" if free is not None and res.get("free_after") else ""
    say(f"{verb} {len(res['captures'])} capture(s), {human_bytes(res['bytes'])}{after}")


def _confirmed(args, res: dict) -> bool:
    """--yes, or the operator's own "y" on a terminal; a script without --yes gets the dry run only."""
    if args.yes:
        return True
    if not sys.stdin.isatty() or not is_tty():
        say("dry run: nothing deleted (--yes deletes these)")
        return False
    try:
        answer = input(f"delete these {len(res['captures'])} capture(s)? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        say("nothing deleted")
        return False
    return True


def _delete(client, args, names: list[str], plan: dict) -> int:
    if args.json and not args.yes:
        emit_json(plan)
        return 0
    if not args.json:
        _show_plan(plan, "would delete" if not args.yes else "deleting")
    if not plan["captures"] or not _confirmed(args, plan):
        return 0
    res = client.call("delete", names=names, dry_run=False)
    if args.json:
        emit_json(res)
    else:
        say(f"deleted {len(res['captures'])} capture(s), {human_bytes(res['bytes'])}")
    return 0


def run_delete(client, args) -> int:
    names = [_check_name(n) for n in args.names]
    return _delete(client, args, names, client.call("delete", names=names, dry_run=True))


def run_prune(client, args) -> int:
    if args.older_than is None and args.keep is None and args.free is None:
        raise UsageError("give --older-than AGE, --keep N or --free SIZE")
    criteria = {k: v for k, v in (("older_than", args.older_than), ("keep", args.keep), ("free", args.free))
                if v is not None}
    plan = client.call("prune", dry_run=True, **criteria)
    # Delete exactly what the operator saw, whatever arrives meanwhile.
    return _delete(client, args, [c["stem"] for c in plan["captures"]], plan)


def register(sub, add_common) -> None:
    p = subparser(sub, "files", "the captures on the camera, newest first", """\
  camctl files                       the 20 newest captures
  camctl files --limit 100
  camctl --json files | jq -r '.captures[].files[].name'
""", add_common)
    p.add_argument("--limit", type=POSITIVE, default=20, metavar="N", help="captures to list (default 20)")
    p.set_defaults(run=run_files)

    p = subparser(sub, "fetch", "copy captures from the captures directory (never over a file)", """\
  camctl fetch 20250101-120000-000   the whole capture (dng, jpg, json)
  camctl fetch 20250101-120000-000.jpg -o shot.jpg
  camctl fetch --latest -o ~/raw/    the newest capture, into a directory
  camctl fetch --latest --only jpg   just its JPEG
""", add_common)
    p.add_argument("names", nargs="*", metavar="NAME", help="file names or capture stems, as camctl files lists")
    p.add_argument("--latest", action="store_true", help="the newest capture")
    p.add_argument("--only", metavar="EXT", help="only files of these kinds, e.g. jpg or jpg,json")
    p.add_argument("-o", "--output", metavar="PATH", help="file or existing directory (default: ./NAME)")
    p.add_argument("--force", action="store_true", help="replace local files that exist")
    p.set_defaults(run=run_fetch)

    p = subparser(sub, "delete", "delete captures or files (shows them, then asks)", """\
  camctl delete 20250101-120000-000  a whole capture: asks first
  camctl delete 20250101-120000-000.dng --yes
                                     one file, without asking
""", add_common)
    p.add_argument("names", nargs="+", metavar="NAME", help="capture stems or file names")
    p.add_argument("-y", "--yes", action="store_true", help="delete without asking")
    p.set_defaults(run=run_delete)

    p = subparser(sub, "prune", "delete the oldest captures (shows them, then asks)", """\
  camctl prune --older-than 7d       captures taken more than a week ago
  camctl prune --keep 500            all but the newest 500
  camctl prune --free 10G            oldest first, until 10 GB are free
  camctl prune --keep 100 --yes      without asking (scripts, cron)
""", add_common)
    p.add_argument("--older-than", type=age_seconds, metavar="AGE", help="taken longer ago: 30m, 12h, 7d, 2w")
    p.add_argument("--keep", type=POSITIVE, metavar="N", help="keep the newest N captures")
    p.add_argument("--free", type=size_bytes, metavar="SIZE", help="delete until SIZE is free: 500M, 10G")
    p.add_argument("-y", "--yes", action="store_true", help="delete without asking")
    p.set_defaults(run=run_prune)
