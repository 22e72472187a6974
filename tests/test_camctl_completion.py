"""Bash completion for camctl and camtune, in a real interactive bash with Debian's bash-completion loaded, typed
into a real terminal (tmux): loaded by bash-completion itself from where install.sh puts it, or - in a venv -
by the one line install prints; values after ``=`` (bash splits words there) and look names after ``--look``."""

import os
import shutil
import time
import subprocess
import sys
from pathlib import Path

import pytest

from daemon_support import ROOT
from terminal_support import Terminal, needs_tmux

BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")
pytestmark = [needs_tmux, pytest.mark.skipif(not BASH_COMPLETION.is_file(), reason="Debian's bash-completion is not "
                                             "installed (install.sh installs it on hosts with apt)")]
LOOKS = ["leica-authentic", "leica-monochrome", "leica-vibrant", "neutral"]


def install(directory: Path, *extra: str) -> str:
    r = subprocess.run([sys.executable, "-m", "firmware.camctl.completion", "install", str(directory), *extra],
                       capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def shell(tmp: Path, rc_lines: list[str], env: dict | None = None) -> Terminal:
    """An interactive bash as an operator's login has it: bash-completion sourced by ~/.bashrc, then ``rc_lines``."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    for prog in ("camctl", "camtune"):  # the commands on PATH, as a venv's or the camera's are
        link = bin_dir / prog
        if not link.exists():
            link.symlink_to(Path(sys.executable).parent / prog if (Path(sys.executable).parent / prog).exists()
                            else shutil.which("true"))
    (home / ".bashrc").write_text("\n".join(["PS1='$ '", f". {BASH_COMPLETION}", *rc_lines]) + "\n")
    env = {"HOME": str(home), "PATH": f"{bin_dir}:/usr/bin:/bin", **(env or {})}
    term = Terminal("exec bash -i", env=env)
    term.wait_for(lambda rows: any(r.startswith("$") for r in rows))
    return term


def complete(term: Terminal, text: str, tabs: int = 1, until=None) -> list[str]:
    """Type ``text`` and Tab(s); the screen's non-blank rows once ``until(rows)`` holds (or after 5 s), then the
    line is cleared. Without ``until``: the screen after a second, for what must not change."""
    term.type("C-l")
    term.wait_for(lambda rows: rows[0] == "$")
    term.type(text, *(["Tab"] * tabs))
    if until is None:
        time.sleep(1.0)
        rows = term.screen()
    else:
        rows = term.wait_for(lambda rows: until([r for r in rows if r]), timeout=5)
    term.type("C-u")
    return [r for r in rows if r]


def line(expected: str):
    return lambda rows: rows == [expected]


def listing(*words: str):
    return lambda rows: len(rows) >= 2 and all(w in " ".join(rows[1:-1]) for w in words)


def test_installed_where_bash_completion_looks_it_loads_by_itself(tmp_path):
    share = tmp_path / "share"
    out = install(share / "bash-completion" / "completions", "--staged")
    assert "add this line" not in out  # the camera's case: /usr/share, nothing for the operator to do
    # XDG_DATA_DIRS stands for /usr/share: bash-completion's own loader must find the file there on first use.
    with shell(tmp_path, [], env={"XDG_DATA_DIRS": str(share)}) as term:
        for typed, shown in [("camctl set look=leica-m", "camctl set look=leica-monochrome"),
                             ("camctl set awb=tu", "camctl set awb=tungsten"),
                             ("camctl set drive_m", "camctl set drive_mode="),  # no space: the value follows
                             ("camctl --socket=/nonexistent/c.sock capture --denoise f",
                              "camctl --socket=/nonexistent/c.sock capture --denoise fast"),
                             ("camctl pru", "camctl prune"), ("camtune vali", "camtune validate")]:
            assert complete(term, typed, until=line(f"$ {shown}")) == [f"$ {shown}"]
        # bash splits "look=" at '=' (COMP_WORDBREAKS): the values still come, and the line keeps "look=".
        rows = complete(term, "camctl set look=", tabs=2, until=listing(*LOOKS))
        assert listing(*LOOKS)(rows) and rows[-1] == "$ camctl set look="
        rows = complete(term, "camctl capture --look ", tabs=2, until=listing(*LOOKS))
        assert listing(*LOOKS)(rows) and ".bashrc" not in " ".join(rows)  # looks, not the directory's files
        assert listing(*LOOKS)(complete(term, "camtune develop --look ", tabs=2, until=listing(*LOOKS)))
    # Without the directory on bash-completion's path nothing loads: it is the loader, not the test, that found it.
    with shell(tmp_path, []) as term:
        assert complete(term, "camctl set look=leica-m") == ["$ camctl set look=leica-m"]


def test_in_a_venv_install_prints_the_one_line_that_loads_it(tmp_path):
    venv_dir = tmp_path / "venv" / "share" / "bash-completion" / "completions"
    out = install(venv_dir).splitlines()
    assert out[-2].startswith(f"bash-completion does not look in {venv_dir}; add this line to ~/.bashrc")
    bashrc_line = out[-1].strip()
    with shell(tmp_path, [bashrc_line]) as term:
        for typed, shown in [("camctl set look=leica-v", "camctl set look=leica-vibrant"),
                             ("camtune build --target p", "camtune build --target pisp")]:
            assert complete(term, typed, until=line(f"$ {shown}")) == [f"$ {shown}"]
    assert "up to date" in install(venv_dir)
