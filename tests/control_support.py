"""Helpers for the control-socket, camctl and preview tests: the real daemon on the mock sensor, camctl, raw lines."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from daemon_support import ROOT, wait_until, write_toml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """``camerad --mock`` in a temporary directory, listening on its own control socket (and preview port)."""

    def __init__(self, tmp: Path, *, preview: bool = False, nofile: int | None = None, **sections):
        self.tmp = Path(tmp)
        self.nofile = nofile  # the daemon's open-file limit (systemd's default is 1024)
        self.sock = self.tmp / "run" / "control.sock"
        self.captures = self.tmp / "caps"
        self.log = self.tmp / "camerad.log"
        self.port = free_port() if preview else None
        data = {
            "sensor": {"mode": "1332x990", "frame_timeout": 1.0},
            "storage": {"reserve_mb": 0, "state_directory": str(self.tmp / "state")},
            "control": {"idle_timeout": 2.0, "max_clients": 60},
            "capture": {"queue_size": 16},
            # Tests develop without the raw denoiser unless they turn it on (it costs ~1 s per frame here).
            "denoise": {"mode": "off"},
        }
        if preview:
            data["preview"] = {"enabled": True, "port": self.port, "fps": 15.0}
        for name, values in sections.items():
            data.setdefault(name, {}).update(values)
        self.config = write_toml(self.tmp / "camerad.toml", data)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "Daemon":
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("CAMERAD_SOCKET", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "firmware.daemon.cli", "--mock", "--config",
                                      str(self.config), "--captures", str(self.captures), "--socket", str(self.sock),
                                      "--log-level", "info"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "wb"), preexec_fn=self._limit if self.nofile else None)
        assert wait_until(lambda: self._ready() or self.proc.poll() is not None, timeout=timeout), self.log_text()
        assert self.proc.poll() is None, self.log_text()
        return self

    def _limit(self) -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def _ready(self) -> bool:
        try:
            return self.call("status", timeout=5).get("result", {}).get("state") == "ready"
        except OSError:  # not listening yet (or a stale socket file still in the way)
            return False

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        return self.proc.returncode

    # -- clients -------------------------------------------------------------------------------------------
    def connect(self, timeout: float = 30.0) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(str(self.sock))
        return s

    def call(self, method: str, params: dict | None = None, rid=1, timeout: float = 60.0) -> dict:
        """One request on a fresh connection; the whole response document."""
        req = {"id": rid, "method": method}
        if params is not None:
            req["params"] = params
        with self.connect(timeout) as s:
            return exchange(s, json.dumps(req).encode() + b"\n")

    def camctl(self, *args: str, timeout: float = 120.0, env: dict | None = None) -> subprocess.CompletedProcess:
        return camctl("--socket", str(self.sock), *args, timeout=timeout, env=env)


def camctl(*args: str, timeout: float = 120.0, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-m", "firmware.camctl.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=full_env, timeout=timeout)


def read_line(s: socket.socket) -> bytes:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
    return buf


def exchange(s: socket.socket, line: bytes) -> dict:
    s.sendall(line)
    return json.loads(read_line(s))


def until(predicate, timeout: float = 30.0, step: float = 0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()
