"""A real terminal for tests: tmux runs a command in an 80x24 window, keys are typed into it, and the screen is read
back as a person would see it (tmux's own terminal emulation: wrapping, cursor movement, clearing)."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
import uuid

import pytest

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux is not installed (install.sh installs it on hosts with apt)")
_ids = itertools.count()


class Terminal:
    """One tmux session on a private server socket, running ``command`` in a ``width`` x ``height`` window."""

    def __init__(self, command: str, *, width: int = 80, height: int = 24, env: dict | None = None):
        self.socket = f"camerad-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.name = f"t{next(_ids)}"
        self.width, self.height = width, height
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm", "LANG": "C.UTF-8",
                "HOME": os.environ.get("HOME", "/tmp"), **(env or {})}
        # tmux passes its own environment to the window: start it with exactly the one the test gives. The command
        # waits for a first Enter: a detached session takes its size a moment after it starts, and a program that
        # asked the terminal's size before then would draw for another one. Afterwards the window stays as the
        # command left it (a finished pane would get tmux's "Pane is dead" line, scrolling the screen).
        self._tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
                   "env", "-i", *(f"{k}={v}" for k, v in full.items()), "sh", "-c",
                   f"read -r _; printf '\\033[H\\033[2J'; {command}; exec sleep 3600", env=full)
        self.wait_for(lambda rows: self._size() == (width, height), timeout=10)
        self.type("Enter")

    def _tmux(self, *args: str, env: dict | None = None) -> str:
        r = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30,
                           env=env or dict(os.environ))
        if r.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args[:2])}: {r.stderr.strip()}")
        return r.stdout

    def type(self, *keys: str) -> None:
        """Keys as tmux names them: text, ``Tab``, ``Enter``, ``C-u``."""
        self._tmux("send-keys", "-t", self.name, *keys)

    def screen(self) -> list[str]:
        """The visible rows, trailing blanks removed."""
        return [row.rstrip() for row in self._tmux("capture-pane", "-p", "-t", self.name).split("\n")][:self.height]

    def wait_for(self, predicate, timeout: float = 20.0):
        """Poll the screen until ``predicate(rows)`` holds; the rows then (or the last ones, for the message)."""
        end = time.monotonic() + timeout
        while True:
            rows = self.screen()
            if predicate(rows) or time.monotonic() > end:
                return rows
            time.sleep(0.1)

    def _size(self) -> tuple[int, int]:
        w, h = self._tmux("display-message", "-p", "-t", self.name, "#{pane_width} #{pane_height}").split()
        return int(w), int(h)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
