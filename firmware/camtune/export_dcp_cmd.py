"""``camtune export-dcp``: a DNG camera profile (``.dcp``) of a tuning and look, for raw developers.

The profile is the one camerad's DNGs carry in their own tags (``formats.dng_profile``): the calibrated
colour matrices and forward matrices for Standard Light A and D65, and the look as a tone curve and a look
table. Developers that ignore a DNG's embedded profile but take a ``.dcp`` file - RawTherapee (Color > Input
profile > Custom), darktable's and Lightroom's profile folders - render camerad's DNGs like the camera's
JPEG with it. ``UniqueCameraModel`` must match the DNG's (``camerad imx477 (mock)`` for the mock, ``camerad
imx477`` for a camera): Lightroom and RawTherapee offer a profile only to files of its camera.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..storage.atomic import atomic_write
from ..tuning import TuningFile


def register(sub) -> None:
    p = sub.add_parser("export-dcp", help="write a DNG camera profile (.dcp) of a tuning and look",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n"
                              "  camtune export-dcp --look leica-authentic -o camerad-authentic.dcp      # the mock imx477\n"
                              "  camtune export-dcp --tuning imx477.json --camera 'camerad imx477' -o imx477.dcp")
    p.add_argument("-o", "--output", type=Path, required=True, help=".dcp file to write")
    p.add_argument("--tuning", type=Path, help="the sensor's calibrated tuning file (default: the mock's, --sensor)")
    p.add_argument("--sensor", default="imx477", help="mock sensor whose tuning to use without --tuning (imx477)")
    p.add_argument("--look", metavar="NAME", help="the look to carry (tone curve, look table); default none")
    p.add_argument("--camera", help="UniqueCameraModel the profile is for (default: camerad SENSOR [(mock)])")
    p.add_argument("--ct", type=float, default=5000.0, help="colour temperature the look table is made at (5000)")
    p.add_argument("--lux", type=float, default=400.0, help="scene lux for the look's saturation (400)")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..formats.dng import encode_dcp, rendering_tuning
    from ..formats.dng_profile import build_profile
    from ..tuning.looks import load_look

    if args.output.suffix.lower() != ".dcp":
        raise ValueError(f"{args.output}: the output must be a .dcp file")
    if not 1000.0 <= args.ct <= 20000.0:
        raise ValueError(f"--ct {args.ct:g}: must be within 1000..20000 K")
    if args.look:
        load_look(args.look)  # an unknown look fails here, naming the looks there are
    if args.tuning is not None:
        if not args.tuning.is_file():
            raise ValueError(f"--tuning {args.tuning}: no such file")
        base = TuningFile.load(args.tuning)
        camera = args.camera or f"camerad {args.tuning.stem}"
    else:
        from ..sensor.mock.tuning_default import mock_tuning_path

        path = mock_tuning_path(args.sensor)
        if not path.is_file():
            raise ValueError(f"--sensor {args.sensor}: no mock tuning at {path}; pass --tuning FILE")
        base = TuningFile.load(path)
        camera = args.camera or f"camerad {args.sensor} (mock)"
    profile = build_profile(base, rendering_tuning(base, args.look), look=args.look, ct=args.ct, lux=args.lux,
                            camera=camera)
    atomic_write(args.output, encode_dcp(profile, camera))
    print(f"wrote {args.output} ({profile.name}, for {camera})")
    return 0
