"""The local preview page: live MJPEG, status, histogram, zebras and focus peaking, a shutter button.

It listens on 127.0.0.1 only (operators reach it with ``ssh -L 8088:127.0.0.1:8088 camera``), and only when
``[preview] enabled``. It answers only requests whose Host is a loopback name (so a web page elsewhere cannot
reach it through DNS rebinding), and takes a picture only on a POST carrying ``X-Camerad: 1`` (which a
cross-site form cannot send). Everything it shows comes through the same methods camctl calls.

=======================  ==========================================================================
GET /                    the page
GET /stream.mjpg         multipart/x-mixed-replace JPEG stream (``?zebra=1&peaking=1`` overlays)
GET /frame.jpg           one JPEG (same options)
GET /api/status          the ``status`` method's result
GET /api/histogram       the ``histogram`` method's result
GET /api/focus           the ``focus`` method's result
GET /api/stream          streams being served and frames sent
POST /api/shutter        the ``shutter`` method (the current drive mode); returns the files written
=======================  ==========================================================================
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from ..camera import analysis
from ..camera.viewfinder import ViewfinderError
from ..formats.jpeg import encode_jpeg
from .page import PAGE
from .protocol import RequestError

if TYPE_CHECKING:  # pragma: no cover
    from ..camera import Camerad
    from .dispatch import Dispatcher

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")
_BOUNDARY = "camerad-frame"


class _HttpPeer:
    def __init__(self, address):
        self.address = address

    def __str__(self) -> str:
        return f"the preview page (HTTP client {self.address[0]}:{self.address[1]})"


class PreviewServer:
    def __init__(self, app: "Camerad", dispatcher: "Dispatcher", *, port: int, host: str = "127.0.0.1"):
        self.app = app
        self.dispatcher = dispatcher
        self.streams = threading.BoundedSemaphore(app.config.preview.max_streams)
        self.frames_sent = 0
        self.active_streams = 0
        self._closing = threading.Event()
        self._httpd = _Server((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

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
        self._httpd.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def _handler_for(server: PreviewServer):
    class Handler(_PreviewHandler):
        preview = server

    return Handler


class _PreviewHandler(BaseHTTPRequestHandler):
    preview: PreviewServer
    server_version = "camerad-preview"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # into our log at debug, not stderr
        log.debug("preview page: %s - %s", self.address_string(), fmt % args)

    # -- routing -------------------------------------------------------------------------------------------
    def do_GET(self):
        if not self._host_ok():
            return
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        overlays = {"zebra": query.get("zebra") == "1", "peaking": query.get("peaking") == "1"}
        route = url.path
        if route == "/":
            self._send(HTTPStatus.OK, PAGE.encode("utf-8"), "text/html; charset=utf-8")
        elif route == "/stream.mjpg":
            self._stream(**overlays)
        elif route == "/frame.jpg":
            self._frame(**overlays)
        elif route in ("/api/status", "/api/histogram", "/api/focus"):
            self._call(route.rsplit("/", 1)[1], {})
        elif route == "/api/stream":
            self._json(HTTPStatus.OK, {"streams": self.preview.active_streams, "frames_sent": self.preview.frames_sent})
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": {"code": "not_found", "message": f"no page {route}"}})

    def do_POST(self):
        if not self._host_ok():
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 65536))
        if urlsplit(self.path).path != "/api/shutter":
            self._json(HTTPStatus.NOT_FOUND, {"error": {"code": "not_found", "message": f"no action {self.path}"}})
            return
        if self.headers.get("X-Camerad") != "1":
            self._json(HTTPStatus.FORBIDDEN, {"error": {"code": "invalid_request",
                                                        "message": "the shutter needs the X-Camerad: 1 header"}})
            return
        self._call("shutter", {"wait": True, "timeout": 60.0})

    # -- responses -----------------------------------------------------------------------------------------
    def _host_ok(self) -> bool:
        host = (self.headers.get("Host") or "").strip()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name not in LOOPBACK_NAMES:
            self._json(HTTPStatus.FORBIDDEN, {"error": {"code": "invalid_request",
                                                        "message": f"Host {host!r} is not a loopback name"}})
            return False
        return True

    def _call(self, method: str, params: dict) -> None:
        try:
            result = self.preview.dispatcher.call(method, params, _HttpPeer(self.client_address))
        except RequestError as exc:
            unavailable = exc.code in ("unavailable", "refused", "busy")
            status = HTTPStatus.SERVICE_UNAVAILABLE if unavailable else HTTPStatus.BAD_REQUEST
            self._json(status, {"error": {"code": exc.code, "message": exc.message}})
            return
        self._json(HTTPStatus.OK, result)

    def _json(self, status: HTTPStatus, doc) -> None:
        self._send(status, json.dumps(doc, default=str, allow_nan=False).encode("utf-8"), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
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
