"""``camerad``: run the camera daemon, check a configuration, or run the mock demo."""

from __future__ import annotations

import argparse
import dataclasses
import faulthandler
import logging
import sys
from pathlib import Path

from .. import __version__, logs
from ..boards import GpioBackend, SensorBackend
from ..config import DEFAULT_PATH, Config, load
from ..errors import CameradError

log = logging.getLogger("firmware.daemon")

EPILOG = """examples:
  camerad --mock --demo                      three shots on the mock sensor into ./captures
  camerad --mock --demo --shots 5 --captures /tmp/shots
  camerad --check-config /etc/camerad/camerad.toml
  camerad --config /etc/camerad/camerad.toml  run the daemon (systemd does this)
  camerad --mock --captures /tmp/shots --socket /tmp/cam.sock   a mock camera for camctl --socket /tmp/cam.sock

signals: SIGUSR1 presses the shutter (as rpicam-still --signal), in the current drive mode; SIGHUP reloads the
configuration and tuning (a bad file is logged and the running one kept); SIGTERM and SIGINT finish every
capture already taken, then exit 0. Under systemd (Type=notify) camerad reports READY=1 after the first frame,
a STATUS= line, and pings the watchdog only while frames keep arriving.

control: camctl talks to camerad over a Unix socket: systemd's camerad.socket (/run/camerad/control.sock), else
one camerad makes (--socket, $CAMERAD_SOCKET, [control] socket, /run/camerad/control.sock where writable,
else $XDG_RUNTIME_DIR/camerad/control.sock). [preview] enabled = true serves a preview page on 127.0.0.1.
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
    ap.add_argument("--socket", type=Path, metavar="PATH", help="control socket to create when systemd does not "
                    "hand one over (default: $CAMERAD_SOCKET, [control] socket, /run/camerad/control.sock)")
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
        config = dataclasses.replace(config, sensor=dataclasses.replace(config.sensor, backend=SensorBackend.MOCK),
                                     gpio=dataclasses.replace(config.gpio, backend=GpioBackend.MOCK))
    return config


def main(argv=None) -> int:
    _enable_faulthandler()
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
            if config.sensor.backend is not SensorBackend.MOCK:
                print("camerad: --demo runs on the mock sensor; add --mock", file=sys.stderr)
                return 2
            from .demo import run_demo

            return run_demo(config, args.shots, args.captures or Path("captures"))
        return run(config, args)
    except CameradError as exc:
        print(f"camerad: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _enable_faulthandler() -> None:
    """A watchdog abort (SIGABRT) or a fatal error leaves every thread's Python stack in the journal."""
    try:
        faulthandler.enable()
    except (AttributeError, ValueError, OSError):  # stderr without a file descriptor (embedded, captured)
        pass


def run(config: Config, args: argparse.Namespace) -> int:
    from ..camera import Camerad
    from ..control.service import start_services
    from .activation import listen_fds
    from .lifecycle import run as run_lifecycle

    # A button's callback thread gets the interpreter within 1 ms of a press even while a capture is being
    # developed (the default 5 ms would be the press's timestamp error).
    sys.setswitchinterval(0.001)
    activated = listen_fds()
    if activated:
        log.info("socket activation: %s", ", ".join(f"{k} ({len(v)})" for k, v in activated.items()))
    camera = Camerad(config, captures=args.captures)
    status = camera.snapshot()
    log.info("camerad %s: %s %s (%d-frame ZSL ring, %d buffers), captures in %s", __version__, status.model,
             status.mode.name, status.engine.settings.ring_size, status.engine.settings.buffer_count,
             status.directory)
    return run_lifecycle(camera, reload_config=lambda: load_config(args),
                         services=lambda life: start_services(camera, reload=life.reload_for_operator,
                                                              socket_path=args.socket,
                                                              activated=activated.get("control")))


if __name__ == "__main__":
    sys.exit(main())
