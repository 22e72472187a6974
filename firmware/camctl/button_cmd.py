"""camctl as the camera's buttons and the mock's scene: half-press and release (the shutter's first stage), and
``camctl mock`` for the mock sensor's scene, light and focus ring."""

from __future__ import annotations

import argparse

from .common import UsageError, emit_json, say, subparser
from .values import number


def _value(text: str, lo: float, hi: float, what: str) -> float:
    try:
        return number(float, lo, hi)(text)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"{what}: {exc}") from None


def run_half_press(client, args) -> int:
    res = client.call("half_press", pressed=args.command == "half-press")
    if args.json:
        emit_json(res)
    elif res["pressed"]:
        say("half-press: AE and AWB locked at the latest frame's values" if res["locked"]
            else "half-press: the lock did not take (see camctl log)")
    else:
        say("released: AE and AWB automatic again")
    return 0 if res["locked"] == res["pressed"] else 1


def run_mock(client, args) -> int:
    if args.what == "focus":
        if args.value is None:
            raise UsageError("mock focus needs a position 0 .. 1 (sharp at 0.5)")
        res = client.call("mock.focus", position=_value(args.value, 0.0, 1.0, "focus position"))
        if args.json:
            emit_json(res)
        else:
            say(f"focus ring at {res['position']:g} (sharp at {res['sharp_at']:g}): "
                f"{res['defocus_px']:.1f} px of defocus")
        return 0
    params = {}
    if args.what == "scene":
        if args.value is None:
            raise UsageError("mock scene needs a scene: colorchecker, flat, dead-leaves, natural, ...")
        params["scene"] = args.value
    elif args.value is not None:  # light K
        params["ct"] = _value(args.value, 1800.0, 12000.0, "colour temperature")
    if args.lux is not None:
        params["lux"] = args.lux
    if args.ct is not None:
        params["ct"] = args.ct
    res = client.call("mock.scene", **params)
    if args.json:
        emit_json(res)
    else:
        say(f"mock: {res['scene']} under {res['ct']:.0f} K ({res['light']}), {res['lux']:g} lux")
    return 0


def register(sub, add_common) -> None:
    for name, help_, example in (
            ("half-press", "the shutter's first stage: lock AE and AWB", "camctl half-press; camctl capture"),
            ("release", "let go of the half-press: AE and AWB automatic again", "camctl release")):
        p = subparser(sub, name, help_, f"""\
  {example}
""", add_common)
        p.set_defaults(run=run_half_press)

    p = subparser(sub, "mock", "the mock sensor's scene, light and focus ring", """\
  camctl mock scene dead-leaves      another scene in front of the mock
  camctl mock scene colorchecker --ct 3000 --lux 200
  camctl mock light 2850             tungsten light on the same scene
  camctl mock focus 0.3              turn the focus ring (sharp at 0.5)
""", add_common)
    p.add_argument("what", choices=("scene", "light", "focus"))
    p.add_argument("value", nargs="?", help="scene name, colour temperature (K) or ring position (0 .. 1)")
    p.add_argument("--ct", type=number(float, 1800.0, 12000.0), metavar="K", help="colour temperature")
    p.add_argument("--lux", type=number(float, 0.1, 200000.0), metavar="LUX", help="scene brightness")
    p.set_defaults(run=run_mock)
