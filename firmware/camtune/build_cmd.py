"""``camtune build``: a complete libcamera tuning file, the sensor's base with a look composed in.

The base file is, first match wins: ``--base FILE``; with ``--mock``, the project's own mock-sensor file made
by ``camtune calibrate`` (tuning/mock/SENSOR.json for vc4, tuning/mock/pisp/SENSOR.json for pisp); the file
libcamera installed (/usr/share/libcamera/ipa/rpi/<vc4|pisp>/SENSOR.json, or under /usr/local); and on a
host, Debian's stock files that install.sh unpacks into .cache/libcamera-ipa (an older libcamera-ipa
package: vc4 files only). The output is strict JSON, validated for the target, ready for
Picamera2(tuning=...) or LIBCAMERA_RPI_TUNING_FILE.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..tuning.build import build, find_base
from ..tuning.looks import list_looks


def register(sub) -> None:
    p = sub.add_parser("build", help="build a tuning file: a sensor's base with a look", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n"
                              "  camtune build --sensor imx477 --target vc4 --look leica-authentic -o imx477.json\n"
                              "  camtune build --sensor imx477 --target pisp --look neutral --base cal.json -o out.json\n"
                              "  camtune build --sensor imx477 --target vc4 --look leica-monochrome --mock -o m.json")
    p.add_argument("--sensor", required=True, help="sensor model, as libcamera names its files (imx477, imx708 ...)")
    p.add_argument("--target", required=True, choices=["vc4", "pisp"], help="Pi 0-4 (vc4) or Pi 5 (pisp)")
    p.add_argument("--look", required=True, help=f"look name ({', '.join(list_looks())}) or a look file")
    p.add_argument("--base", type=Path, help="base tuning file (default: search, see above)")
    p.add_argument("--mock", action="store_true", help="use the project's calibrated mock-sensor file as the base")
    p.add_argument("-o", "--output", type=Path, required=True, help="tuning file to write (JSON)")
    p.set_defaults(run=run)


def run(args) -> int:
    base = find_base(args.sensor, args.target, args.base, args.mock)
    tf, notes = build(args.sensor, args.target, args.look, base)
    tf.save(args.output)
    warnings = [i for i in notes if i.level == "warning"]
    for w in warnings:
        print(f"warning: {w}")
    print(f"wrote {args.output} ({args.sensor}, {args.target}, look {args.look}, base {base}; valid"
          f"{f', {len(warnings)} warnings' if warnings else ''})")
    return 0
