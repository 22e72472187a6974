"""camctl's camera commands: status, capture, set/get, looks, tuning, timelapse, selftest."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ..actions import DenoiseMode
from ..control.protocol import SETTING_KEYS as KEYS
from .common import UsageError, colour, emit_json, human_bytes, is_tty, subparser
from .values import COUNT_OR_ZERO, POSITIVE, SECONDS, parse_evs, parse_setting


# -- status ------------------------------------------------------------------------------------------------
def status_lines(s: dict) -> list[str]:
    sensor = s["sensor"]
    gains = s.get("colour_gains") or (None, None)
    tl = s["timelapse"]
    storage = s["storage"]
    rows = [
        ("state", s["line"]),
        ("sensor", f"{sensor['model']} {sensor['mode']} ({sensor['backend']}), "
                   f"{s['fps'] or '?'} fps"),
        ("exposure", f"{s['exposure_us']} us, gain {_f(s['analogue_gain'])} (digital {_f(s['digital_gain'])})"
                     f"{', locked (half-press)' if s['ae_locked'] else ''}"),
        ("white balance", f"{s['colour_temperature']} K, gains R {_f(gains[0])} B {_f(gains[1])}"),
        ("lux", f"{s['lux']}"),
        ("sensor temp", f"{s['sensor_temperature']} C"),
        ("look", f"{s['look']}, denoise {s['denoise']}"),
        ("drive mode", f"{s['drive_mode']}, {'raw+jpeg' if s['raw'] else 'jpeg'}"),
        ("captures", f"{s['captures_written']} written, queue {s['queue']['used']}/{s['queue']['size']}"),
        ("storage", f"{human_bytes(storage['free_bytes'])} free (reserve {human_bytes(storage['reserve_bytes'])}), "
                    f"{storage['directory']}"),
        ("frames", f"{s['frames']} ({s['frames_dropped']} dropped)"),
        ("timelapse", f"frame {tl['next']} of {tl['count']}" if tl["active"] else "off"),
        ("last error", s["last_error"] or "-"),
    ]
    return [f"{k:<14} {v}" for k, v in rows]


def _f(x) -> str:
    return "?" if x is None else f"{float(x):.2f}"


def run_status(client, args) -> int:
    n = 0
    shown = 0
    while True:
        s = client.call("status")
        if args.json:
            emit_json(s)
        else:
            lines = status_lines(s)
            if args.watch and is_tty() and shown:
                sys.stdout.write(f"\x1b[{shown}F\x1b[J")  # back to the block's first line, clear below
            elif args.watch and shown:
                print()
            print("\n".join(lines), flush=True)
            shown = len(lines)
        n += 1
        if not args.watch or (args.count and n >= args.count):
            return 0
        time.sleep(args.interval)


# -- capture -------------------------------------------------------------------------------------------------
def run_capture(client, args) -> int:
    params: dict[str, Any] = {"count": args.count, "wait": not args.no_wait}
    for key in ("bracket", "raw", "denoise", "look"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    res = client.call("capture", **params)
    if args.json:
        emit_json(res)
    else:
        directory = client.call("status")["storage"]["directory"] if res["captures"] else ""
        for cap in res["captures"]:
            for name in cap["files"]:
                print(str(Path(directory) / name))
        for err in res["errors"]:
            print(f"camctl capture: {err}", file=sys.stderr)
        if args.no_wait:
            print(f"{res['taken']} frame(s) taken; they are being written")
    return 1 if res["errors"] else 0


# -- set / get ---------------------------------------------------------------------------------------------
def _show_value(key: str, value: Any) -> str:
    if key == "exposure" and value != "auto":
        return f"{value} us (1/{1e6 / value:.0f} s)" if value < 1e6 else f"{value} us ({value / 1e6:g} s)"
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
    for key, value in res["values"].items():
        print(f"{key:<13} {_show_value(key, value):<24} {colour(_show_range(res['ranges'].get(key)), '2')}")
    return 0


def run_set(client, args) -> int:
    values = dict(parse_setting(item) for item in args.settings)
    res = client.call("set", values=values)
    if args.json:
        emit_json(res)
    else:
        for key, value in res["values"].items():
            print(f"{key} = {_show_value(key, value)}")
    return 0


# -- looks, tuning -----------------------------------------------------------------------------------------
def run_looks(client, args) -> int:
    res = client.call("looks")
    if args.json:
        emit_json(res)
        return 0
    for look in res["looks"]:
        mark = "*" if look["current"] else " "
        print(f"{mark} {look['name']:<18} {look['summary']}")
    return 0


def run_tuning(client, args) -> int:
    if args.action == "validate":
        return _validate(client, args)
    if args.action == "reload":
        res = client.call("tuning.reload")
        if args.json:
            emit_json(res)
        else:
            print(f"reloaded {res['config']} (tuning {res['tuning']})")
        return 0
    res = client.call("tuning.show", **({"block": args.block} if args.block else {}))
    if args.json:
        emit_json(res)
    elif args.block:
        import json

        print(json.dumps(res["params"], indent=2))
    else:
        print(f"{res['source']}\n  version {res['version']:g}, target {res['target']}, look {res['look']}, "
              f"denoise {res['denoise']}\n  blocks: {', '.join(res['blocks'])}")
    return 0


def _validate(client, args) -> int:
    """Validate FILE here, with the rules the daemon loads by, for the running camera's ISP when reachable."""
    from ..control.client import ConnectionFailed
    from ..errors import TuningError
    from ..tuning import TuningFile
    from ..tuning.validate import errors, validate

    if not args.file:
        raise UsageError("validate needs a FILE")
    target = args.target
    if target is None:
        try:
            target = {"bcm2835": "vc4", "pisp": "pisp"}.get(client.call("tuning.show")["target"])
        except ConnectionFailed:
            target = None  # no camera to compare with: the file's own target decides
    try:
        issues = validate(TuningFile.load(args.file), target)
    except TuningError as exc:
        issues = None
        err = str(exc)
    if args.json:
        emit_json({"file": args.file, "target": target, "valid": bool(issues is not None and not errors(issues)),
                   "issues": [vars(i) for i in issues] if issues is not None else [{"level": "error",
                                                                                     "message": err}]})
    elif issues is None:
        print(f"{args.file}: {colour('error', '31')}: {err}")
    else:
        for i in issues:
            print(f"{i.level:<8} {i}")
        bad = errors(issues)
        print(f"{args.file}: {'INVALID' if bad else 'valid'}" + (f" for {target}" if target else "") +
              f" ({len(bad)} error(s), {len(issues) - len(bad)} note(s))")
    return 1 if issues is None or errors(issues) else 0


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
        print(f"timelapse running: {res['next']} of {res['count']} frames taken, every {res['interval']:g} s"
              + (f" ({res['missed']} missed)" if res["missed"] else ""))
    else:
        print("timelapse stopped" if res.get("stopped") else "no timelapse running")
    return 0


