"""``camtune``: the tuning engineer's tool. Each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import sys

from .. import __version__, logs
from ..errors import CameradError
from . import (build_cmd, calibrate_cmd, develop_cmd, diff_cmd, export_cmd, export_dcp_cmd, looks_cmd, merge_cmd,
               mock_cmd, validate_cmd)

COMMANDS = [mock_cmd, calibrate_cmd, validate_cmd, looks_cmd, build_cmd, diff_cmd, export_cmd, export_dcp_cmd, develop_cmd,
            merge_cmd]

EPILOG = """examples:
  camtune mock colorchecker --ct 5000 --lux 800 -o cal/macbeth_5000k_800l.dng
  camtune mock flat --ct 2850 --lux 400 -o cal/alsc_2850k_0.dng
  camtune calibrate cal/ --target vc4 -o imx477_calibrated.json
  camtune build --sensor imx477 --target vc4 --look leica-authentic --base imx477_calibrated.json -o imx477.json
  camtune validate imx477.json
  camtune looks
  camtune diff /usr/share/libcamera/ipa/rpi/vc4/imx477.json imx477.json
  camtune export-softisp imx477.json -o imx477.yaml
  camtune export-dcp --look leica-authentic -o authentic.dcp
  camtune develop captures/*.dng -o developed/ --look leica-authentic
  camtune merge burst/*.dng -o merged.dng --jpeg merged.jpg
"""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="camtune", description="Tuning tools for camerad (libcamera tuning files).",
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"camtune {__version__}")
    ap.add_argument("-v", "--verbose", action="store_true", help="log progress and details")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup("info" if args.verbose else "warning")
    try:
        return int(args.run(args) or 0)
    except CameradError as exc:
        print(f"camtune: {exc}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:
        print(f"camtune {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
