"""``camerad``: run the camera daemon, check a configuration, or run the mock demo."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
import threading
from pathlib import Path

from .. import __version__, logs
from ..config import DEFAULT_PATH, Config, load
from ..errors import CameradError

log = logging.getLogger("firmware.daemon")

EPILOG = """examples:
  camerad --mock --demo                      three shots on the mock sensor into ./captures
  camerad --mock --demo --shots 5 --captures /tmp/shots
  camerad --check-config /etc/camerad/camerad.toml
  camerad --config /etc/camerad/camerad.toml  run the daemon (systemd does this)

signals: SIGUSR1 takes a picture (as rpicam-still --signal); SIGTERM and SIGINT finish queued captures and exit.
"""


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="camerad", description="Camera daemon for the camerad prototype camera.",
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", type=Path, help=f"configuration file (default {DEFAULT_PATH} if it exists)")
    ap.add_argument("--check-config", type=Path, metavar="FILE", help="validate FILE and exit (0 if valid)")
    ap.add_argument("--mock", action="store_true", help="use the mock sensor and mock GPIO (any host)")
    ap.add_argument("--demo", action="store_true", help="press the shutter --shots times, print a summary, exit")
    ap.add_argument("--shots", type=_positive, default=3, help="shutter presses in --demo (default 3)")
    ap.add_argument("--captures", type=Path, help="captures directory (default: capture.directory; ./captures "
                    "with --demo)")
    ap.add_argument("--log-level", choices=logs.LEVELS, help="override daemon.log_level")
    ap.add_argument("--version", action="version", version=f"camerad {__version__}")
    return ap.parse_args(argv)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 10000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 10000, got {value}")
    return value


def load_config(args: argparse.Namespace) -> Config:
    if args.config:
        config = load(args.config)
    elif DEFAULT_PATH.exists() and not args.mock:
        config = load(DEFAULT_PATH)
    else:
        config = Config()
    if args.mock:
        config = dataclasses.replace(config, sensor=dataclasses.replace(config.sensor, backend="mock"),
                                     gpio=dataclasses.replace(config.gpio, backend="mock"))
    return config


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.check_config:
        try:
            load(args.check_config)
        except CameradError as exc:
            print(f"camerad: {exc}", file=sys.stderr)
            return 2
        print(f"{args.check_config}: OK")
        return 0
    try:
        config = load_config(args)
    except CameradError as exc:
        print(f"camerad: {exc}", file=sys.stderr)
        return 2
    logs.setup(args.log_level or ("warning" if args.demo else config.daemon.log_level))
    try:
        if args.demo:
            if config.sensor.backend != "mock":
                print("camerad: --demo runs on the mock sensor; add --mock", file=sys.stderr)
                return 2
            from .demo import run_demo

            return run_demo(config, args.shots, args.captures or Path("captures"))
        return run(config, args.captures)
    except CameradError as exc:
        print(f"camerad: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def run(config: Config, captures: Path | None) -> int:
    from .app import Camerad

    app = Camerad(config, captures=captures)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: app.capture())
    app.start()
    log.info("camerad %s running: %s %s, captures in %s", __version__, app.sensor.info.model, app.mode.name,
             app.writer.directory)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        log.info("stopping: finishing queued captures")
        app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
