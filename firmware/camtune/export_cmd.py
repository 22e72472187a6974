"""``camtune export-softisp FILE -o OUT.yaml``: the same calibration and look for libcamera's software ISP.

For boards without a Raspberry Pi ISP (the Snapdragon kit): writes the ``version: 1`` YAML of the
simple/softisp IPA - BlackLevel, Awb, Ccm (the calibrated CCMs with the look's colour transform and its
saturation folded in), Adjust, Agc. Install it as /usr/share/libcamera/ipa/simple/SENSOR.yaml (softisp/ on
libcamera after 0.7.2) or point LIBCAMERA_SIMPLE_TUNING_FILE (LIBCAMERA_SOFTISP_TUNING_FILE) at it. The
look's tone curve becomes the Gamma/Contrast control values printed in the file's header (released libcamera
has no tone-curve tuning key); ``--adjust-keys`` also writes them as the keys of the unmerged PR #19.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..storage.atomic import atomic_write
from ..tuning import TuningFile
from ..tuning.softisp import export_softisp
from ..tuning.validate import check


def register(sub) -> None:
    p = sub.add_parser("export-softisp", help="write the soft-ISP YAML for boards without a Pi ISP",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example: camtune export-softisp built/imx477.json -o imx477.yaml")
    p.add_argument("file", type=Path, metavar="FILE", help="a Raspberry Pi tuning file (e.g. from camtune build)")
    p.add_argument("-o", "--output", type=Path, required=True, help="YAML file to write")
    p.add_argument("--lux", type=float, default=400.0,
                   help="scene brightness at which the file's lux-dependent saturation is folded in (default 400)")
    p.add_argument("--adjust-keys", action="store_true",
                   help="also write gamma/contrast as Adjust keys (libcamera PR #19, not in any release)")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.output.suffix.lower() not in (".yaml", ".yml"):
        raise ValueError(f"{args.output}: the output must be a .yaml file")
    tf = TuningFile.load(args.file)
    check(tf)
    atomic_write(args.output, export_softisp(tf, args.lux, args.adjust_keys).encode())
    print(f"wrote {args.output}")
    return 0
