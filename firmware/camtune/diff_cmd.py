"""``camtune diff A B``: what changed between two tuning files, block by block.

``-`` blocks only in A, ``+`` only in B, ``~`` changed (with each key: scalars as old -> new, long tables as
how much they moved, CCMs and ALSC tables matched by colour temperature). Exit status 0 when the files are
the same, 1 when they differ (like diff(1)).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..tuning import TuningFile
from ..tuning.diff import diff


def register(sub) -> None:
    p = sub.add_parser("diff", help="compare two tuning files block by block", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example: camtune diff /usr/share/libcamera/ipa/rpi/vc4/imx477.json out.json")
    p.add_argument("a", type=Path, metavar="A")
    p.add_argument("b", type=Path, metavar="B")
    p.set_defaults(run=run)


def run(args) -> int:
    lines = diff(TuningFile.load(args.a), TuningFile.load(args.b))
    print(f"--- {args.a}\n+++ {args.b}")
    for line in lines:
        print(line)
    if not lines:
        print("(same data)")
    return 1 if lines else 0
