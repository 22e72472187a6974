"""A client of the control socket (what camctl uses; scripts can too).

>>> with ControlClient("/run/camerad/control.sock") as cam:     # doctest: +SKIP
...     cam.call("status")["state"]
'ready'
"""

from __future__ import annotations

import itertools
import json
import socket
from pathlib import Path
from typing import Any

from ..errors import CameradError
from . import protocol

# Responses (a fetched chunk, a preview JPEG) may be far longer than a request may be.
MAX_RESPONSE = 64 * 1024 * 1024


class RemoteError(CameradError):
    """The daemon answered with an error: ``code`` (see ``protocol.ERRORS``) and its message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidRequest(CameradError, ValueError):
    """A request the client will not send: a value JSON cannot carry (NaN, a lone surrogate), or too long."""


class ConnectionFailed(CameradError, ConnectionError):
    """No camerad answers on the socket (not running, or no permission to connect)."""


class ControlClient:
    def __init__(self, path: str | Path, *, timeout: float = 60.0):
        if not 0 < timeout < 1e9:  # also refuses NaN
            raise InvalidRequest(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.path = Path(path)
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._sock: socket.socket | None = None
        self._buf = bytearray()

    def connect(self) -> "ControlClient":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self.path))
        except FileNotFoundError:
            sock.close()
            raise ConnectionFailed(f"{self.path}: no control socket there (is camerad running? camctl --socket "
                                   f"PATH or CAMERAD_SOCKET name another)") from None
        except PermissionError:
            sock.close()
            raise ConnectionFailed(f"{self.path}: permission denied (operators join the camera group: "
                                   f"sudo usermod -aG camera $USER, then log in again)") from None
        except OSError as exc:
            sock.close()
            raise ConnectionFailed(f"{self.path}: cannot connect: {exc.strerror or exc}") from None
        self._sock = sock
        return self

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> "ControlClient":
        return self.connect() if self._sock is None else self

    def __exit__(self, *exc) -> None:
        self.close()

    def call(self, method: str, timeout: float | None = None, **params: Any) -> Any:
        """Send one request and return its result; an error response raises ``RemoteError``."""
        bad = protocol.unsendable(params)
        if bad:
            raise InvalidRequest(f"{method}: {bad}")
        rid = next(self._ids)
        line = protocol.encode({"id": rid, "method": method, "params": params, "v": protocol.VERSION})
        if len(line) > protocol.MAX_LINE:
            raise InvalidRequest(f"{method}: the request is {len(line)} bytes, over the {protocol.MAX_LINE}-byte "
                                 f"limit")
        if self._sock is None:
            self.connect()
        self._sock.settimeout(timeout or self.timeout)
        try:
            self._sock.sendall(line)
            reply = self._read_line()
        except socket.timeout:
            self.close()
            raise ConnectionFailed(f"{self.path}: no answer to {method} within {timeout or self.timeout:g} s") \
                from None
        except OSError as exc:
            self.close()
            raise ConnectionFailed(f"{self.path}: connection lost: {exc.strerror or exc}") from None
        try:
            doc = json.loads(reply)
        except ValueError as exc:
            raise ConnectionFailed(f"{self.path}: the daemon sent something that is not JSON: {exc}") from None
        if "error" in doc:
            err = doc["error"] or {}
            raise RemoteError(str(err.get("code", "internal")), str(err.get("message", "unknown error")))
        if doc.get("id") != rid:
            raise ConnectionFailed(f"{self.path}: answer for request {doc.get('id')!r}, expected {rid}")
        return doc.get("result")

    def _read_line(self) -> bytes:
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[:nl])
                del self._buf[:nl + 1]
                return line
            if len(self._buf) > MAX_RESPONSE:
                raise ConnectionFailed(f"{self.path}: a response over {MAX_RESPONSE} bytes")
            chunk = self._sock.recv(1 << 20)
            if not chunk:
                if self._buf:
                    line, self._buf = bytes(self._buf), bytearray()
                    return line
                raise ConnectionFailed(f"{self.path}: the daemon closed the connection")
            self._buf += chunk
