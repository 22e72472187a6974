"""A real ``camerad --mock`` in a subprocess for the benchmarks that drive it from outside: its own directory,
configuration, captures, control socket and notify socket (READY=1 is what it waits for, as systemd does)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from firmware.control.client import ControlClient

ROOT = Path(__file__).resolve().parent.parent


def unit_malloc_environment() -> dict[str, str]:
    """The malloc settings systemd/camerad.service gives camerad, to measure its memory as the unit runs it."""
    unit = (ROOT / "systemd" / "camerad.service").read_text()
    return dict(line.removeprefix("Environment=").split("=", 1) for line in unit.splitlines()
                if line.startswith("Environment=MALLOC_"))


class MockDaemon:
    def __init__(self, directory: Path, *, mode: str = "", toml: str = ""):
        self.dir = Path(directory)
        self.captures = self.dir / "caps"
        self.socket = self.dir / "control.sock"
        self.log = self.dir / "camerad.log"
        self.state = self.dir / "state"
        self.config = self.dir / "camerad.toml"
        self.config.write_text(f'[sensor]\nmode = "{mode}"\n[storage]\nreserve_mb = 0\n'
                               f'state_directory = "{self.state}"\n{toml}')
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 180.0) -> "MockDaemon":
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        path = self.dir / "notify"
        path.unlink(missing_ok=True)
        notify.bind(str(path))
        notify.settimeout(0.5)
        env = dict(os.environ, **unit_malloc_environment(), NOTIFY_SOCKET=str(path), PYTHONPATH=str(ROOT))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "firmware.daemon.cli", "--mock", "--config",
                                          str(self.config), "--captures", str(self.captures), "--socket",
                                          str(self.socket), "--log-level", "info"], cwd=ROOT, env=env,
                                         stdout=subprocess.DEVNULL, stderr=log)
        try:
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                try:
                    if b"READY=1" in notify.recv(65536):
                        return self
                except socket.timeout:
                    if self.proc.poll() is not None:
                        break
            raise RuntimeError(f"camerad did not become ready: {self.log.read_text()[-2000:]}")
        finally:
            notify.close()  # camerad's notifications are non-blocking: nobody reading them costs it nothing

    def client(self, timeout: float = 60.0) -> ControlClient:
        return ControlClient(self.socket, timeout=timeout).connect()

    def signal(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 300.0) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    # -- what the kernel says about it ---------------------------------------------------------------------
    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as fh:
            return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmRSS:"))

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/task"))


def complete_groups(captures: Path, suffixes: tuple[str, ...]) -> tuple[int, int]:
    """(captures with every file of ``suffixes``, captures missing one) in ``captures``."""
    groups: dict[str, set[str]] = {}
    if captures.is_dir():
        for p in captures.iterdir():
            if not p.name.startswith("."):
                groups.setdefault(p.name.split(".", 1)[0], set()).add(p.suffix)
    whole = sum(1 for s in groups.values() if set(suffixes) <= s)
    return whole, len(groups) - whole
