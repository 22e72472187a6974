"""``camtune validate FILE...``: check tuning files with libcamera's rules, naming block and key of each problem.

Exit status 0 when every file would load in libcamera (warnings allowed, or not with ``--strict``), 1 when
any would not, 2 when a file cannot be read at all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..tuning import inspect


def register(sub) -> None:
    p = sub.add_parser("validate", help="check tuning files the way libcamera reads them",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example: camtune validate --target pisp /usr/share/libcamera/ipa/rpi/pisp/*.json")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="tuning files (JSON or libcamera YAML)")
    p.add_argument("--target", choices=["vc4", "pisp"],
                   help="also check the file is for this platform (default: whatever the file says)")
    p.add_argument("--strict", action="store_true", help="treat warnings as failures too")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors (and warnings with --strict)")
    p.set_defaults(run=run)


def run(args) -> int:
    worst = 0
    for path in args.files:
        tf, issues = inspect(path, args.target)  # the same check the daemon runs at start and on SIGHUP
        if tf is None:  # not a tuning file at all: missing, unreadable, not JSON/YAML, wrong structure
            print(f"camtune validate: {issues[0]}", file=sys.stderr)
            worst = 2
            continue
        n_err = sum(i.level == "error" for i in issues)
        n_warn = sum(i.level == "warning" for i in issues)
        shown = [i for i in issues if not args.quiet or i.level == "error" or (args.strict and i.level == "warning")]
        for i in shown:
            print(f"{i.level}: {i}")
        failed = n_err or (args.strict and n_warn)
        if not args.quiet or failed:
            verdict = "FAIL" if failed else "ok"
            print(f"{path}: {verdict} ({tf.platform}, {len(tf.algorithms)} blocks, {n_err} errors, "
                  f"{n_warn} warnings)")
        worst = max(worst, 1 if failed else 0)
    return worst
