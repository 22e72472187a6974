"""What camerad serves to operators, started and stopped together: the control socket and the preview page.

The control socket is systemd's when it handed one over (``activated``: the sockets named ``control``), else
one camerad creates (mode 0660) and removes when it stops. The preview page runs only when ``[preview] enabled``.
``reload`` is the process's reload (the daemon's SIGHUP path): None on success, else why it was rejected.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Callable

from ..camera import Camerad
from . import paths
from .dispatch import Dispatcher
from .server import ControlServer, bind_socket

log = logging.getLogger(__name__)


class Services:
    def __init__(self, control: ControlServer, web=None):
        self.control = control
        self.web = web

    def close(self) -> None:
        if self.web is not None:
            self.web.close()
        self.control.close()


def start_services(app: Camerad, *, reload: Callable[[], str | None] | None = None,
                   socket_path: str | Path | None = None, activated: list[socket.socket] | None = None) -> Services:
    """Start the control server (and the preview page if enabled) for the camera ``app``."""
    cfg = app.config.control
    dispatcher = Dispatcher(app, reload=reload)
    if activated:
        sock, path = activated[0], None
    else:
        path = paths.server_socket(socket_path, cfg.socket)
        sock = bind_socket(path)
    server = ControlServer(sock, dispatcher, path=path, idle_timeout=cfg.idle_timeout, max_clients=cfg.max_clients)
    server.start()
    web = None
    if app.config.preview.enabled:
        from .web import PreviewServer

        try:
            web = PreviewServer(app, dispatcher, port=app.config.preview.port)
            web.start()
        except OSError as exc:
            # The camera works without its preview page; say why it is missing and how to fix it.
            log.error("preview page: cannot listen on 127.0.0.1:%d: %s%s", app.config.preview.port,
                      exc.strerror or exc, " (under systemd install the unit's preview drop-in: ./install.sh "
                      "--preview)" if exc.errno in (97, 1, 13) else "")
            web = None
    return Services(server, web)
