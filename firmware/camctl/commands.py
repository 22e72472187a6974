"""camctl's camera commands: capture, shutter, set/get, looks, tuning, timelapse, selftest."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..actions import DenoiseMode
from ..actions import DenoiseMode
from ..control.protocol import SETTING_KEYS as KEYS
from .common import UsageError, colour, columns, emit_json, say, shutter_speed, subparser, wrap
from .values import POSITIVE, SECONDS, parse_evs, parse_setting


# -- capture, shutter --------------------------------------------------------------------------------------
def print_captures(client, res: dict, command: str) -> int:
    """The files a trigger wrote (full paths, each cut to the terminal's width), its errors on stderr."""
    if res["captures"]:
        directory = client.call("status")["storage"]["directory"]
        say(*(str(Path(directory) / name) for cap in res["captures"] for name in cap["files"]))
    for err in res["errors"]:
        print(f"camctl {command}: {err}", file=sys.stderr)
    if not res["captures"] and res.get("taken"):
        say(f"{res['taken']} frame(s) taken; they are being written")
    return 1 if res["errors"] else 0


def run_capture(client, args) -> int:
    params: dict[str, Any] = {"count": args.count, "wait": not args.no_wait}
    for key in ("bracket", "raw", "denoise", "look", "note"):
        if getattr(args, key, None) is not None:
            params[key] = getattr(args, key)
    res = client.call("capture", **params)
    if args.json:
        emit_json(res)
        return 1 if res["errors"] else 0
    return print_captures(client, res, "capture")


def run_shutter(client, args) -> int:
    res = client.call("shutter", wait=not args.no_wait)
    if args.json:
        emit_json(res)
        return 1 if res.get("errors") else 0
    if "timelapse" in res:
        tl = res["timelapse"]
        say(f"timelapse {'started' if tl['active'] else 'stopped'} (drive mode timelapse)")
        return 0
    say(f"drive mode {res['drive_mode']}:")
    return print_captures(client, res, "shutter")


# -- set / get ---------------------------------------------------------------------------------------------
def show_value(key: str, value: Any) -> str:
    if key == "exposure" and value != "auto":
        return f"{shutter_speed(value)} ({value} us)"
    if key == "colour_gains" and value != "auto":
        return f"{value[0]:g},{value[1]:g}"
    if key == "raw":
        return "on" if value else "off"
    return str(value)


def _show_range(r: dict | None) -> str:
    if not r:
        return ""
    if "choices" in r:
        return "one of " + ", ".join(r["choices"])
    if "min" in r:
        unit = f" {r['unit']}" if r.get("unit") else ""
        return f"{_n(r['min'])} .. {_n(r['max'])}{unit}" + (" or auto" if r.get("auto") else "")
    return r.get("type", "")


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def run_get(client, args) -> int:
    res = client.call("get", keys=[k.replace("-", "_") for k in args.keys] or None)
    if args.json:
        emit_json(res)
        return 0
    width = columns()
    for key, value in res["values"].items():
        head = f"{key:<13} {show_value(key, value):<21} "
        for line in wrap(head, _show_range(res["ranges"].get(key)), width, len(head)):
            print(line[:len(head)] + colour(line[len(head):], "2"))
    return 0


def run_set(client, args) -> int:
    values = dict(parse_setting(item) for item in args.settings)
    res = client.call("set", values=values)
    if args.json:
        emit_json(res)
        return 0
    say(*(f"{key} = {show_value(key, value)}" for key, value in res["values"].items()))
    if res["values"].get("awb") not in (None, "custom") and res["values"].get("colour_gains", "auto") == "auto":
        settling = awb_settling(client)
        if settling:
            say(settling)
    return 0


def awb_settling(client) -> str | None:
    """How long the white balance takes to move to a new AWB mode. libcamera's AwbMode only narrows the search
    range; the result is IIR-filtered at ``rpi.awb`` ``speed`` each controller frame (Awb::prepare), and the
    controller runs at most 30 times a second (ipa_base.cpp) - the mock runs it every frame."""
    import math

    try:
        speed = float(client.call("tuning.show", block="rpi.awb")["params"].get("speed", 0.05))
        s = client.call("status")
    except Exception:  # noqa: BLE001 - a hint only: no tuning block, no status, nothing said
        return None
    fps = s.get("fps") or 0
    if not 0 < speed < 1 or not fps:
        return None
    frames = math.ceil(math.log(0.05) / math.log(1 - speed))  # 95 % of the way
    rate = fps if s["sensor"].get("mock") else min(fps, 30.0)
    return f"  (as in libcamera, AWB eases there: 95 % in {frames} frames, ~{frames / rate:.1f} s at {rate:.0f} fps)"


# -- looks, tuning -----------------------------------------------------------------------------------------
def run_looks(client, args) -> int:
    res = client.call("looks")
    if args.json:
        emit_json(res)
        return 0
    width = columns()
    for look in res["looks"]:
        mark = "*" if look["current"] else " "
        print("\n".join(wrap(f"{mark} {look['name']:<17} ", look["summary"], width, 20)))
    return 0


def run_tuning(client, args) -> int:
    if args.action == "validate":
        return _validate(client, args)
    if args.files:
        raise UsageError(f"{args.action} takes no FILE (tuning validate FILE...)")
    if args.action == "reload":
        res = client.call("tuning.reload")
        if args.json:
            emit_json(res)
        else:
            say(f"reloaded {res['config']}", f"  tuning {res['tuning']}")
        return 0
    res = client.call("tuning.show", **({"block": args.block} if args.block else {}))
    if args.json:
        emit_json(res)
    elif args.block:
        say(*json.dumps(res["params"], indent=2).splitlines())
    else:
        width = columns()
        say(res["source"], f"  version {res['version']:g}, target {res['target']}, look {res['look']}, "
                           f"denoise {res['denoise']}")
        print("\n".join(wrap("  blocks: ", ", ".join(res["blocks"]), width, 10)))
    return 0


def _validate(client, args) -> int:
    """Validate each FILE here, by the rules the daemon loads by, for the running camera's ISP when reachable
    (a soft-ISP file by the soft ISP's); one exit status for all of them."""
    from ..control.client import ConnectionFailed
    from ..tuning.softisp_check import inspect_any
    from ..tuning.validate import errors

    if not args.files:
        raise UsageError("validate needs a FILE")
    target = args.target
    if target is None:
        try:
            target = {"bcm2835": "vc4", "pisp": "pisp"}.get(client.call("tuning.show")["target"])
        except ConnectionFailed:
            target = None  # no camera to compare with: the file's own target decides
    worst, width = 0, columns()
    for path in args.files:
        kind, issues = inspect_any(path, None)
        if kind is not None and target and not kind.startswith("soft-ISP"):
            kind, issues = inspect_any(path, target)
        bad = errors(issues)
        valid = kind is not None and not bad
        worst = max(worst, 0 if valid else 1)
        if args.json:
            emit_json({"file": path, "kind": kind, "target": target, "valid": valid,
                       "issues": [vars(i) for i in issues]})
            continue
        for i in issues:
            text = str(i).removeprefix(f"{path}: ")
            print("\n".join(wrap(f"{colour(i.level, '31') if i.level == 'error' else i.level:<8} ", text, width, 9)))
        verdict = "INVALID" if not valid else "valid"
        detail = f"{kind}, {len(bad)} error(s), {len(issues) - len(bad)} note(s)" if kind else "not a tuning file"
        say(f"{path}: {verdict}" + (f" for {target}" if target and valid and "soft-ISP" not in kind else "")
            + f" ({detail})")
    return worst


# -- timelapse, selftest -----------------------------------------------------------------------------------
def run_timelapse(client, args) -> int:
    if args.action == "start":
        if args.interval is None:
            raise UsageError("start needs --interval SECONDS")
        res = client.call("timelapse.start", interval=args.interval,
                          **({"count": args.count} if args.count is not None else {}))
    else:
        res = client.call(f"timelapse.{args.action}")
    if args.json:
        emit_json(res)
    elif res["active"]:
        say(f"timelapse running: {res['next']} of {res['count']} frames taken, every {res['interval']:g} s"
            + (f" ({res['missed']} missed)" if res["missed"] else ""))
    else:
        say("timelapse stopped" if res.get("stopped") else "no timelapse running")
    if res.get("last_run") and not res["active"]:
        say(*timelapse_summary(res["last_run"]))
    return 0


def timelapse_summary(r: dict) -> list[str]:
    """How the latest timelapse went, when it has ended."""
    return [f"last timelapse {r['ended']}: {r['taken']} of {r['count']} frames, every {r['interval_s']:g} s"
            + (f", {r['missed']} missed" if r["missed"] else "") + (f", {r['failed']} failed" if r["failed"] else ""),
            f"  {r['started_at']} .. {r['ended_at']} ({r['duration_s']:g} s)"]


def run_selftest(client, args) -> int:
    res = client.call("selftest", timeout=60)
    if args.json:
        emit_json(res)
    else:
        width = columns()
        marks = {"ok": colour("ok  ", "32"), "warn": colour("warn", "33"), "fail": colour("FAIL", "31")}
        for c in res["checks"]:
            print("\n".join(wrap(f"{marks[c['level']]}  {c['name']:<9} ", c["detail"], width, 16)))
        say("selftest passed" if res["ok"] else "selftest FAILED")
    return 0 if res["ok"] else 1


# -- registration ----------------------------------------------------------------------------------------
def register(sub, add_common) -> None:
    p = subparser(sub, "capture", "take pictures now (whatever the drive mode), print the files written", """\
  camctl capture                     one frame
  camctl capture --count 5           five consecutive frames (a burst)
  camctl capture --bracket -2,0,2    exposure bracket, 0 EV first
  camctl capture --no-raw --look leica-monochrome
                                     a JPEG in another look, this capture only
  camctl capture --note "roof, 2nd test"
                                     a note in the sidecar and EXIF UserComment
""", add_common)
    p.add_argument("--count", type=POSITIVE, default=1, metavar="N", help="frames to take (1 .. 256; default 1)")
    p.add_argument("--bracket", type=parse_evs, metavar="EVS", help="EV offsets, e.g. -2,0,2")
    p.add_argument("--raw", action=argparse.BooleanOptionalAction, default=None,
                   help="write the DNG too (or not) for this capture; default: the camera's setting")
    p.add_argument("--denoise", choices=[m.value for m in DenoiseMode], help="raw denoising for this capture")
    p.add_argument("--look", metavar="NAME", help="look for this capture (camctl looks)")
    p.add_argument("--note", metavar="TEXT", help="a note kept with the capture (sidecar, EXIF UserComment)")
    p.add_argument("--no-wait", action="store_true", help="return once the frames are taken, before writing")
    p.set_defaults(run=run_capture)

    p = subparser(sub, "shutter", "press the shutter button: the current drive mode", """\
  camctl shutter                     single, burst or bracket, as the button
  camctl set drive_mode=timelapse && camctl shutter
                                     starts (or stops) a timelapse
""", add_common)
    p.add_argument("--no-wait", action="store_true", help="return once the frames are taken, before writing")
    p.set_defaults(run=run_shutter)

    p = subparser(sub, "set", "change settings (checked against the sensor's ranges; all or none)", f"""\
  camctl set exposure=1/250 gain=2   manual: 4000 us at gain 2
  camctl set exposure=auto gain=auto back to auto exposure
  camctl set ev=-0.7 awb=daylight
  camctl set colour_gains=1.9,1.6    manual white balance (awb=auto undoes it)
  camctl set look=leica-vibrant denoise=off drive_mode=bracket raw=off

keys: {', '.join(KEYS)}
  exposure      microseconds, 10ms, 0.5s, 1/250, or auto
  gain          analogue gain (ISO / 100) or auto
  ev            exposure compensation in stops
  awb           auto, daylight, tungsten, ... (camctl get awb)
  colour_gains  RED,BLUE or auto
  look          see camctl looks
  denoise       off, fast, hq
  drive_mode    single, burst, bracket, timelapse
  raw           on or off
""", add_common)
    p.add_argument("settings", nargs="+", metavar="KEY=VALUE")
    p.set_defaults(run=run_set)

    p = subparser(sub, "get", "show settings and what each accepts", """\
  camctl get                         every setting with its range
  camctl get exposure gain
  camctl --json get look
""", add_common)
    p.add_argument("keys", nargs="*", metavar="KEY", help=f"settings to show ({', '.join(KEYS)})")
    p.set_defaults(run=run_get)

    p = subparser(sub, "looks", "the looks JPEGs can be developed with (* marks the current one)", """\
  camctl looks
  camctl set look=leica-monochrome
""", add_common)
    p.set_defaults(run=run_looks)

    p = subparser(sub, "tuning", "reload, show or validate the tuning", """\
  camctl tuning show                 the running tuning file and its blocks
  camctl tuning show --block rpi.ccm one block's parameters
  camctl tuning reload               re-read configuration and tuning
                                     (as systemctl reload camerad)
  camctl tuning validate new.json    check files by libcamera's rules
                                     before installing them
""", add_common)
    p.add_argument("action", choices=("reload", "show", "validate"))
    p.add_argument("files", nargs="*", metavar="FILE", help="validate: the tuning files to check")
    p.add_argument("--block", metavar="NAME", help="show: one block's parameters")
    p.add_argument("--target", choices=("vc4", "pisp"), help="validate: for this ISP (default: the camera's)")
    p.set_defaults(run=run_tuning)

    p = subparser(sub, "timelapse", "start, stop or show a timelapse (it survives a restart)", """\
  camctl timelapse start --interval 10 --count 360
                                     a frame every 10 s for an hour
  camctl timelapse status            progress, or how the last one went
  camctl timelapse stop
""", add_common)
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument("--interval", type=SECONDS, metavar="S", help="seconds between frames")
    p.add_argument("--count", type=POSITIVE, metavar="N", help="frames in all (default: the configuration's)")
    p.set_defaults(run=run_timelapse)

    p = subparser(sub, "selftest", "check sensor streaming, tuning, storage, GPIO and the denoiser", """\
  camctl selftest                    exit status 1 if a check fails
  camctl --json selftest
""", add_common)
    p.set_defaults(run=run_selftest)

