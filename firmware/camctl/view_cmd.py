"""camctl's viewfinder commands: a preview still, the histogram drawn in the terminal, a live focus bar."""

from __future__ import annotations

import base64
import shutil
import sys
import time

from ..storage.atomic import atomic_write
from .common import colour, emit_json, is_tty, output_path, subparser
from .values import COLUMNS, COUNT_OR_ZERO, ROWS, SECONDS

_LEVELS = " ▁▂▃▄▅▆▇█"
_CHANNELS = (("r", "R", "31"), ("g", "G", "32"), ("b", "B", "34"), ("luma", "Y", "37"))


def run_preview(client, args) -> int:
    out = output_path(args.output, "preview.jpg")
    res = client.call("preview", zebra=args.zebra, peaking=args.peaking)
    atomic_write(out, base64.b64decode(res["jpeg"]))
    if args.json:
        emit_json({k: v for k, v in res.items() if k != "jpeg"} | {"path": str(out)})
    else:
        print(f"{out} ({res['width']}x{res['height']}, frame {res['sequence']})")
    return 0


def resample(counts: list[int], width: int) -> list[float]:
    """``counts`` summed into ``width`` columns (each column covers an equal share of the levels)."""
    n = len(counts)
    return [sum(counts[i * n // width:(i + 1) * n // width] or [counts[min(i * n // width, n - 1)]])
            for i in range(width)]


def draw_histogram(h: dict, width: int, height: int) -> list[str]:
    """Text rows: one block-character graph per channel (``height`` rows each, square-root scaled so shadows
    and highlights stay visible), then the clipping figures."""
    lines = []
    for key, label, code in _CHANNELS:
        cols = resample(h[key], width)
        peak = max(max(cols), 1)
        heights = [(c / peak) ** 0.5 * height * 8 for c in cols]
        for row in range(height - 1, -1, -1):
            cells = "".join(_LEVELS[max(0, min(8, int(round(v - row * 8))))] for v in heights)
            lines.append(f"{label if row == height - 1 else ' '} {colour(cells, code)}")
        lines.append("  " + "0".ljust(width - 3) + "255")
    cl, cr = h["clipped"], h["crushed"]
    lines.append(f"clipped  R {cl['r']:.2f}%  G {cl['g']:.2f}%  B {cl['b']:.2f}%  Y {cl['luma']:.2f}%   "
                 f"raw {h.get('raw_clipped', 0):.2f}% of photosites at white")
    lines.append(f"crushed  R {cr['r']:.2f}%  G {cr['g']:.2f}%  B {cr['b']:.2f}%  Y {cr['luma']:.2f}%")
    if h.get("exposure_us"):
        lines.append(f"frame {h['sequence']}: {h['exposure_us']} us, gain {h['analogue_gain']:.2f}")
    return lines


def run_histogram(client, args) -> int:
    h = client.call("histogram", bins=args.bins)
    if args.json:
        emit_json(h)
        return 0
    width = args.width or max(16, min(h["bins"] * 2, shutil.get_terminal_size((80, 24)).columns - 3))
    print("\n".join(draw_histogram(h, width, args.height)))
    return 0


def focus_line(value: float, peak: float, width: int) -> str:
    """``focus  12.34 ██████████░░░░  peak 15.00 (82%)``: the bar is the value against the peak so far."""
    rel = value / peak if peak else 0.0
    filled = int(round(rel * width))
    bar = "█" * filled + "░" * (width - filled)
    at_peak = rel >= 0.98
    return (f"focus {value:8.2f} {colour(bar, '32' if at_peak else '33')} peak {peak:8.2f} ({rel * 100:5.1f}%)"
            + ("  << sharpest" if at_peak else ""))


def run_focus(client, args) -> int:
    width = args.width or max(10, shutil.get_terminal_size((80, 24)).columns - 48)
    reset = not args.keep_peak
    n = 0
    last_seq = None
    try:
        while True:
            res = client.call("focus", reset=reset)
            reset = False
            if res["sequence"] != last_seq or args.json:
                last_seq = res["sequence"]
                if args.json:
                    emit_json(res)
                else:
                    line = focus_line(res["value"], res["peak"], width)
                    sys.stdout.write(f"\r\x1b[K{line}" if is_tty() else line + "\n")
                    sys.stdout.flush()
                n += 1
            if args.count and n >= args.count:
                break
            time.sleep(args.interval)
    finally:
        if is_tty() and not args.json:
            sys.stdout.write("\n")
    return 0


def register(sub, add_common) -> None:
    p = subparser(sub, "preview", "save a still from the live low-resolution stream", """\
  camctl preview                        writes preview.jpg
  camctl preview -o /tmp/now.jpg --zebra --peaking
""", add_common)
    p.add_argument("-o", "--output", metavar="FILE.jpg", help="file or directory to write (default ./preview.jpg)")
    p.add_argument("--zebra", action="store_true", help="stripe clipped highlights")
    p.add_argument("--peaking", action="store_true", help="paint in-focus edges red")
    p.set_defaults(run=run_preview)

    p = subparser(sub, "histogram", "RGB and luma histograms of the live picture, with clipping", """\
  camctl histogram
  camctl histogram --bins 128 --height 6
  camctl --json histogram | jq .clipped
""", add_common)
    p.add_argument("--bins", type=int, default=64, metavar="N", help="histogram bins (8 .. 256; default 64)")
    p.add_argument("--width", type=COLUMNS, default=0, metavar="COLS", help="graph width (default: the terminal's)")
    p.add_argument("--height", type=ROWS, default=4, metavar="ROWS", help="rows per channel (default 4)")
    p.set_defaults(run=run_histogram)

    p = subparser(sub, "focus", "a live focus bar: turn the lens until it peaks", """\
  camctl focus                          turn the focus ring slowly through sharp and back to the peak
  camctl focus --keep-peak              keep the peak from an earlier run
  camctl --json focus --count 20        twenty readings as JSON lines

The figure is the RMS luma gradient in the centre of the picture, in percent of its mean brightness; the bar
shows it against the highest value seen, and turns green within 2 % of it.
""", add_common)
    p.add_argument("--interval", type=SECONDS, default=0.1, metavar="S", help="seconds between readings (0.1)")
    p.add_argument("--count", type=COUNT_OR_ZERO, default=0, metavar="N",
                   help="stop after N readings (default: Ctrl-C)")
    p.add_argument("--width", type=COLUMNS, default=0, metavar="COLS", help="bar width (default: the terminal's)")
    p.add_argument("--keep-peak", action="store_true", help="do not reset the peak when starting")
    p.set_defaults(run=run_focus)
