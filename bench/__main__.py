"""Run one benchmark: ``python -m bench NAME [--quick]``; ``python -m bench --list`` names them.

Each benchmark module has ``run(quick: bool) -> dict[str, float | str]`` and measures against a reference run
in the same invocation, so figures are ratios that mean the same on any machine.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import warnings

warnings.filterwarnings("ignore", message=".*Matplotlib.*")

BENCHMARKS = ("mock", "isp", "controls", "capture", "control", "denoise", "colour", "stock", "files", "dngfuzz",
              "quality", "merge")


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
    args = ap.parse_args(argv)
    if args.list or not args.name:
        print("\n".join(BENCHMARKS))
        return 0
    module = importlib.import_module(f"bench.{args.name}")
    print(f"machine: {machine()}")
    for key, value in module.run(quick=args.quick).items():
        print(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
