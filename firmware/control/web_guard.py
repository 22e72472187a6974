"""What the preview page checks before it routes a request, and the headers every answer carries.

The page listens on loopback, but the operator's browser also runs other sites' pages, which can send it
requests. What stops them, each for an attack that worked before:

* **Framing.** A body is read whole or the connection is closed: a request with ``Transfer-Encoding``, more
  than one ``Content-Length``, one that is not plain digits, or one over ``MAX_BODY`` is refused and the
  connection closed, so no body bytes are ever read as a second request (a cross-origin ``text/plain`` POST
  once smuggled a shutter press that way). The request head is at most ``MAX_HEAD`` bytes.
* **One loopback Host, origin-form targets.** Exactly one ``Host``, a loopback name (DNS rebinding gives a
  foreign name); an absolute-form target (``GET http://evil/ HTTP/1.1``, which overrides Host) is refused.
* **Same-origin only.** Browsers say where a request comes from (``Sec-Fetch-Site``, ``Origin``): another
  origin, same-site or not, gets nothing but a top-level navigation to the page itself. So another page's
  ``<img>`` tags cannot hold the MJPEG streams, nor its ``fetch`` reach the API. Clients that send no fetch
  metadata (camctl, curl, scripts over the SSH tunnel) are served as before.
* **No framing by others.** ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` (no clickjacking of the
  shutter button); the page's own script and style are allowed by hash, nothing else.
"""

from __future__ import annotations

import http.client
import re
from http import HTTPStatus
from typing import BinaryIO

from .page import CSP

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
MAX_BODY = 4096  # the page sends no body at all; a little room for scripts that send an empty JSON object
MAX_HEAD = 64 * 1024  # request line and headers; a browser's are ~1 KB (more with cookies for localhost)
SAME_ORIGIN = (None, "same-origin", "none")  # "none": the operator typed the address or used a bookmark

SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Referrer-Policy", "no-referrer"),
)

_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]/@]+)(?::(\d{1,5}))?$")


class Refusal(Exception):
    """A request the page will not serve: the HTTP status, an error code and a one-line message."""

    def __init__(self, status: HTTPStatus, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def check_target(target: str) -> tuple[str, str]:
    """The route and query of an origin-form request target (``/path?query``)."""
    if not target.startswith("/"):
        raise Refusal(HTTPStatus.BAD_REQUEST, "invalid_request",
                      f"the request target must be a path, not {target[:60]!r} (absolute form is for proxies)")
    route, _, query = target.partition("?")
    return route, query


def check_host(headers) -> str:
    """The one Host header, if it names this machine's loopback; its text (for comparing with Origin)."""
    hosts = headers.get_all("Host") or []
    if len(hosts) != 1:
        raise Refusal(HTTPStatus.BAD_REQUEST, "invalid_request", f"a request has one Host header, this has "
                                                                 f"{len(hosts)}")
    host = hosts[0].strip()
    m = _HOST.match(host)
    if not m or m.group(1).lower() not in LOOPBACK_NAMES:
        raise Refusal(HTTPStatus.FORBIDDEN, "invalid_request", f"Host {host[:80]!r} is not a loopback name")
    return host


def body_length(headers) -> int:
    """The length of the body to read whole before anything else (refused when it cannot be known or is big)."""
    if headers.get_all("Transfer-Encoding"):
        raise Refusal(HTTPStatus.NOT_IMPLEMENTED, "invalid_request", "Transfer-Encoding is not accepted here; "
                                                                     "send Content-Length")
    lengths = headers.get_all("Content-Length") or []
    if not lengths:
        return 0
    if len(lengths) > 1 or not re.fullmatch(r"[0-9]{1,12}", lengths[0].strip()):
        raise Refusal(HTTPStatus.BAD_REQUEST, "invalid_request",
                      f"Content-Length must be one decimal number, got {', '.join(lengths)[:60]!r}")
    length = int(lengths[0])
    if length > MAX_BODY:
        raise Refusal(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "invalid_request",
                      f"a body of {length} bytes; the preview page takes at most {MAX_BODY}")
    return length


def check_same_origin(headers, command: str, route: str, host: str) -> None:
    """Refuse what another web page sends through the operator's browser (fetch metadata and Origin)."""
    site = headers.get("Sec-Fetch-Site")
    navigation = (command == "GET" and route == "/" and headers.get("Sec-Fetch-Mode") == "navigate"
                  and headers.get("Sec-Fetch-Dest") == "document")
    if site not in SAME_ORIGIN and not navigation:
        raise Refusal(HTTPStatus.FORBIDDEN, "invalid_request", f"{route[:60]} is served to the preview page only, "
                                                               f"not to another site's page ({site})")
    origin = headers.get("Origin")
    if origin is not None and origin != f"http://{host}":
        raise Refusal(HTTPStatus.FORBIDDEN, "invalid_request", f"a request from {origin[:80]!r}, not from the "
                                                               f"preview page")


class HeadLimit:
    """The connection's reader while a request head is read: more than ``limit`` bytes of request line and
    headers in all ends in http.client's LineTooLong (which BaseHTTPRequestHandler answers with 431)."""

    def __init__(self, raw: BinaryIO, limit: int = MAX_HEAD):
        self.raw = raw
        self.left = limit
        self.lines = 0

    def readline(self, size: int = -1) -> bytes:
        if self.lines == 0:  # the request line: the handler's own limit (414) applies; it counts all the same
            line = self.raw.readline(size)
        else:
            line = self.raw.readline(max(0, self.left) + 1 if size < 0 else min(size, max(0, self.left) + 1))
        self.lines += 1
        self.left -= len(line)
        if self.left < 0 and self.lines > 1:
            raise http.client.LineTooLong(f"request head over {MAX_HEAD} bytes")
        return line

    def __getattr__(self, name):
        return getattr(self.raw, name)
