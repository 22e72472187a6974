"""The control socket's server: accepts camctl (or any client), reads request lines, answers each one.

One thread per connection, at most ``max_clients`` at once (and never more than a quarter of the process's
open-file limit): a client beyond that gets a ``busy`` error and is closed. A connection that starts no request
for ``idle_timeout`` seconds, or whose request line is not complete ``request_timeout`` seconds after its first
byte, gets a ``timeout`` error and is closed (``connections.Deadlines``: bytes trickling in do not move the
deadline). A line longer than ``MAX_LINE`` gets ``line_too_long`` and is closed; a client that stops reading its
responses is dropped when a send times out. When the process runs out of file descriptors, waiting clients
are told ``busy`` and the loop waits instead of spinning. Nothing a client sends can stop the server or the
daemon: every failure ends at most that one connection.

The listening socket is systemd's (``camerad.socket``, handed over by socket activation) or one the server
binds itself (``bind_socket``: mode 0660, a stale socket file from a crashed daemon replaced, a live one left
alone with an error).
"""

from __future__ import annotations

import logging
import os
import pwd
import select
import selectors
import socket
import stat
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..clock import Clock
from ..errors import CameradError
from . import protocol
from .connections import FD_ERRNOS, SEND_TIMEOUT_S, Deadlines, FdReserve, Slot, fd_share, send_now

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 10.0  # a request line, once begun, arrives whole within this (one write, for camctl)


@dataclass(frozen=True)
class Peer:
    """Who is on the other end, from the kernel (SO_PEERCRED): not something the client can claim."""

    pid: int
    uid: int
    gid: int

    @property
    def user(self) -> str:
        try:
            return pwd.getpwuid(self.uid).pw_name
        except KeyError:
            return str(self.uid)

    def __str__(self) -> str:
        return f"uid {self.uid} ({self.user}) gid {self.gid} pid {self.pid}"


def peer_of(conn: socket.socket) -> Peer:
    try:
        pid, uid, gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                            struct.calcsize("3i")))
    except OSError:
        return Peer(-1, -1, -1)
    return Peer(pid, uid, gid)


Handler = Callable[[bytes, Peer], bytes]


def bind_socket(path: Path, mode: int = 0o660) -> socket.socket:
    """A listening Unix socket at ``path`` with permissions ``mode``; raises ``CameradError`` if one is live."""
    path = Path(path)
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        st = path.lstat()
        if not stat.S_ISSOCK(st.st_mode):
            raise CameradError(f"control socket {path}: a file that is not a socket is in the way")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.settimeout(1.0)
            probe.connect(str(path))
        except OSError:
            path.unlink()  # left by a daemon that died: nobody answers on it
        else:
            raise CameradError(f"control socket {path}: another camerad is already listening there")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # The socket file is created with the umask's permissions; keep it closed to others until chmod.
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    except OSError as exc:
        sock.close()
        raise CameradError(f"control socket {path}: cannot listen there: {exc.strerror or exc}") from exc
    finally:
        os.umask(old)
    os.chmod(path, mode)
    sock.listen(128)
    return sock


