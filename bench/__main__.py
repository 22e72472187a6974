"""Run one benchmark: ``python -m bench NAME [--quick]``; ``python -m bench --list`` names them.

Each benchmark module has ``run(quick: bool) -> dict[str, float | str]`` and measures against a reference run
in the same invocation, so figures are ratios that mean the same on any machine. Every run prints the machine's
load before and after (figures from a loaded machine are fine when they say so); a capture refused or a wait
timed out on a loaded machine is counted in the figures, and anything else that stops a benchmark ends it with
one line, not a traceback.

``soak`` (not part of CI): ``python -m bench soak --minutes 10`` drives a real ``camerad --mock`` over its
control socket, a capture a second and a status every 100 ms, and reports its RSS and open files.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib
import inspect
import platform
import sys
import warnings

warnings.filterwarnings("ignore", message=".*Matplotlib.*")

BENCHMARKS = ("mock", "isp", "controls", "capture", "control", "denoise", "colour", "stock", "files", "dngfuzz",
              "quality", "merge", "crash", "soak")


def machine() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    import os

    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", nargs="?", choices=BENCHMARKS, help="benchmark to run")
    ap.add_argument("--list", action="store_true", help="list the benchmarks")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run, not for RESULTS.md)")
    ap.add_argument("--minutes", type=float, metavar="N", help="soak: how long to run (default 10)")
    args = ap.parse_args(argv)
    if args.list or not args.name:
        print("\n".join(BENCHMARKS))
        return 0
    from bench.timing import load_note
    from firmware.errors import CameradError

    module = importlib.import_module(f"bench.{args.name}")
    kwargs = {}
    if args.minutes is not None:
        if "minutes" not in inspect.signature(module.run).parameters:
            ap.error(f"--minutes: {args.name} runs for as long as its repetitions take")
        if not 0 < args.minutes <= 24 * 60:
            ap.error("--minutes: give a number of minutes above 0 and at most a day")
        kwargs["minutes"] = args.minutes
    print(f"machine: {machine()}")
    print(f"load before: {load_note()}")
    try:
        figures = module.run(quick=args.quick, **kwargs)
    except (CameradError, TimeoutError, concurrent.futures.TimeoutError, OSError) as exc:
        print(f"{args.name}: stopped: {exc or type(exc).__name__} (load {load_note()})", file=sys.stderr)
        return 1
    for key, value in figures.items():
        print(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {value}")
    print(f"load after: {load_note()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
