"""systemd's notify protocol (sd_notify(3)): readiness, status, watchdog pings, reload and stop.

A datagram of newline-separated ``KEY=VALUE`` lines to the AF_UNIX socket named by ``$NOTIFY_SOCKET``; a
leading ``@`` names an abstract socket. Without the variable (a shell, a test, the demo) every call is a
silent no-op, so the daemon never has to ask whether systemd is there.

>>> n = Notifier.from_env()                 # doctest: +SKIP
>>> n.ready("ready: imx477 4056x3040")      # READY=1 + STATUS=...      # doctest: +SKIP
>>> n.watchdog()                            # WATCHDOG=1                # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Mapping

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, address: str | None):
        self.address = address or None
        self._sock: socket.socket | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Notifier":
        return cls(env.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> bool:
        """Send one notification; False (logged at debug) if there is no socket or systemd is gone."""
        if self.address is None:
            return False
        addr = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            if self._sock is None:
                # Non-blocking: a manager that stops reading must never stall the daemon's loop.
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                                           | socket.SOCK_NONBLOCK)
            self._sock.sendto("\n".join(lines).encode("utf-8"), addr)
            return True
        except OSError as exc:  # systemd restarting, or the socket vanished: notifications are best effort
            log.debug("sd_notify to %s failed: %s", self.address, exc)
            return False

    def ready(self, status: str | None = None) -> bool:
        return self.send("READY=1", *([f"STATUS={_one_line(status)}"] if status else []))

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={_one_line(text)}")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def reloading(self) -> bool:
        # MONOTONIC_USEC lets Type=notify-reload units match the reload to this request (systemd >= 253).
        return self.send("RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more time to start or stop (a long queue of captures to write on SIGTERM)."""
        return self.send(f"EXTEND_TIMEOUT_USEC={int(seconds * 1e6)}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def watchdog_interval(env: Mapping[str, str] = os.environ, pid: int | None = None) -> float | None:
    """Seconds between watchdog pings (half of ``WatchdogSec=``), or None when no watchdog is asked for.

    ``WATCHDOG_PID``, when set, must be this process (sd_watchdog_enabled(3)).
    """
    usec = env.get("WATCHDOG_USEC")
    if not usec:
        return None
    want_pid = env.get("WATCHDOG_PID")
    if want_pid and int(want_pid) != (pid or os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        log.warning("ignoring WATCHDOG_USEC=%r: not a number", usec)
        return None
    return value / 2e6 if value > 0 else None


def _one_line(text: str) -> str:
    return " ".join(text.split())
