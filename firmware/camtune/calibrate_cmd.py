"""``camtune calibrate DIR -o OUT.json --target vc4|pisp``: a calibrated libcamera tuning file from captures.

DIR holds DNGs named as the Raspberry Pi camera tuning tool names them:

  alsc_<ct>k_<n>.dng        flat fields (a diffuser over the lens), at each colour temperature
  <name>_<ct>k_<lux>l.dng   ColorChecker captures (a <name>_<ct>k_<lux>l.json patch file beside one skips
                            finding the chart; camtune mock writes it)
  dark_<n>.dng              dark frames (lens capped), optional

Fitted: black level (dark frames, else the DNG tags); rpi.alsc colour tables per colour temperature and the
luminance table; the rpi.awb ct_curve and transverse limits; rpi.ccm matrices per colour temperature
minimising mean CIEDE2000 on the chart with white-preserving rows; rpi.noise (reference_constant,
reference_slope at gain 1, full resolution); rpi.lux. Everything else comes from --base (e.g. the file
libcamera ships for the sensor) or, without it, camtune's defaults for the target. A report PNG (chart
swatches before/after with CIEDE2000 per patch, shading maps, the AWB curve, the noise fit) is written beside
the output unless --report says otherwise.

Captures: full field of view (a 2x2-binned mode is fine - the binning is recognised for the noise profile),
chart and flats exposed to well under clipping (white patch below 90 % of full scale), ideally at gain 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("calibrate", help="calibrate a tuning file from flat-field, ColorChecker and dark DNGs",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example: camtune calibrate cal/ --target vc4 --base /usr/share/libcamera/ipa/rpi/vc4/"
                              "imx477.json -o imx477_calibrated.json")
    p.add_argument("directory", type=Path, metavar="DIR", help="directory of calibration DNGs")
    p.add_argument("-o", "--output", type=Path, required=True, help="tuning file to write (JSON)")
    p.add_argument("--target", required=True, choices=["vc4", "pisp"], help="Pi 0-4 (vc4) or Pi 5 (pisp)")
    p.add_argument("--base", type=Path, help="tuning file providing every block calibration does not fit")
    p.add_argument("--reference", choices=["adapted", "d65"], default="adapted",
                   help="chart reference colours: the chart under each capture's light adapted to D65 (Bradford; "
                        "default), or the chart under D65 at every colour temperature (the Pi tool's convention)")
    p.add_argument("--max-gain", type=float, default=16.0, metavar="G",
                   help="without --base: the sensor's largest analogue gain, where the AGC's exposure modes end "
                        "(default 16, as libcamera's stock files)")
    p.add_argument("--report", type=Path, help="report PNG (default: OUTPUT with .png)")
    p.add_argument("--no-report", action="store_true", help="do not write the report")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..calibrate.run import calibrate

    t0 = time.monotonic()

    def progress(msg: str) -> None:
        print(f"camtune calibrate: [{time.monotonic() - t0:5.1f} s] {msg}", file=sys.stderr, flush=True)

    if args.output.suffix.lower() != ".json":
        raise ValueError(f"{args.output}: the output must be a .json file")
    if not 1.0 <= args.max_gain <= 1000.0:
        raise ValueError(f"--max-gain {args.max_gain:g}: must be within 1..1000")
    cal = calibrate(args.directory, args.target, args.base, args.reference, progress, max_gain=args.max_gain)
    cal.tuning.save(args.output)
    b = cal.black.level16
    print(f"wrote {args.output} ({cal.platform.name}, {len(cal.tuning.algorithms)} blocks)")
    print(f"  black level {b[1]:.0f} (16-bit; R {b[0]:.0f} B {b[2]:.0f}) from {cal.black.source}")
    if cal.alsc is not None:
        lum = cal.alsc.luminance
        print(f"  lens shading at {', '.join(f'{c:g}' for c in cal.alsc.cts)} K: corners at "
              f"{100 * lum.min() / lum.max():.0f} % of the centre; sigma Cr {cal.alsc.sigma_cr:g} Cb {cal.alsc.sigma_cb:g}")
    aw = cal.awb
    print(f"  AWB curve {aw.cts[0]:g}..{aw.cts[-1]:g} K ({len(aw.cts)} points), transverse "
          f"+{aw.transverse_pos:g}/-{aw.transverse_neg:g}")
    for f in cal.ccms:
        print(f"  CCM {f.ct:g} K: mean CIEDE2000 {f.mean_delta_e:.2f}, max {f.delta_e[f.used].max():.2f} "
              f"(white balance alone {f.delta_e_wb_only[f.used].mean():.1f})")
    print(f"  noise {cal.noise.constant:.2f} + {cal.noise.slope:.3f} sqrt(level) (mode factor {cal.mode_factor})")
    if cal.lux is not None:
        print(f"  lux reference: {cal.lux.lux:g} lux at {cal.lux.shutter_us:g} us, gain {cal.lux.gain:g}: "
              f"Y {cal.lux.y16:.0f}")
    found = sum(s.found for s in cal.charts)
    print(f"  ColorChecker patches: {found} of {len(cal.charts)} captures located in the picture, "
          f"{len(cal.charts) - found} from patch files")
    for note in cal.notes:
        print(f"  note: {note}")
    if not args.no_report:
        from ..calibrate.report import write_report

        report = args.report or args.output.with_suffix(".png")
        progress(f"report {report}")
        write_report(cal, report)
        print(f"wrote {report}")
    return 0