class ControlServer:
    """Serve ``handler`` (one request line in, one response line out) on a listening Unix socket."""

    def __init__(self, sock: socket.socket, handler: Handler, *, path: Path | None = None,
                 idle_timeout: float = 30.0, request_timeout: float = REQUEST_TIMEOUT_S, max_clients: int = 128,
                 max_line: int = protocol.MAX_LINE, clock: Clock | None = None):
        self.sock = sock
        self.path = path  # set when we bound it (and so remove it on close)
        self.handler = handler
        self.idle_timeout = idle_timeout
        self.request_timeout = min(request_timeout, idle_timeout)
        cap = fd_share(0.25)
        if max_clients > cap:
            log.warning("control socket: serving %d clients at most, not %d: a quarter of the open-file limit",
                        cap, max_clients)
        self.max_clients = min(max_clients, cap)
        self.max_line = max_line
        self.deadlines = Deadlines(clock, self._expire)
        self._reserve = FdReserve("control socket", clock)
        self._stop_r, self._stop_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._thread: threading.Thread | None = None
        self.accepted = 0
        self.turned_away = 0

    @property
    def address(self) -> str:
        return str(self.path) if self.path else str(self.sock.getsockname() or "<activated>")

    @property
    def clients(self) -> int:
        return len(self.deadlines)

    def start(self) -> None:
        self.sock.setblocking(False)
        # Made here, not in the thread: descriptors may have run out by the time the thread runs.
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        sel.register(self._stop_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._accept_loop, args=(sel,), name="camerad-control", daemon=True)
        self._thread.start()
        log.info("control socket: listening on %s", self.address)

    def close(self) -> None:
        """Stop accepting, end every connection, remove the socket file if we made it. Idempotent."""
        if self._thread is None:
            return
        os.write(self._stop_w, b"x")
        self._thread.join(timeout=5)
        self._thread = None
        self.deadlines.shut_all()
        self.sock.close()
        self._reserve.close()
        if self.path is not None:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
        os.close(self._stop_r)
        os.close(self._stop_w)

    # -- threads -------------------------------------------------------------------------------------------
    def _accept_loop(self, sel: selectors.BaseSelector) -> None:
        with sel:
            while True:
                events = sel.select(self.deadlines.next_in(1.0))
                self.deadlines.reap()
                if any(key.fileobj == self._stop_r for key, _ in events):
                    return
                if not events:
                    continue
                try:
                    conn, _ = self.sock.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as exc:
                    if exc.errno not in FD_ERRNOS:
                        log.error("control socket: accept failed: %s", exc)
                    elif not self._reserve.refuse_one(self.sock, exc, protocol.error(None, "busy", (
                            "camerad is out of file descriptors; try again shortly"))):
                        select.select([self._stop_r], [], [], 0.5)  # nothing to give up: wait, do not spin
                    continue
                self._admit(conn)

    def _admit(self, conn: socket.socket) -> None:
        conn.settimeout(SEND_TIMEOUT_S)  # bounds sends; reads are bounded by the deadlines
        if len(self.deadlines) >= self.max_clients:
            self.turned_away += 1
            log.warning("control socket: turned a client away (%s): %d clients already", peer_of(conn),
                        self.max_clients)
            self._send_quietly(conn, protocol.error(None, "busy", f"too many clients: {self.max_clients} are "
                                                                  f"connected; try again shortly"))
            conn.close()
            return
        slot = self.deadlines.add(conn)
        self.deadlines.arm(slot, "idle", self.idle_timeout)
        try:
            threading.Thread(target=self._serve, args=(slot,), name="camerad-control-client", daemon=True).start()
        except RuntimeError as exc:  # no thread to be had (TasksMax, memory): this client waits for none
            self.deadlines.remove(slot)
            log.error("control socket: cannot serve a client: %s", exc)
            self._send_quietly(conn, protocol.error(None, "busy", "camerad cannot start a thread for this "
                                                                  "connection now; try again shortly"))
            conn.close()
            return
        self.accepted += 1

    def _serve(self, slot: Slot) -> None:
        conn = slot.conn
        peer = peer_of(conn)
        slot.peer = str(peer)
        log.debug("control socket: %s connected", peer)
        buf = bytearray()
        try:
            while True:
                nl = buf.find(b"\n")
                if nl < 0:
                    if len(buf) >= self.max_line:
                        self._refuse_line(conn, peer)
                        return
                    try:
                        chunk = conn.recv(65536)
                    except socket.timeout:
                        continue  # the reaper ends a late connection; this only bounds the wait
                    if not chunk or slot.expired:
                        return
                    begun = bool(buf.strip())
                    buf += chunk
                    if not begun and buf.strip():  # the first byte of a request: its own deadline, not moved again
                        self.deadlines.arm(slot, "request", self.request_timeout)
                    continue
                if nl + 1 > self.max_line:
                    self._refuse_line(conn, peer)
                    return
                line = bytes(buf[:nl])
                del buf[:nl + 1]
                if not line.strip():
                    continue  # ignored, and no reason to keep the connection longer
                if not self.deadlines.disarm(slot):
                    return
                conn.sendall(self._handle(line, peer))
                if buf.strip():
                    self.deadlines.arm(slot, "request", self.request_timeout)
                else:
                    self.deadlines.arm(slot, "idle", self.idle_timeout)
        except (OSError, socket.timeout) as exc:
            log.debug("control socket: %s: connection ended: %s", peer, exc)
        finally:
            self.deadlines.remove(slot)
            conn.close()

    def _expire(self, slot: Slot) -> None:
        if slot.phase == "request":
            why = f"a request still incomplete {slot.limit_s:g} s after its first byte"
        else:
            why = f"no complete request in {slot.limit_s:g} s"
        send_now(slot.conn, protocol.error(None, "timeout", f"{why}; closing the connection"))
        log.info("control socket: %s: %s, dropped", slot.peer or "a client", why)

    def _handle(self, line: bytes, peer: Peer) -> bytes:
        try:
            return self.handler(line, peer)
        except Exception as exc:  # noqa: BLE001 - the handler's bugs must not end the server
            log.exception("control socket: handler failed: %s", exc)
            return protocol.error(None, "internal", f"internal error: {type(exc).__name__}: {exc}")

    def _refuse_line(self, conn: socket.socket, peer: Peer) -> None:
        log.warning("control socket: %s sent a line over %d bytes, dropped", peer, self.max_line)
        self._send_quietly(conn, protocol.error(None, "line_too_long", (
            f"request line longer than {self.max_line} bytes; closing the connection")))

    @staticmethod
    def _send_quietly(conn: socket.socket, data: bytes) -> None:
        try:
            conn.settimeout(SEND_TIMEOUT_S)
            conn.sendall(data)
            # Let the client read the error before the close resets the connection.
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
