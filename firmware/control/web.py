"""The local preview page: live MJPEG, status, histogram, zebras and focus peaking, a shutter button.

It listens on 127.0.0.1 only (operators reach it with ``ssh -L 8088:127.0.0.1:8088 camera``), and only when
``[preview] enabled``. Every request passes ``web_guard`` first (its body read whole or the connection closed,
one loopback Host, same-origin pages only, no framing), and a picture is taken only on a POST carrying
``X-Camerad: 1``. A connection gets ``IDLE_TIMEOUT_S`` to start a request and ``REQUEST_TIMEOUT_S`` from its
first byte to its last; at most ``MAX_CONNECTIONS`` are open at once (one more is told 503 and closed).
Everything it shows comes through the same methods camctl calls.

=======================  ==========================================================================
GET /                    the page
GET /stream.mjpg         multipart/x-mixed-replace JPEG stream (``?zebra=1&peaking=1`` overlays)
GET /frame.jpg           one JPEG (same options)
GET /api/status          the ``status`` method's result
GET /api/histogram       the ``histogram`` method's result
GET /api/focus           the ``focus`` method's result
GET /api/stream          streams being served, frames sent, connections open and turned away
POST /api/shutter        the ``shutter`` method (the current drive mode); returns the files written
=======================  ==========================================================================
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from ..camera import analysis
from ..camera.viewfinder import ViewfinderError
from ..clock import Clock
from ..formats.jpeg import encode_jpeg
from . import web_guard as guard
from .connections import FD_ERRNOS, SEND_TIMEOUT_S, Deadlines, FdReserve, Slot, drain_and_close, fd_share, send_now
from .page import PAGE
from .protocol import RequestError

if TYPE_CHECKING:  # pragma: no cover
    from ..camera import Camerad
    from .dispatch import Dispatcher

log = logging.getLogger(__name__)

_BOUNDARY = "camerad-frame"
IDLE_TIMEOUT_S = 15.0     # a kept-alive connection with no new request is closed (the page polls every second)
REQUEST_TIMEOUT_S = 10.0  # from a request's first byte to its last (head and body)
MAX_CONNECTIONS = 32      # a browser opens 6 per host; never more than an eighth of the open-file limit


def _canned(status: HTTPStatus, message: str) -> bytes:
    body = json.dumps({"error": {"code": "busy" if status == 503 else "timeout", "message": message}}).encode()
    return (f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\nRetry-After: 5\r\n\r\n").encode() + body


class _HttpPeer:
    def __init__(self, address):
        self.address = address

    def __str__(self) -> str:
        return f"the preview page (HTTP client {self.address[0]}:{self.address[1]})"


class PreviewServer:
    def __init__(self, app: "Camerad", dispatcher: "Dispatcher", *, port: int, host: str = "127.0.0.1",
                 clock: Clock | None = None, idle_timeout: float = IDLE_TIMEOUT_S,
                 request_timeout: float = REQUEST_TIMEOUT_S, max_connections: int = MAX_CONNECTIONS):
        self.app = app
        self.dispatcher = dispatcher
        self.streams = threading.BoundedSemaphore(app.config.preview.max_streams)
        self.frames_sent = 0
        self.active_streams = 0
        self._closing = threading.Event()
        self._httpd = _Server((host, port), _handler_for(self), clock=clock, idle_timeout=idle_timeout,
                              request_timeout=request_timeout, max_connections=min(max_connections, fd_share(1 / 8)),
                              closing=self._closing)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def deadlines(self) -> Deadlines:
        return self._httpd.deadlines

    @property
    def connections(self) -> int:
        return self._httpd.active

    def start(self) -> None:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="camerad-preview-http", daemon=True)
        self._thread.start()
        log.info("preview page: http://127.0.0.1:%d/ (ssh -L %d:127.0.0.1:%d to reach it)", self.port, self.port,
                 self.port)

    def close(self) -> None:
        self._closing.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.deadlines.shut_all()
        self._httpd.server_close()
        self._httpd.reserve.close()


class _Server(ThreadingHTTPServer):
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


def _handler_for(server: PreviewServer):
    class Handler(_PreviewHandler):
        preview = server

    return Handler


class _PreviewHandler(BaseHTTPRequestHandler):
    preview: PreviewServer
    server: _Server
    server_version = "camerad-preview"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # into our log at debug, not stderr
        log.debug("preview page: %s - %s", self.address_string(), fmt % args)

    # -- one request at a time, each within its deadlines --------------------------------------------------
    def setup(self):
        super().setup()
        self.raw_rfile = self.rfile
        self.slot = self.server.deadlines.add(self.connection, f"{self.client_address[0]}:{self.client_address[1]}")

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.deadlines.remove(self.slot)

    def handle_one_request(self):
        deadlines = self.server.deadlines
        self.connection.settimeout(None)  # reads end by the deadlines, not by a timer each byte restarts
        if not deadlines.arm(self.slot, "idle", self.server.idle_timeout) or not self.raw_rfile.peek(1) \
                or not deadlines.arm(self.slot, "request", self.server.request_timeout):
            self.close_connection = True
            return
        self.rfile = guard.HeadLimit(self.raw_rfile)
        try:
            super().handle_one_request()
        finally:
            self.rfile = self.raw_rfile

    def end_headers(self):
        for name, value in guard.SECURITY_HEADERS:
            self.send_header(name, value)
        super().end_headers()

    def _admit(self) -> tuple[str, dict] | None:
        """Check the request and read its body whole; its route and query, or None once refused."""
        self.rfile = self.raw_rfile
        try:
            route, query = guard.check_target(self.path)
            host = guard.check_host(self.headers)
            length = guard.body_length(self.headers)
            if length and len(self.rfile.read(length)) < length:
                self.close_connection = True  # the client went away, or its request deadline passed
                return None
            if not self.server.deadlines.disarm(self.slot):
                self.close_connection = True
                return None
            self.connection.settimeout(SEND_TIMEOUT_S)  # a client that stops reading is dropped
            guard.check_same_origin(self.headers, self.command, route, host)
        except guard.Refusal as refusal:
            self.server.deadlines.disarm(self.slot)
            self.connection.settimeout(SEND_TIMEOUT_S)
            self.close_connection = True  # never read another request from a connection we refused
            log.debug("preview page: refused %s %s: %s", self.command, self.path[:80], refusal.message)
            self._json(refusal.status, {"error": {"code": refusal.code, "message": refusal.message}},
                       close=True)
            return None
        return route, {k: v[-1] for k, v in parse_qs(query).items()}

    # -- routing -------------------------------------------------------------------------------------------
    def do_GET(self):
        admitted = self._admit()
        if admitted is None:
            return
        route, query = admitted
        overlays = {"zebra": query.get("zebra") == "1", "peaking": query.get("peaking") == "1"}
        if route == "/":
            self._send(HTTPStatus.OK, PAGE.encode("utf-8"), "text/html; charset=utf-8")
        elif route == "/stream.mjpg":
            self._stream(**overlays)
        elif route == "/frame.jpg":
            self._frame(**overlays)
        elif route in ("/api/status", "/api/histogram", "/api/focus"):
            self._call(route.rsplit("/", 1)[1], {})
        elif route == "/api/stream":
            self._json(HTTPStatus.OK, {"streams": self.preview.active_streams, "frames_sent": self.preview.frames_sent,
                                       "connections": self.server.active, "turned_away": self.server.turned_away})
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": {"code": "not_found", "message": f"no page {route[:80]}"}})

    def do_POST(self):
        admitted = self._admit()
        if admitted is None:
            return
        route, _ = admitted
        if route != "/api/shutter":
            self._json(HTTPStatus.NOT_FOUND, {"error": {"code": "not_found", "message": f"no action {route[:80]}"}})
            return
        if self.headers.get("X-Camerad") != "1":
            self._json(HTTPStatus.FORBIDDEN, {"error": {"code": "invalid_request",
                                                        "message": "the shutter needs the X-Camerad: 1 header"}})
            return
        self._call("shutter", {"wait": True, "timeout": 60.0})

    # -- responses -----------------------------------------------------------------------------------------
    def _call(self, method: str, params: dict) -> None:
        try:
            result = self.preview.dispatcher.call(method, params, _HttpPeer(self.client_address))
        except RequestError as exc:
            unavailable = exc.code in ("unavailable", "refused", "busy")
            status = HTTPStatus.SERVICE_UNAVAILABLE if unavailable else HTTPStatus.BAD_REQUEST
            self._json(status, {"error": {"code": exc.code, "message": exc.message}})
            return
        self._json(HTTPStatus.OK, result)

    def _json(self, status: HTTPStatus, doc, close: bool = False) -> None:
        self._send(status, json.dumps(doc, default=str, allow_nan=False).encode("utf-8"), "application/json", close)

    def _send(self, status: HTTPStatus, body: bytes, ctype: str, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _jpeg(self, frame, zebra: bool, peaking: bool) -> bytes:
        quality = self.preview.app.config.preview.jpeg_quality
        if not (zebra or peaking):
            return frame.jpeg(quality)
        rgb = analysis.peaking(frame.rgb) if peaking else frame.rgb
        return encode_jpeg(analysis.zebras(rgb) if zebra else rgb, quality=quality, icc_profile=None)

    def _frame(self, zebra: bool, peaking: bool) -> None:
        try:
            frame = self.preview.app.preview().latest(timeout=10.0)
        except ViewfinderError as exc:
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": {"code": "unavailable", "message": str(exc)}})
            return
        self._send(HTTPStatus.OK, self._jpeg(frame, zebra, peaking), "image/jpeg")

    def _stream(self, zebra: bool, peaking: bool) -> None:
        pv = self.preview
        if not pv.streams.acquire(blocking=False):
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": {"code": "busy", "message": (
                f"{pv.app.config.preview.max_streams} preview streams are already being served")}})
            return
        pv.active_streams += 1
        try:
            self.close_connection = True
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={_BOUNDARY}")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            viewfinder = pv.app.preview()
            seq = None
            while not pv._closing.is_set():
                try:
                    frame = viewfinder.next_after(seq, timeout=10.0)
                except ViewfinderError as exc:
                    log.warning("preview stream: %s", exc)
                    return
                seq = frame.sequence
                jpeg = self._jpeg(frame, zebra, peaking)
                self.wfile.write(f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                                 .encode("ascii") + jpeg + b"\r\n")
                self.wfile.flush()
                pv.frames_sent += 1
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the viewer went away
        finally:
            pv.active_streams -= 1
            pv.streams.release()
