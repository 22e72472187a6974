"""``camctl log``: the daemon's recent log lines, over the control socket (or from the journal under systemd).

The daemon keeps its last 1000 lines in a ring that anyone in the camera group can read, with or without
systemd. Under systemd, ``--journal`` reads ``journalctl -u camerad.service`` instead, which also holds earlier
runs (why did it restart?) - if this user may read the journal (groups ``systemd-journal`` or ``adm``).
"""

from __future__ import annotations

import shutil
import subprocess
import time

from .. import logs
from .common import UsageError, colour, columns, emit_json, say, subparser, wrap
from .values import SECONDS, number

_COLOURS = {"error": "31", "critical": "31", "warning": "33", "debug": "2"}


def _line(r: dict, width: int | None) -> list[str]:
    head = f"{logs.timestamp(r['time'])[11:]} {r['level'][:4]:<4} "
    lines = wrap(head, f"{r['logger'].removeprefix('firmware.')}: {r['message']}", width, len(head))
    code = _COLOURS.get(r["level"])
    return [colour(line, code) if code else line for line in lines]


def run_log(client, args) -> int:
    res = client.call("log", lines=args.lines, level=args.level)
    if args.journal:
        return _journal(args, res.get("unit"))
    width = columns()
    _show(res["lines"], args.json, width)
    last = res["last"]
    while args.follow:
        time.sleep(args.interval)
        res = client.call("log", lines=logs.RING_SIZE, after=last, level=args.level)
        _show(res["lines"], args.json, width)
        last = res["last"]
    if res.get("unit") and not args.json:
        say(colour(f"(earlier runs: camctl log --journal, or journalctl -u {res['unit']})", "2"))
    return 0


def _show(records: list[dict], as_json: bool, width: int | None) -> None:
    for r in records:
        if as_json:
            emit_json(r)
        else:
            print("\n".join(_line(r, width)), flush=True)


def _journal(args, unit: str | None) -> int:
    if not unit:
        raise UsageError("--journal: camerad does not run under systemd here (its own lines: camctl log)")
    journalctl = shutil.which("journalctl")
    if journalctl is None:
        raise UsageError("--journal: journalctl is not installed")
    cmd = [journalctl, "-u", unit, "-n", str(args.lines), "--no-pager", "-o", "json" if args.json else "short-iso"]
    if args.follow:
        cmd.append("-f")
    return subprocess.call(cmd)


def register(sub, add_common) -> None:
    p = subparser(sub, "log", "the daemon's recent log lines", """\
  camctl log                         the last 50 lines
  camctl log -n 200 --level warning  warnings and errors only
  camctl log -f                      follow new lines (Ctrl-C stops)
  camctl log --journal               under systemd: the journal, earlier
                                     runs included (journalctl -u)
""", add_common)
    p.add_argument("-n", "--lines", type=number(int, lo=1, hi=logs.RING_SIZE), default=50, metavar="N", help="lines to show (1 .. 1000; 50)")
    p.add_argument("--level", choices=("debug", "info", "warning", "error"), default="debug",
                   help="the least important level shown")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    p.add_argument("--interval", type=SECONDS, default=0.5, metavar="S", help="with -f: seconds between polls")
    p.add_argument("--journal", action="store_true", help="read the systemd journal instead of the daemon's ring")
    p.set_defaults(run=run_log)
