"""``camctl``: operate camerad from a shell on the camera (over SSH), through its control socket.

Human-readable output by default, ``--json`` for scripts (one JSON document per result, one per line when a
command repeats). Exit status: 0 done; 1 the camera answered with an error (or a self-test check failed);
2 a bad command line; 3 camerad could not be reached.
"""

from __future__ import annotations

import argparse
import re
import sys

from .. import __version__
from ..control.client import ConnectionFailed, ControlClient, InvalidRequest, RemoteError
from ..control.paths import client_socket
from ..errors import CameradError
from . import commands, files_cmd, view_cmd
from .common import UsageError
from .values import SECONDS

MODULES = (commands, files_cmd, view_cmd)

EPILOG = """examples:
  camctl status                          the camera's state, exposure, storage
  camctl status --watch                  the same, refreshed in place (Ctrl-C stops)
  camctl capture                         one picture now; prints the files written
  camctl capture --bracket -2,0,2 --no-raw --look leica-monochrome
  camctl set exposure=1/250 gain=2 awb=daylight
  camctl get exposure gain
  camctl focus                           a live focus bar while you turn the lens
  camctl fetch 20250101-120000-000.jpg -o ~/pictures/
  camctl --json status | jq .exposure_us

socket: --socket PATH, else $CAMERAD_SOCKET, else /run/camerad/control.sock (systemd's), else the socket of a
camerad run by this user ($XDG_RUNTIME_DIR/camerad/control.sock). Operators join the camera group to use it.
exit status: 0 ok, 1 the camera reported an error, 2 bad usage, 3 camerad not reachable.
"""

EXIT_REMOTE, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3


def common_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """--socket/--json/--timeout, accepted before the command and after it."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--socket", metavar="PATH", default=default,
                        help="control socket (default: $CAMERAD_SOCKET, then /run/camerad/control.sock)")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="print JSON for scripts instead of text")
    parser.add_argument("--timeout", type=SECONDS, metavar="S", default=argparse.SUPPRESS if suppress else 120.0,
                        help="seconds to wait for an answer (default 120)")


class Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr (and exit status 2), not the usage block."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: {one_line(message)} (see {self.prog} --help)\n")


def one_line(text: str) -> str:
    """Messages from the daemon or the system, whatever they hold, as one line."""
    return " ".join(str(text).split())


def _unprefixed(message: str, command: str) -> str:
    """The client and the daemon name the method first ("set: exposure: ..."); camctl names the command already."""
    message = one_line(message)
    return message.split(": ", 1)[1] if message.startswith(f"{command}: ") else message


def build_parser() -> argparse.ArgumentParser:
    ap = Parser(prog="camctl", description="Operate camerad through its control socket.",
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"camctl {__version__}")
    common_options(ap, suppress=False)
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in MODULES:
        module.register(sub, lambda p: common_options(p, suppress=True))
    return ap


_NUMBER_LIST = re.compile(r"^-?\d*\.?\d+(,-?\d*\.?\d+)*$")


def _join_negative_values(argv: list[str]) -> list[str]:
    """``--bracket -2,0,2``: argparse would take ``-2,0,2`` for an option; pass it as ``--bracket=-2,0,2``."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] == "--bracket" and i + 1 < len(argv) and _NUMBER_LIST.match(argv[i + 1]):
            out.append(f"--bracket={argv[i + 1]}")
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def main(argv=None) -> int:
    argv = _join_negative_values(list(sys.argv[1:] if argv is None else argv))
    # Paths and names given in bytes that are not UTF-8 are printed back as the same bytes, as ls does.
    if hasattr(sys.stdout, "reconfigure"):  # not when a caller has swapped in a StringIO
        sys.stdout.reconfigure(errors="surrogateescape")
    args = build_parser().parse_args(argv)
    try:
        client = ControlClient(client_socket(args.socket), timeout=args.timeout)
    except CameradError as exc:  # a fallback socket directory that is not safely ours
        print(f"camctl: {one_line(exc)}", file=sys.stderr)
        return EXIT_UNREACHABLE
    try:
        return int(args.run(client, args) or 0)
    except RemoteError as exc:
        print(f"camctl {args.command}: {_unprefixed(exc.message, args.command)} [{exc.code}]", file=sys.stderr)
        return EXIT_REMOTE
    except ConnectionFailed as exc:
        print(f"camctl: {one_line(exc)}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except (UsageError, InvalidRequest) as exc:
        print(f"camctl {args.command}: {_unprefixed(str(exc), args.command)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"camctl {args.command}: {one_line(f'{where}{exc.strerror or exc}')}", file=sys.stderr)
        return EXIT_REMOTE
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
