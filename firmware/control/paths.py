"""Where the control socket is: one rule shared by camerad (which listens) and camctl (which connects).

Order: ``--socket PATH``, then ``$CAMERAD_SOCKET``, then ``[control] socket`` in the configuration (camerad
only), then the system socket ``/run/camerad/control.sock`` (systemd's ``camerad.socket``), and outside
systemd, where ``/run/camerad`` is not ours to write, ``$XDG_RUNTIME_DIR/camerad/control.sock`` (or
``/tmp/camerad-UID/control.sock``).

The fallback directory must be this user's own and closed to other users' writes: anyone can make
``/tmp/camerad-UID`` first and put their own socket in it, where camctl would tell it everything and believe
its answers. camerad and camctl both refuse such a directory (as tmux and ssh-agent do theirs).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from ..errors import CameradError

SYSTEM_SOCKET = Path("/run/camerad/control.sock")
ENV = "CAMERAD_SOCKET"


def user_socket() -> Path:
    """The socket a camerad run by this user outside systemd listens on by default."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "camerad" / "control.sock"
    return Path(tempfile.gettempdir()) / f"camerad-{os.getuid()}" / "control.sock"


def private_dir(directory: Path, *, create: bool) -> Path:
    """``directory``, made (mode 0750) if ``create`` and missing, after checking it is a real directory of this
    user's that no other user may write in; ``CameradError`` in one line if not."""
    if create:
        try:
            directory.mkdir(mode=0o750, exist_ok=True)
        except OSError as exc:
            raise CameradError(f"socket directory {directory}: cannot create it: {exc.strerror or exc}") from exc
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        return directory  # camctl: nothing there, so no camerad to talk to (connect says so)
    uid = os.getuid()
    if not stat.S_ISDIR(st.st_mode):
        raise CameradError(f"socket directory {directory}: not a directory (a symbolic link or file is in the "
                           f"way); refusing it")
    if st.st_uid != uid:
        raise CameradError(f"socket directory {directory}: owned by uid {st.st_uid}, not by this user (uid {uid}); "
                           f"refusing it (remove it, or name a socket with --socket or ${ENV})")
    if st.st_mode & 0o022:
        raise CameradError(f"socket directory {directory}: mode {stat.S_IMODE(st.st_mode):04o} lets other users "
                           f"write in it; refusing it (chmod 750 {directory})")
    return directory


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
    path = user_socket()
    private_dir(path.parent, create=True)
    return path


def client_socket(explicit: str | os.PathLike | None = None) -> Path:
    """The path camctl connects to: the system socket if it exists, else this user's own camerad's."""
    for choice in (explicit, os.environ.get(ENV)):
        if choice:
            return Path(choice)
    if SYSTEM_SOCKET.exists():
        return SYSTEM_SOCKET
    path = user_socket()
    private_dir(path.parent, create=False)
    return path
