"""Where the control socket is: one rule shared by camerad (which listens) and camctl (which connects).

Order: ``--socket PATH``, then ``$CAMERAD_SOCKET``, then ``[control] socket`` in the configuration (camerad
only), then the system socket ``/run/camerad/control.sock`` (systemd's ``camerad.socket``), and outside
systemd, where ``/run/camerad`` is not ours to write, ``$XDG_RUNTIME_DIR/camerad/control.sock`` (or
``/tmp/camerad-UID/control.sock``).
"""

from __future__ import annotations

import os
from pathlib import Path

SYSTEM_SOCKET = Path("/run/camerad/control.sock")
ENV = "CAMERAD_SOCKET"


def user_socket() -> Path:
    """The socket a camerad run by this user outside systemd listens on by default."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "camerad" / "control.sock"
    return Path(f"/tmp/camerad-{os.getuid()}") / "control.sock"


def server_socket(explicit: str | os.PathLike | None = None, configured: str = "") -> Path:
    """The path camerad binds when systemd did not hand it a socket."""
    for choice in (explicit, os.environ.get(ENV), configured):
        if choice:
            return Path(choice)
    runtime = os.environ.get("RUNTIME_DIRECTORY")  # systemd's RuntimeDirectory= without socket activation
    if runtime:
        return Path(runtime.split(":")[0]) / "control.sock"
    if SYSTEM_SOCKET.parent.is_dir() and os.access(SYSTEM_SOCKET.parent, os.W_OK):
        return SYSTEM_SOCKET
    return user_socket()


def client_socket(explicit: str | os.PathLike | None = None) -> Path:
    """The path camctl connects to: the system socket if it exists, else this user's own camerad's."""
    for choice in (explicit, os.environ.get(ENV)):
        if choice:
            return Path(choice)
    if SYSTEM_SOCKET.exists():
        return SYSTEM_SOCKET
    return user_socket()
