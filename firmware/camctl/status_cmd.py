"""``camctl status``: the camera at a glance in a photographer's units, refreshed in place with ``--watch``.

Text speaks as a camera's display does (1/76 s, f/2.8, ISO 200, 5200 K); ``--json`` keeps the daemon's raw
figures (microseconds, gains) for scripts. Every line fits the terminal, so ``--watch`` redraws the block in
place: a line wider than the terminal would wrap, and moving back by the number of lines printed would then
leave the block's first lines behind on the screen, once per refresh.
"""

from __future__ import annotations

import sys
import time

from .common import colour, columns, elide, emit_json, human_bytes, is_tty, iso, shutter_speed, subparser, wrap
from .values import COUNT_OR_ZERO, SECONDS

LABEL = 15  # "white balance" and two spaces


def _exposure(s: dict, settings: dict) -> str:
    parts = [shutter_speed(s.get("exposure_us"))]
    lens = s.get("lens") or {}
    if lens.get("f_number"):
        parts.append(f"f/{lens['f_number']:g}")
    parts.append(iso(s.get("analogue_gain"), s.get("digital_gain")))
    manual = [k for k in ("exposure", "gain") if settings.get(k) not in (None, "auto")]
    how = "manual" if len(manual) == 2 else f"auto ({' and '.join(manual)} fixed)" if manual else "auto"
    ev = settings.get("ev")
    if ev:
        how += f", EV {ev:+g}"
    if s.get("ae_locked"):
        how += ", locked (half-press)"
    return "  ".join(parts) + f"  {how}"


def _white_balance(s: dict, settings: dict) -> str:
    ct = s.get("colour_temperature")
    gains = s.get("colour_gains") or [None, None]
    mode = s.get("awb") or settings.get("awb") or "?"
    if settings.get("colour_gains") not in (None, "auto") and "awb" not in s:
        mode = "custom gains"
    text = f"{mode}, {ct:.0f} K" if ct else f"{mode}"
    if gains[0] is not None:
        text += f" (R {gains[0]:.2f}, B {gains[1]:.2f})"
    return text


def _state(s: dict) -> str:
    state = s["state"]
    if state == "busy" and s.get("last_refusal"):
        return f"busy: {s['last_refusal']}"
    if state == "low_storage":
        return "storage low: below the reserve, captures refused"
    if state == "error" and s.get("last_error"):
        return "error (see last error)"
    return state


def _error(s: dict) -> str:
    err = s.get("last_error")
    if not err:
        return "-"
    at = s.get("last_error_at")
    return f"{at[11:]} {err}" if at else str(err)


def status_lines(s: dict, settings: dict | None = None, width: int | None = None) -> list[str]:
    """The status block, each line at most ``width`` cells (None: whole lines)."""
    settings = settings or {}
    sensor = s["sensor"]
    storage = s["storage"]
    tl = s["timelapse"]
    temp = s.get("sensor_temperature")
    camera = f"{sensor['model']} {sensor['mode']} ({sensor['backend']})"
    if s.get("fps"):
        camera += f", {s['fps']:.0f} fps"
    rows = [
        ("state", _state(s)),
        ("sensor", camera + (f", {temp:.0f} °C" if temp is not None else "")),
        ("exposure", _exposure(s, settings)),
        ("white balance", _white_balance(s, settings)),
        ("light", f"{s['lux']:.0f} lux" if s.get("lux") is not None else "?"),
        ("look", f"{s['look']}, denoise {s['denoise']}, {'raw+jpeg' if s['raw'] else 'jpeg'}"),
        ("drive mode", s["drive_mode"] + (f", timelapse frame {tl['next']} of {tl['count']}" if tl["active"] else "")),
        ("captures", f"{s['captures_written']} written, queue {s['queue']['used']}/{s['queue']['size']}"),
        ("storage", f"{human_bytes(storage['free_bytes'])} free, {human_bytes(storage['reserve_bytes'])} reserve, "
                    + elide(storage["directory"], None if width is None else width - LABEL)),
        ("frames", f"{s['frames']}, {s['frames_dropped']} dropped"),
        ("last error", _error(s)),
    ]
    lines = []
    for label, value in rows:
        lines += wrap(label, value, width, LABEL)
    return lines


def run_status(client, args) -> int:
    n = 0
    shown = 0
    while True:
        s = client.call("status")
        if args.json:
            emit_json(s)
        else:
            width = columns()
            lines = status_lines(s, client.call("get")["values"], width)
            lines = [colour(line, "1") if line.startswith("state") and "error" in line else line for line in lines]
            if args.watch and is_tty():
                # Back to the block's first line, each line written over the old one (erased to its end), then
                # whatever the longer old block left below cleared. Never a clear from the top-left corner: some
                # terminals (tmux's scroll-on-clear) push a cleared screen into the scrollback.
                up = f"\x1b[{shown}F" if shown else ""
                sys.stdout.write(up + "".join(f"{line}\x1b[K\n" for line in lines) + "\x1b[J")
                sys.stdout.flush()
            else:
                if args.watch and shown:
                    print()
                print("\n".join(lines), flush=True)
            shown = len(lines)
        n += 1
        if not args.watch or (args.count and n >= args.count):
            return 0
        time.sleep(args.interval)


def register(sub, add_common) -> None:
    p = subparser(sub, "status", "the camera's state, exposure, look, captures and storage", """\
  camctl status
  camctl status --watch        refresh in place every second (Ctrl-C stops)
  camctl --json status | jq .exposure_us
                               raw figures (microseconds, gains) for scripts
""", add_common)
    p.add_argument("--watch", action="store_true", help="keep refreshing in place")
    p.add_argument("--interval", type=SECONDS, default=1.0, metavar="S", help="seconds between refreshes (1)")
    p.add_argument("--count", type=COUNT_OR_ZERO, default=0, metavar="N", help="with --watch: stop after N refreshes")
    p.set_defaults(run=run_status)
