"""Connection limits shared by the control socket and the preview page: deadlines, caps, file descriptors.

* **Deadlines.** A connection waiting for a request has an *idle* deadline; once the first byte of a request
  arrives it has a *request* deadline, counted from that byte and not moved by later ones, so a client that
  dribbles a byte a second cannot keep its slot. A connection whose request is complete (being answered, or
  streaming) has no deadline. One reaper checks every deadline against the injected clock and ends the late
  connections; tests advance a ``FakeClock`` and call ``reap()``.
* **Caps below the file-descriptor limit.** Each server serves at most a share of ``RLIMIT_NOFILE`` so that
  neither can starve the other, the camera or the files being written.
* **File-descriptor exhaustion.** When ``accept`` fails with EMFILE the listener gives up a spare descriptor it
  keeps for this, accepts the waiting client, tells it why and closes it (rather than leaving it hanging in the
  backlog and spinning on a listener that stays readable), and logs once a minute, not once a loop.
"""

from __future__ import annotations

import errno
import logging
import os
import resource
import socket
import threading
from dataclasses import dataclass
from typing import Callable

from ..clock import Clock, SystemClock

log = logging.getLogger(__name__)

SEND_TIMEOUT_S = 10.0  # a client that does not read what it is sent for this long is dropped
FD_ERRNOS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


@dataclass(eq=False)
class Slot:
    """One connection's deadline (``None`` while its request is being answered)."""

    conn: socket.socket
    peer: str
    deadline_ns: int | None = None
    phase: str = ""  # "idle" or "request"
    limit_s: float = 0.0
    expired: bool = False


class Deadlines:
    """The deadlines of one server's connections; ``on_expire(slot)`` ends a late one (called outside the lock)."""

    def __init__(self, clock: Clock | None, on_expire: Callable[[Slot], None]):
        self.clock = clock or SystemClock()
        self.on_expire = on_expire
        self._slots: set[Slot] = set()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._slots)

    def add(self, conn: socket.socket, peer: str = "") -> Slot:
        slot = Slot(conn, peer)
        with self._lock:
            self._slots.add(slot)
        return slot

    def remove(self, slot: Slot) -> None:
        with self._lock:
            self._slots.discard(slot)

    def arm(self, slot: Slot, phase: str, seconds: float) -> bool:
        """Start ``slot``'s ``phase`` deadline ``seconds`` from now; False if it has already expired."""
        with self._lock:
            if slot.expired:
                return False
            slot.deadline_ns = self.clock.monotonic_ns() + int(seconds * 1e9)
            slot.phase, slot.limit_s = phase, seconds
            return True

    def disarm(self, slot: Slot) -> bool:
        """The request is complete: no deadline while it is answered. False if it expired first."""
        with self._lock:
            if slot.expired:
                return False
            slot.deadline_ns = None
            return True

    def phases(self) -> list[str | None]:
        """Each connection's phase (None while its request is answered), for status and tests."""
        with self._lock:
            return [s.phase if s.deadline_ns is not None else None for s in self._slots]

    def reap(self) -> list[Slot]:
        """End every connection past its deadline; the ones ended."""
        now = self.clock.monotonic_ns()
        with self._lock:
            late = [s for s in self._slots if not s.expired and s.deadline_ns is not None and now >= s.deadline_ns]
            for s in late:
                s.expired = True
        for s in late:
            try:
                self.on_expire(s)
            except OSError:
                pass
            shut(s.conn)
        return late

    def shut_all(self) -> None:
        """End every connection (the server is closing)."""
        with self._lock:
            conns = [s.conn for s in self._slots]
        for conn in conns:
            shut(conn)

    def next_in(self, cap: float) -> float:
        """Seconds until the nearest deadline (at most ``cap``): how long the reaper may wait."""
        now = self.clock.monotonic_ns()
        with self._lock:
            pending = [s.deadline_ns for s in self._slots if s.deadline_ns is not None and not s.expired]
        if not pending:
            return cap
        return min(cap, max(0.01, (min(pending) - now) / 1e9))


def shut(conn: socket.socket) -> None:
    """Wake the thread blocked reading ``conn`` (its read returns end-of-file) without closing it under it."""
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def send_now(conn: socket.socket, data: bytes) -> None:
    """Best effort, never blocking: a last word to a client that may not be reading."""
    try:
        conn.send(data, socket.MSG_DONTWAIT)
    except OSError:
        pass


def drain_and_close(conn: socket.socket) -> None:
    """Close after a last word: read what the client already sent first, so TCP does not reset the connection
    (which can throw away the answer before the client reads it)."""
    try:
        conn.shutdown(socket.SHUT_WR)
        for _ in range(4):  # what has arrived, up to 256 KiB; never waiting for more
            if not conn.recv(65536, socket.MSG_DONTWAIT):
                break
    except OSError:
        pass
    conn.close()


def fd_share(fraction: float, floor: int = 4) -> int:
    """``fraction`` of this process's soft open-file limit: the most connections one server may hold."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    return max(floor, int(soft * fraction))


class FdReserve:
    """A spare descriptor given up to accept (and refuse) a client when the process has run out of them."""

    def __init__(self, what: str, clock: Clock | None = None):
        self.what = what
        self.clock = clock or SystemClock()
        self._spare: int | None = None
        self._logged_ns: int | None = None
        self.exhausted = 0
        self._take()

    def _take(self) -> None:
        if self._spare is None:
            try:
                self._spare = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                self._spare = None

    def close(self) -> None:
        if self._spare is not None:
            os.close(self._spare)
            self._spare = None

    def refuse_one(self, listener: socket.socket, exc: OSError, answer: bytes) -> bool:
        """After ``accept`` failed with ``exc``: accept one client on the spare descriptor and send it
        ``answer``. True if a client was refused; False means wait before accepting again."""
        self.exhausted += 1
        now = self.clock.monotonic_ns()
        if self._logged_ns is None or now - self._logged_ns >= 60e9:
            self._logged_ns = now
            log.error("%s: out of file descriptors (%s): turning clients away until some are free (%d so far)",
                      self.what, exc.strerror or exc, self.exhausted)
        if self._spare is None:
            self._take()
            return False
        os.close(self._spare)
        self._spare = None
        try:
            conn, _ = listener.accept()
        except OSError:
            self._take()
            return False
        send_now(conn, answer)
        drain_and_close(conn)
        self._take()
        return self._spare is not None
