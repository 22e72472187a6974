"""Helpers for the capture, daemon and lifecycle tests: a small mock camera daemon and a notify socket."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path

from firmware.actions import CaptureRequest, DriveMode, LedState
from firmware.config import parse
from firmware.camera import Camerad

ROOT = Path(__file__).resolve().parent.parent


def mock_config(tmp_path: Path, **sections):
    """A config for the mock camera at 1332x990 writing into ``tmp_path``; ``sections`` override tables."""
    return parse(mock_config_data(tmp_path, **sections), source=str(tmp_path / "camerad.toml"))


def mock_config_data(tmp_path: Path, **sections) -> dict:
    data = {
        "sensor": {"backend": "mock", "mode": "1332x990", "frame_timeout": 0.5, "reopen_backoff_max": 1.0},
        "gpio": {"backend": "mock"},
        "capture": {"directory": str(tmp_path / "caps")},
        "storage": {"state_directory": str(tmp_path / "state"), "reserve_mb": 0},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return data


def write_toml(path: Path, data: dict) -> Path:
    path.write_text("".join(f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
                            for name, table in data.items()))
    return path


def make_app(tmp_path: Path, *, start: bool = True, **kw) -> Camerad:
    sections = {k: kw.pop(k) for k in list(kw) if k in ("sensor", "capture", "storage", "mock", "watchdog", "lens")}
    app = Camerad(mock_config(tmp_path, **sections), gpio=False, **kw)
    if start:
        app.start()
        assert app.wait_for_frame(20), "the mock produced no frame"
    return app


def capture(app: Camerad, **request) -> Future:
    """One frame now whatever the drive mode (as the socket's ``capture``), through the camera's one trigger."""
    return app.trigger(CaptureRequest(drive=DriveMode.SINGLE, **request)).futures[0]


def burst(app: Camerad, count: int):
    """A burst of ``count`` frames now; the job taking them."""
    return app.trigger(CaptureRequest(drive=DriveMode.BURST, count=count)).job


class Recorder:
    """A StatusListener that remembers what it was told."""

    def __init__(self):
        self.states: list[LedState] = []
        self.frames = 0

    def led_state(self, state: LedState) -> None:
        self.states.append(state)

    def frame_taken(self) -> None:
        self.frames += 1


def outcomes(futures: list[Future], timeout: float = 120) -> list:
    """Each future's result or exception.

    ``exception()`` rather than ``result()``: re-raising a stored exception would chain this frame (and every
    outcome it holds) onto its traceback, keeping them all alive.
    """
    out = []
    for f in futures:
        exc = f.exception(timeout=timeout)
        out.append(exc if exc is not None else f.result())
    return out


def wait_until(predicate, timeout: float = 20.0, step: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class NotifyListener:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET; ``messages`` are (time, {key: value})."""

    def __init__(self, path: Path | None = None, abstract: str | None = None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            self.sock.bind("\0" + abstract)
            self.address = "@" + abstract
        else:
            self.sock.bind(str(path))
            self.address = str(path)
        self.sock.settimeout(0.05)
        self.messages: list[tuple[float, dict[str, str]]] = []

    def poll(self, seconds: float = 0.0) -> list[tuple[float, dict[str, str]]]:
        end = time.monotonic() + seconds
        while True:
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, BlockingIOError):
                if time.monotonic() >= end:
                    return self.messages
                continue
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append((time.monotonic(), fields))

    def wait_for(self, key: str, value: str | None = None, timeout: float = 60.0) -> dict[str, str] | None:
        end = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < end:
            self.poll(0.05)
            for _, fields in self.messages[seen:]:
                if key in fields and (value is None or fields[key] == value):
                    return fields
            seen = len(self.messages)
        return None

    def close(self) -> None:
        self.sock.close()


def start_daemon(config_path: Path, captures: Path, env: dict, *, log: Path) -> subprocess.Popen:
    """``camerad --mock --config ...`` as a child process, its stderr going to ``log``. Its control socket is
    the test's own (the fallback /tmp/camerad-UID is shared with every other camerad this user runs)."""
    return subprocess.Popen([sys.executable, "-m", "firmware.daemon.cli", "--mock", "--config", str(config_path),
                             "--captures", str(captures), "--socket", str(captures.parent / "control.sock"),
                             "--log-level", "info"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
