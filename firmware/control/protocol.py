"""camerad's control protocol: JSON lines over a Unix stream socket, one request and one response each.

A request is one JSON object on one line (at most ``MAX_LINE`` bytes, newline included)::

    {"id": 7, "method": "set", "params": {"values": {"look": "neutral"}}, "v": 1}

``id`` (a string or an integer) comes back in the response; ``params`` is an object (optional when a method
takes none); ``v`` is the protocol version the client speaks (optional; a version this daemon does not speak
is refused). The response is one line::

    {"id": 7, "result": {...}}
    {"id": 7, "error": {"code": "out_of_range", "message": "exposure: 9 is out of range [114, 694422] us"}}

Requests on one connection are answered in order; a client may keep its connection open for many requests.
Every method and error code is documented in ``docs/control-protocol.md``.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..actions import Setting
from ..errors import CameradError

log = logging.getLogger(__name__)

VERSION = 1
MAX_LINE = 64 * 1024
# The deepest request the protocol has is 4 levels ({"params": {"values": {"colour_gains": [...]}}}); a request
# nested deeper than this is refused before it is parsed (a parser that recursed 30 000 levels would overflow).
MAX_DEPTH = 32
# The settings ``get`` and ``set`` know (``firmware.camera.settings`` says what each accepts and does).
SETTING_KEYS = tuple(Setting)

# Error codes, each with what it means (docs/control-protocol.md lists them with examples).
ERRORS = {
    "parse_error": "the line is not valid JSON (or not UTF-8)",
    "invalid_request": "the JSON is not a request object: id, method, params or v is missing or of the wrong type",
    "unsupported_version": "the request's v is a protocol version this daemon does not speak",
    "line_too_long": f"the line is longer than {MAX_LINE} bytes; the connection is closed",
    "unknown_method": "no method of that name",
    "invalid_params": "a parameter is unknown, missing, or of the wrong type",
    "out_of_range": "a parameter's value is outside its range or not one of its choices",
    "not_found": "the file, look or key named does not exist",
    "refused": "the camera refused the capture (queue full, storage low, camera not streaming)",
    "failed": "the operation was tried and failed (a capture that could not be written, a reload rejected)",
    "unavailable": "not available on this camera now (no preview frames yet, not a mock sensor, no denoiser)",
    "timeout": "the operation or the connection timed out (an idle connection is closed after this error)",
    "busy": "too many clients are connected; the connection is closed",
    "internal": "an unexpected error in the daemon (logged with its traceback); the daemon carries on",
}


class RequestError(CameradError):
    """A request that gets an error response: ``code`` is one of ``ERRORS``, the message says what and where."""

    def __init__(self, code: str, message: str):
        if code not in ERRORS:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Request:
    id: str | int | None
    method: str
    params: dict[str, Any] = field(default_factory=dict)


def parse_request(line: bytes) -> Request:
    """Decode one request line, or raise ``RequestError`` (its ``id`` is unknown then, so responses carry null)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError("parse_error", f"the request is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    depth = nesting(text)
    if depth > MAX_DEPTH:
        raise RequestError("parse_error", f"the request is nested {depth} levels deep; at most {MAX_DEPTH}")
    try:
        doc = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        raise RequestError("parse_error", f"the request is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise RequestError("invalid_request", f"a request is a JSON object, got {type(doc).__name__}")
    bad = unsendable(doc.get("id"), "id")
    if bad:
        raise RequestError("invalid_request", bad)
    req = request_from(doc)
    bad = unsendable(doc)
    if bad:
        raise _with_id(RequestError("invalid_request", bad), req.id)
    return req


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def nesting(text: str) -> int:
    """How deeply the JSON ``text`` nests arrays and objects (strings skipped; exact for valid JSON)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(itertools.accumulate(1 if ch in "[{" else -1 for ch in brackets), default=0)


def unsendable(value: Any, where: str = "") -> str | None:
    """What in ``value`` JSON text cannot carry, and where: a lone UTF-16 surrogate (``"\\ud800"`` is valid JSON
    escaping but no character; undecodable bytes in a path come back as one) or NaN and the infinities."""
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                return f"{where or 'the request'}: {_short(value)!a} holds a lone surrogate {value[exc.start]!a} " \
                       f"(not UTF-8 text)"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where}: {value!r} is not a finite number (JSON has none)"
    if isinstance(value, dict):
        for k, v in value.items():
            found = unsendable(k, f"a key of {where or 'the request'}") or unsendable(v, f"{where}.{k}" if where
                                                                                       else str(k))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = unsendable(v, f"{where}[{i}]")
            if found:
                return found
    return None


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def request_from(doc: dict) -> Request:
    rid = doc.get("id")
    if not valid_id(rid):
        raise RequestError("invalid_request", f"id must be a string or an integer, got {rid!r}")
    unknown = sorted(set(doc) - {"id", "method", "params", "v"})
    if unknown:
        raise _with_id(RequestError("invalid_request", f"unknown request keys: {', '.join(unknown)} "
                                                       f"(a request has id, method, params, v)"), rid)
    version = doc.get("v", VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise _with_id(RequestError("invalid_request", f"v must be an integer, got {version!r}"), rid)
    if version != VERSION:
        raise _with_id(RequestError("unsupported_version", f"protocol version {version} is not spoken here "
                                                           f"(this daemon speaks version {VERSION})"), rid)
    method = doc.get("method")
    if not isinstance(method, str) or not method:
        raise _with_id(RequestError("invalid_request", f"method must be a non-empty string, got {method!r}"), rid)
    params = doc.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise _with_id(RequestError("invalid_request", f"params must be an object, got {type(params).__name__}"),
                       rid)
    return Request(rid, method, params)


def valid_id(rid: Any) -> bool:
    return rid is None or isinstance(rid, str) or (isinstance(rid, int) and not isinstance(rid, bool))


def _with_id(exc: RequestError, rid) -> RequestError:
    exc.request_id = rid
    return exc


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is not a finite number")
    return value


def encode(doc: dict) -> bytes:
    """One response or request as a JSON line (strict JSON: no NaN)."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                      default=_jsonable).encode("utf-8") + b"\n"


def _jsonable(value: Any):
    # numpy scalars and arrays, tuples from metadata, paths
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def result(rid, value: Any) -> bytes:
    try:
        return encode({"id": rid, "result": _finite(value)})
    except (ValueError, TypeError, RecursionError) as exc:  # a method's result JSON cannot carry: its bug
        log.exception("control: a result that is not JSON (request %r)", rid)
        return error(rid, "internal", f"internal error: the result is not JSON: {type(exc).__name__}")


def error(rid, code: str, message: str) -> bytes:
    if code not in ERRORS:
        raise ValueError(f"unknown error code {code!r}")
    return encode({"id": rid, "error": {"code": code, "message": message}})


def _finite(value: Any) -> Any:
    """Replace NaN and infinities (which JSON cannot carry) by null, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
