"""The local preview page: live MJPEG, status, histogram, zebras and focus peaking, a shutter button.

It listens on 127.0.0.1 only (operators reach it with ``ssh -L 8088:127.0.0.1:8088 camera``), and only when
``[preview] enabled``. Every request passes ``web_guard`` first (its body read whole or the connection closed,
one loopback Host, same-origin pages only, no framing), and a picture is taken or a setting changed only on a
POST carrying ``X-Camerad: 1``. A connection gets ``IDLE_TIMEOUT_S`` to start a request and ``REQUEST_TIMEOUT_S`` from its
first byte to its last; at most ``MAX_CONNECTIONS`` are open at once (one more is told 503 and closed).
Everything it shows comes through the same methods camctl calls.

=======================  ==========================================================================
GET /                    the page
GET /stream.mjpg         multipart/x-mixed-replace JPEG stream (``?zebra=1&peaking=1`` overlays)
GET /frame.jpg           one JPEG (same options)
GET /api/METHOD          the result of ``status``, ``histogram``, ``focus``, ``get``, ``looks``, ``files``
                         (``?limit=N``) or ``timelapse.status`` (methods that change nothing)
GET /api/stream          streams being served, frames sent, connections open and turned away
GET /captures/NAME       a capture file, as a download (``?thumb=1``: a JPEG of it, 320 pixels at most)
POST /api/shutter        the ``shutter`` method (the current drive mode); returns the files written
POST /api/set            the ``set`` method, body ``{"values": {...}}`` (exposure, gain, awb, look, drive_mode...)
=======================  ==========================================================================
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from ..camera import analysis
from ..camera.viewfinder import ViewfinderError
from ..clock import Clock
from ..formats.jpeg import encode_jpeg
from . import web_files, web_guard as guard
from .connections import SEND_TIMEOUT_S, Deadlines, fd_share
from .methods_files import captures_directory
from .page import PAGE
from .protocol import RequestError
from .web_server import PreviewHttpServer

if TYPE_CHECKING:  # pragma: no cover
    from ..camera import Camerad
    from .dispatch import Dispatcher

log = logging.getLogger(__name__)

# Methods the page may call with GET (they change nothing), and the POSTs (each needs X-Camerad: 1).
READ_ONLY = {"status", "histogram", "focus", "get", "looks", "files", "timelapse.status"}
ACTIONS = ("/api/shutter", "/api/set")

_BOUNDARY = "camerad-frame"
IDLE_TIMEOUT_S = 15.0     # a kept-alive connection with no new request is closed (the page polls every second)
REQUEST_TIMEOUT_S = 10.0  # from a request's first byte to its last (head and body)
MAX_CONNECTIONS = 32      # a browser opens 6 per host; never more than an eighth of the open-file limit


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
        self._httpd = PreviewHttpServer((host, port), _handler_for(self), clock=clock, idle_timeout=idle_timeout,
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


def _handler_for(server: PreviewServer):
    class Handler(_PreviewHandler):
        preview = server

    return Handler


class _PreviewHandler(BaseHTTPRequestHandler):
    preview: PreviewServer
    server: PreviewHttpServer
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
        """Check the request and read its body whole (into ``self.body``); its route and query, or None once
        refused."""
        self.rfile = self.raw_rfile
        self.body = b""
        try:
            route, query = guard.check_target(self.path)
            host = guard.check_host(self.headers)
            length = guard.body_length(self.headers)
            self.body = self.rfile.read(length) if length else b""
            if len(self.body) < length:
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
        elif route.startswith("/api/") and route[5:] in READ_ONLY:
            limit = query.get("limit", "")
            self._call(route[5:], {"limit": int(limit)} if route == "/api/files" and limit.isdigit() else {})
        elif route == "/api/stream":
            self._json(HTTPStatus.OK, {"streams": self.preview.active_streams, "frames_sent": self.preview.frames_sent,
                                       "connections": self.server.active, "turned_away": self.server.turned_away})
        elif route == "/favicon.ico":  # browsers ask for one; the page has none
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        elif route.startswith("/captures/"):
            self._capture(route[len("/captures/"):], thumbnail=query.get("thumb") == "1")
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": {"code": "not_found", "message": f"no page {route[:80]}"}})

    def do_POST(self):
        admitted = self._admit()
        if admitted is None:
            return
        route, _ = admitted
        if route not in ACTIONS:
            self._json(HTTPStatus.NOT_FOUND, {"error": {"code": "not_found", "message": f"no action {route[:80]}"}})
            return
        if self.headers.get("X-Camerad") != "1":
            self._json(HTTPStatus.FORBIDDEN, {"error": {"code": "invalid_request",
                                                        "message": f"{route} needs the X-Camerad: 1 header"}})
            return
        if route == "/api/shutter":
            self._call("shutter", {"wait": True, "timeout": 60.0})
            return
        try:
            values = json.loads(self.body or b"null").get("values")
        except (ValueError, AttributeError):
            values = None
        if not isinstance(values, dict):
            self._json(HTTPStatus.BAD_REQUEST, {"error": {"code": "invalid_params",
                                                          "message": 'set: send {"values": {KEY: VALUE}} as JSON'}})
            return
        self._call("set", {"values": values})

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

    def _capture(self, name: str, thumbnail: bool) -> None:
        """A capture file to download, or a small JPEG of it (``?thumb=1``) for the page."""
        directory = captures_directory(self.preview.app)
        try:
            if thumbnail:
                self._send(HTTPStatus.OK, web_files.thumbnail(directory, name), "image/jpeg")
                return
            fd, size = web_files.read_capture(directory, name)
        except RequestError as exc:
            status = HTTPStatus.NOT_FOUND if exc.code == "not_found" else HTTPStatus.BAD_REQUEST
            self._json(status, {"error": {"code": exc.code, "message": exc.message}})
            return
        with open(fd, "rb") as f:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", web_files.content_type(name))
            self.send_header("Content-Length", str(size))
            self.send_header("Content-Disposition", f'attachment; filename="{name}"')
            self.end_headers()
            while chunk := f.read(1 << 18):
                self.wfile.write(chunk)

    def _jpeg(self, frame, zebra: bool, peaking: bool) -> bytes:
        quality = self.preview.app.config.preview.jpeg_quality
        if not (zebra or peaking):
            return frame.jpeg(quality)
        return encode_jpeg(analysis.overlays(frame.rgb, zebra=zebra, peaking=peaking), quality=quality, icc_profile=None)

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