def run_selftest(client, args) -> int:
    res = client.call("selftest", timeout=60)
    if args.json:
        emit_json(res)
    else:
        marks = {"ok": colour("ok  ", "32"), "warn": colour("warn", "33"), "fail": colour("FAIL", "31")}
        for c in res["checks"]:
            print(f"{marks[c['level']]}  {c['name']:<9} {c['detail']}")
        print("selftest passed" if res["ok"] else "selftest FAILED")
    return 0 if res["ok"] else 1


# -- registration ----------------------------------------------------------------------------------------
def register(sub, add_common) -> None:
    p = subparser(sub, "status", "the camera's state, exposure, look, captures and storage", """\
  camctl status
  camctl status --watch                 refresh in place every second (Ctrl-C stops)
  camctl status --json | jq .exposure_us
""", add_common)
    p.add_argument("--watch", action="store_true", help="keep refreshing in place")
    p.add_argument("--interval", type=SECONDS, default=1.0, metavar="S", help="seconds between refreshes (1)")
    p.add_argument("--count", type=COUNT_OR_ZERO, default=0, metavar="N", help="with --watch: stop after N refreshes")
    p.set_defaults(run=run_status)

    p = subparser(sub, "capture", "take pictures now (whatever the drive mode) and print the files written", """\
  camctl capture                            one frame
  camctl capture --count 5                  five consecutive frames (a burst)
  camctl capture --bracket -2,0,2           exposure bracket, 0 EV first
  camctl capture --no-raw --look leica-monochrome    a JPEG in another look, this capture only
  camctl capture --denoise hq
""", add_common)
    p.add_argument("--count", type=POSITIVE, default=1, metavar="N", help="frames to take (1 .. 256; default 1)")
    p.add_argument("--bracket", type=parse_evs, metavar="EVS", help="EV offsets, e.g. -2,0,2")
    p.add_argument("--raw", action=argparse.BooleanOptionalAction, default=None,
                   help="write the DNG too (or not) for this capture; default: the camera's setting")
    p.add_argument("--denoise", choices=[m.value for m in DenoiseMode], help="raw denoising for this capture")
    p.add_argument("--look", metavar="NAME", help="look for this capture (camctl looks)")
    p.add_argument("--no-wait", action="store_true", help="return once the frames are taken, before writing")
    p.set_defaults(run=run_capture)

    p = subparser(sub, "set", "change settings (checked against the sensor's ranges; all or none)", f"""\
  camctl set exposure=1/250 gain=2          manual: 4000 us at gain 2
  camctl set exposure=auto gain=auto        back to auto exposure
  camctl set ev=-0.7 awb=daylight
  camctl set colour_gains=1.9,1.6           manual white balance (awb=auto gives it back)
  camctl set look=leica-vibrant denoise=off drive_mode=bracket raw=off

keys: {', '.join(KEYS)}
  exposure      microseconds, 10ms, 0.5s, 1/250, or auto        gain    analogue gain or auto
  ev            exposure compensation in stops                 awb     auto, daylight, tungsten, ...
  colour_gains  RED,BLUE or auto                               look    see camctl looks
  denoise       off, fast, hq                                  drive_mode  single, burst, bracket, timelapse
  raw           on or off
""", add_common)
    p.add_argument("settings", nargs="+", metavar="KEY=VALUE")
    p.set_defaults(run=run_set)

    p = subparser(sub, "get", "show settings and what each accepts", """\
  camctl get                                every setting with its range
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
  camctl tuning show                        the running tuning file and its blocks
  camctl tuning show --block rpi.ccm        one block's parameters
  camctl tuning reload                      re-read the configuration and tuning (as systemctl reload)
  camctl tuning validate new.json           check a file by libcamera's rules before installing it
""", add_common)
    p.add_argument("action", choices=("reload", "show", "validate"))
    p.add_argument("file", nargs="?", help="the file to validate")
    p.add_argument("--block", metavar="NAME", help="show: one block's parameters")
    p.add_argument("--target", choices=("vc4", "pisp"), help="validate: for this ISP (default: the camera's)")
    p.set_defaults(run=run_tuning)

    p = subparser(sub, "timelapse", "start, stop or show a timelapse (it survives a restart)", """\
  camctl timelapse start --interval 10 --count 360     a frame every 10 s for an hour
  camctl timelapse status
  camctl timelapse stop
""", add_common)
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument("--interval", type=SECONDS, metavar="S", help="seconds between frames")
    p.add_argument("--count", type=POSITIVE, metavar="N", help="frames in all (default: the configuration's)")
    p.set_defaults(run=run_timelapse)

    p = subparser(sub, "selftest", "check sensor streaming, tuning, storage, GPIO and the denoiser", """\
  camctl selftest                           exit status 1 if a check fails
  camctl --json selftest
""", add_common)
    p.set_defaults(run=run_selftest)
