"""From a request line to a response line: parse, find the method, check its params, run it, log who asked.

Methods are declared where they are implemented (``methods_*.py``) as ``Method`` entries, each a thin call
into the camera (``firmware.camera``); ``METHOD_MODULES`` lists them and this module only routes.
State-changing methods are logged with the caller's kernel-verified credentials (SO_PEERCRED).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..camera import Camerad
from ..errors import CameradError
from . import methods_camera, methods_files, methods_image, methods_tuning, protocol
from .method import Context, Method
from .params import check_params
from .protocol import RequestError

if TYPE_CHECKING:  # pragma: no cover
    from .server import Peer

log = logging.getLogger(__name__)


# Where the methods live, in the order ``hello`` lists them.
METHOD_MODULES = (methods_camera, methods_tuning, methods_files, methods_image)


def all_methods() -> dict[str, Method]:
    return {m.name: m for module in METHOD_MODULES for m in module.METHODS}


class Dispatcher:
    """The control server's handler: ``dispatcher(line, peer) -> response line``."""

    def __init__(self, camera: Camerad, *, reload: Callable[[], str | None] | None = None,
                 methods: Mapping[str, Method] | None = None):
        self.camera = camera
        self.reload = reload
        self.methods = dict(methods or all_methods())
        self.requests = 0
        self.errors = 0

    def __call__(self, line: bytes, peer: "Peer | None" = None) -> bytes:
        self.requests += 1
        rid = None
        try:
            req = protocol.parse_request(line)
            rid = req.id
            return protocol.result(rid, self.call(req.method, req.params, peer))
        except RequestError as exc:
            self.errors += 1
            rid = getattr(exc, "request_id", rid)
            if exc.code in ("parse_error", "invalid_request", "unsupported_version"):
                log.info("control: bad request from %s: %s", peer, exc.message)
            return protocol.error(rid, exc.code, exc.message)

    def call(self, name: str, params: dict[str, Any], peer: "Peer | None" = None) -> Any:
        """Run method ``name`` with ``params`` (checked); ``RequestError`` for anything the caller got wrong."""
        method = self.methods.get(name)
        if method is None:
            raise RequestError("unknown_method", f"{name!r} is not a method (methods: "
                                                 f"{', '.join(sorted(self.methods))})")
        args = check_params(name, method.params, params)
        if method.changes_state:
            shown = ", ".join(f"{k}={_short(v)}" for k, v in params.items())
            log.info("control: %s%s by %s", name, f" ({shown})" if shown else "", peer or "an unknown peer")
        try:
            return method.run(Context(self.camera, peer, self.reload, tuple(self.methods)), args)
        except RequestError:
            raise
        except CameradError as exc:
            raise RequestError("failed", f"{name}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - a method's bug is an error response, not a dead daemon
            log.exception("control: %s failed", name)
            raise RequestError("internal", f"{name}: internal error: {type(exc).__name__}: {exc}") from exc


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
