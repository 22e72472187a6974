"""The daemon's life under systemd: readiness, status, the watchdog, reload on SIGHUP, a clean stop on SIGTERM.

* ``READY=1`` is sent once the first frame has arrived (the camera really works), with a ``STATUS=`` line.
* ``WATCHDOG=1`` is sent only from this loop and only while frames keep arriving: a sensor that freezes without
  an error, or a streaming thread stuck in the camera stack, stops the pings and systemd's watchdog fires
  (SIGABRT; ``faulthandler`` puts every thread's stack in the journal) and restarts the daemon.
* ``SIGHUP`` sends ``RELOADING=1``, reloads the configuration and tuning (a bad file is logged and the running
  ones kept), then ``READY=1``.
* ``SIGTERM``/``SIGINT`` send ``STOPPING=1``, stop streaming, write every capture already taken (asking systemd
  for more time while the queue drains) and exit 0. ``SIGUSR1`` presses the shutter: the camera's one
  ``trigger``, as the button and the control socket do.

Signal handlers do nothing but wake this loop (``signal.set_wakeup_fd``), so no handler ever runs camera code
in the middle of another lock holder.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import signal
import threading
from typing import Any, Callable

from ..actions import CaptureRequest
from ..camera import Camerad
from ..config import Config
from ..errors import CameradError
from .notify import Notifier, watchdog_interval

log = logging.getLogger(__name__)

HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1)
_TICK_S = 1.0
_DRAIN_EXTEND_S = 30.0  # each time a queued capture is written during stop, ask systemd for this much more


class Lifecycle:
    """One daemon run: ``ready``, then ``tick`` until asked to stop, then ``stop``. Testable without signals."""

    def __init__(self, camera: Camerad, notifier: Notifier, *, reload_config: Callable[[], Config] | None = None,
                 watchdog_s: float | None = None):
        self.camera = camera
        self.notifier = notifier
        self.reload_config = reload_config
        self.watchdog_s = watchdog_s if camera.config.watchdog.enabled else None
        self.pings = 0
        self._status = ""
        self.last_reload_error: str | None = None
        self._reload_lock = threading.Lock()  # SIGHUP and the control socket's tuning.reload

    def ready(self, timeout: float) -> bool:
        """Wait for the first frame; then READY=1. False (and a STATUS saying why) if none came in time."""
        self.notifier.status("starting: waiting for the first frame")
        if not self.camera.wait_for_frame(timeout):
            why = self.camera.snapshot().engine.fault or f"no frame within {timeout:.0f} s"
            self.notifier.status(f"error: camera not ready: {why}")
            return False
        self.camera.refresh()
        self._status = self.camera.status_line()
        self.notifier.ready(self._status)
        log.info("%s", self._status)
        return True

    def frames_flowing(self) -> bool:
        last = self.camera.snapshot().engine.last_frame_ns
        stall = self.camera.config.watchdog.frame_stall
        return last is not None and self.camera.clock.monotonic_ns() - last <= stall * 1e9

    def tick(self) -> None:
        """Ping the watchdog if frames are flowing; refresh LED state and STATUS."""
        if self.watchdog_s and self.frames_flowing():
            if self.notifier.watchdog():
                self.pings += 1
        self.camera.refresh()
        line = self.camera.status_line()
        if line != self._status:
            self._status = line
            self.notifier.status(line)

    def reload(self) -> bool:
        """Re-read the configuration and tuning; False (and ``last_reload_error`` says why) if rejected."""
        with self._reload_lock:
            self.notifier.reloading()
            ok = True
            self.last_reload_error = None
            try:
                config = self.reload_config() if self.reload_config else self.camera.config
                self.camera.reload(config)
            except (CameradError, OSError, ValueError) as exc:
                ok = False
                self.last_reload_error = str(exc)
                log.error("reload rejected, keeping the running configuration and tuning: %s", exc)
            except Exception as exc:  # noqa: BLE001 - a reload must never take the daemon down
                ok = False
                self.last_reload_error = f"{type(exc).__name__}: {exc}"
                log.exception("reload failed, keeping the running configuration and tuning: %s", exc)
            self.notifier.ready(self.camera.status_line() if ok else
                                f"{self.camera.status_line()} (last reload rejected, see the journal)")
            return ok

    def reload_for_operator(self) -> str | None:
        """The control socket's ``tuning.reload``: the same reload; None when it took, else why not."""
        return None if self.reload() else (self.last_reload_error or "rejected")

    def stop(self) -> None:
        self.notifier.stopping()
        queued = self.camera.snapshot().engine.queue_used
        self.notifier.status(f"stopping: writing {queued} queued capture(s)" if queued else "stopping")
        log.info("stopping: finishing %d queued capture(s)", queued)
        self.camera.stop(progress=self._draining)

    def _draining(self) -> None:
        self.notifier.extend_timeout(_DRAIN_EXTEND_S)


def run(camera: Camerad, *, reload_config: Callable[[], Config] | None = None, ready_timeout: float = 60.0,
        notifier: Notifier | None = None, services: Callable[[Lifecycle], Any] | None = None) -> int:
    """Run ``camera`` until SIGTERM/SIGINT; returns the exit status (0 after a clean stop).

    ``services(life)`` starts what serves operators (the control socket, the preview page) before the camera
    starts; what it returns is closed after the camera has stopped.
    """
    notifier = notifier or Notifier.from_env()
    life = Lifecycle(camera, notifier, reload_config=reload_config, watchdog_s=watchdog_interval())
    rfd, wfd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in HANDLED}
    old_wakeup = signal.set_wakeup_fd(wfd, warn_on_full_buffer=False)
    running = None
    try:
        running = services(life) if services is not None else None
        camera.start()
        if not life.ready(ready_timeout):
            log.error("camera not ready after %.0f s: %s", ready_timeout,
                      camera.snapshot().engine.fault or "no frame")
            life.stop()
            return 1
        tick = min(_TICK_S, life.watchdog_s or _TICK_S)
        while True:
            for sig in _wait_signals(rfd, tick):
                if sig in (signal.SIGTERM, signal.SIGINT):
                    life.stop()
                    return 0
                if sig == signal.SIGHUP:
                    life.reload()
                elif sig == signal.SIGUSR1:
                    camera.trigger(CaptureRequest(press_ns=camera.clock.monotonic_ns()))
            life.tick()
    finally:
        if running is not None:
            running.close()
        signal.set_wakeup_fd(old_wakeup)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(rfd)
        os.close(wfd)
        notifier.close()


def _wait_signals(fd: int, timeout: float) -> list[int]:
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
    except InterruptedError:  # pragma: no cover - PEP 475 retries select; kept for clarity
        readable = [fd]
    if not readable:
        return []
    try:
        return list(os.read(fd, 512))
    except OSError as exc:
        if exc.errno == errno.EAGAIN:
            return []
        raise

