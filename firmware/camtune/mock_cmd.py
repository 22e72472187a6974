"""``camtune mock``: render one mock capture to a DNG, as the calibration tools expect to find them.

The mock streams in simulated time until its AE and AWB loops settle (or with the exposure and gain given),
then the chosen frame is written as a DNG exactly as the daemon writes one. For the ColorChecker scene a JSON
file with the patch rectangles goes beside it, so calibration can skip chart detection.

``--like`` makes the mock the sensor a stock libcamera tuning file describes: its colour (spectral
sensitivities fitted to the file's colour matrices and white balance curve), its lens shading (the inverse of
its ALSC tables), its noise and black level, and the real sensor's modes and bit depth. Give the file's path,
or a sensor name (imx477, or pisp/imx477) to use the file libcamera installed (else Debian's copy). The mock's
AE and AWB then run on that file too; develop its DNGs with ``camtune develop --tuning`` the same file.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..clock import FakeClock
from ..formats.dng import encode_dng
from ..formats.identity import CameraIdentity
from ..storage.atomic import atomic_write

SETTLE_FRAMES = 24


def register(sub) -> None:
    p = sub.add_parser("mock", help="render a mock capture to a DNG",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n"
                              "  camtune mock colorchecker --ct 6500 --lux 1000 -o cal/cc_6500k_1000l.dng\n"
                              "  camtune mock colorchecker --ct 2850 --lux 800 --like imx219 -o pi/cc_2850k.dng\n"
                              "  camtune mock flat --ct 5000 --lux 800 --like /usr/share/libcamera/ipa/rpi/pisp/"
                              "imx708.json -o pi/flat.dng")
    p.add_argument("scene", help="colorchecker, flat, slanted-edge, dead-leaves, natural[:IMAGE]")
    p.add_argument("--ct", type=float, required=True, help="colour temperature of the light, kelvin")
    p.add_argument("--lux", type=float, required=True, help="illuminance on the scene")
    p.add_argument("--illuminant", default="auto", choices=["auto", "daylight", "planckian", "fluorescent"],
                   help="kind of light (auto: Planckian below 4000 K, daylight above)")
    p.add_argument("--gain", type=float, help="analogue gain (default: chosen by AE)")
    p.add_argument("--exposure", type=int, metavar="US", help="exposure time in microseconds (default: AE)")
    p.add_argument("--model", default="imx477", choices=["imx477", "imx708"],
                   help="the project's own mock sensor to model (default imx477)")
    p.add_argument("--like", metavar="FILE|SENSOR",
                   help="be the sensor a stock libcamera tuning file describes: a file's path, or a sensor "
                        "(imx219, imx296, imx477, imx708, ov5647; pisp/imx477 for the Pi 5's file)")
    p.add_argument("--sensor", help="with --like: the sensor the file is for, when its name does not say")
    p.add_argument("--mode", default="", help="sensor mode WIDTHxHEIGHT (default: full resolution)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument("-o", "--output", type=Path, required=True, help="DNG file to write")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..sensor.mock.sensor import MockSensor
    from ..sensor.mock.spectral import Lighting

    if not args.output.suffix.lower() == ".dng":
        raise ValueError(f"{args.output}: the output must be a .dng file")
    if not 1000 <= args.ct <= 15000:
        raise ValueError(f"--ct {args.ct:g}: colour temperature must be within 1000..15000 K")
    if args.lux <= 0:
        raise ValueError(f"--lux {args.lux:g}: must be positive")
    model, tuning, name = args.model, None, f"{args.model} (mock)"
    if args.like:
        from ..sensor.mock.like import like

        spec = like(args.like, args.sensor)
        model, tuning, name = spec.model, spec.tuning, f"{spec.part} (mock like {spec.label})"
    cam = MockSensor(model, scene=args.scene, lighting=Lighting(args.ct, args.illuminant, args.lux),
                     tuning=tuning, seed=args.seed, clock=FakeClock())
    mode = cam.info.mode(args.mode)
    cam.configure(mode, buffer_count=4)
    controls = {}
    if args.exposure is not None:
        controls["ExposureTime"] = args.exposure
    if args.gain is not None:
        controls["AnalogueGain"] = args.gain
    if controls:
        cam.set_controls(controls)
    cam.start()
    for _ in range(SETTLE_FRAMES):
        cam.next_request(5.0).release()
    req = cam.next_request(5.0)
    try:
        md = req.get_metadata()
        raw = req.make_array("raw")
        identity = CameraIdentity(make="camerad", model=name)
        from ..develop import frame_facts

        frame = frame_facts(md, cfa=cam.info.cfa, bit_depth=mode.bit_depth, tuning=cam.tuning,
                            mode_factor=mode.binning)
        dng = encode_dng(raw, md, frame, tuning=cam.tuning, identity=identity, wall_ns=time.time_ns())
    finally:
        req.release()
        cam.close()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.output, dng)
    print(f"wrote {args.output} ({mode.name}, exposure {md['ExposureTime']} us, gain {md['AnalogueGain']:.2f}, "
          f"AWB {md['ColourTemperature']} K)")
    patches = cam.patches()
    if patches:
        side = args.output.with_suffix(".json")
        doc = {"scene": args.scene, "model": name, "mode": mode.name, "ct": args.ct, "lux": args.lux,
               "illuminant": args.illuminant, "patches": [p.as_dict() for p in patches]}
        atomic_write(side, (json.dumps(doc, indent=2) + "\n").encode())
        print(f"wrote {side} ({len(patches)} ColorChecker patches)")
    return 0
