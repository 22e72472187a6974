"""Sockets handed over by systemd socket activation (sd_listen_fds(3)).

``camerad.socket`` creates ``/run/camerad/control.sock`` (owner camera, group camera, mode 0660) before the
daemon starts and passes it as fd 3 with ``LISTEN_FDS=1``, ``LISTEN_PID=<our pid>`` and
``LISTEN_FDNAMES=control``. Connections made while the daemon (re)starts wait in the socket's backlog.
"""

from __future__ import annotations

import os
import socket
from typing import MutableMapping

SD_LISTEN_FDS_START = 3


def listen_fds(env: MutableMapping[str, str] = os.environ, pid: int | None = None, *,
               unset: bool = True) -> dict[str, list[socket.socket]]:
    """The activated sockets by name (``FileDescriptorName=``, else ``"unknown"``); empty when not activated.

    The variables are removed afterwards (``unset``) so that child processes do not think they were activated.
    """
    try:
        if int(env.get("LISTEN_PID", "0")) != (pid or os.getpid()):
            return {}
        count = int(env.get("LISTEN_FDS", "0"))
    except ValueError:
        return {}
    names = env.get("LISTEN_FDNAMES", "").split(":") if env.get("LISTEN_FDNAMES") else []
    out: dict[str, list[socket.socket]] = {}
    for i in range(count):
        fd = SD_LISTEN_FDS_START + i
        os.set_inheritable(fd, False)
        name = names[i] if i < len(names) and names[i] else "unknown"
        out.setdefault(name, []).append(socket.socket(fileno=fd))
    if unset:
        for var in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
            env.pop(var, None)
    return out
