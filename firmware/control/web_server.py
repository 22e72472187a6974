"""The preview page's HTTP server: the standard library's threading server with deadlines, a connection cap, and
a listener that neither spins nor leaves clients hanging when the process is out of file descriptors."""

from __future__ import annotations

import json
import logging
import sys
import threading
from http import HTTPStatus
from http.server import ThreadingHTTPServer

from .connections import FD_ERRNOS, Deadlines, FdReserve, Slot, drain_and_close, send_now

log = logging.getLogger("firmware.control.web")


def _canned(status: HTTPStatus, message: str) -> bytes:
    body = json.dumps({"error": {"code": "busy" if status == 503 else "timeout", "message": message}}).encode()
    return (f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\nRetry-After: 5\r\n\r\n").encode() + body


class PreviewHttpServer(ThreadingHTTPServer):
    """The standard library's threading HTTP server with deadlines, a connection cap, and a listener that
    neither spins nor leaves clients hanging when the process is out of file descriptors."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, handler, *, clock, idle_timeout: float, request_timeout: float,
                 max_connections: int, closing: threading.Event):
        super().__init__(address, handler)
        self.deadlines = Deadlines(clock, self._expire)
        self.reserve = FdReserve("preview page", clock)
        self.idle_timeout, self.request_timeout = idle_timeout, min(request_timeout, idle_timeout)
        self.max_connections = max_connections
        self.active = 0
        self.turned_away = 0
        self._count = threading.Lock()
        self._closing = closing

    def get_request(self):
        try:
            return super().get_request()
        except OSError as exc:
            if exc.errno in FD_ERRNOS and not self.reserve.refuse_one(self.socket, exc, _canned(
                    HTTPStatus.SERVICE_UNAVAILABLE, "camerad is out of file descriptors; try again shortly")):
                self._closing.wait(0.5)  # nothing to give up: wait rather than spin on a readable listener
            raise

    def process_request(self, request, client_address):
        with self._count:
            full = self.active >= self.max_connections
            self.active += not full
        if full:
            self.turned_away += 1
            if self.turned_away % 100 == 1:
                log.warning("preview page: %d connections open; turning clients away (%d so far)",
                            self.max_connections, self.turned_away)
            send_now(request, _canned(HTTPStatus.SERVICE_UNAVAILABLE, f"{self.max_connections} connections are "
                                                                      f"open; try again shortly"))
            drain_and_close(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread to be had: socketserver logs it and closes the connection
            with self._count:
                self.active -= 1
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._count:
                self.active -= 1

    def shutdown_request(self, request):
        drain_and_close(request)  # a refused request's unread body must not turn the close into a reset

    def service_actions(self):
        self.deadlines.reap()

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # the client went away, or its deadline ended the connection
            log.debug("preview page: %s: connection ended: %s", client_address, exc)
        else:
            log.exception("preview page: request from %s failed", client_address)

    def _expire(self, slot: Slot) -> None:
        if slot.phase == "request":
            send_now(slot.conn, _canned(HTTPStatus.REQUEST_TIMEOUT, f"request not complete {slot.limit_s:g} s "
                                                                    f"after its first byte"))
        log.debug("preview page: %s: %s deadline passed, connection closed", slot.peer, slot.phase)
