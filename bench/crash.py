"""Kill -9 at random moments while capture groups are written: does every group appear whole or not at all?

A tiny writer process (``storage.atomic.write_group`` in a loop, three files a group with self-checking
contents) is started, and killed with SIGKILL a random time after it is ready; the captures directory is then
recovered exactly as camerad recovers it at start (``clean_leftovers``) and checked: no partial group, no
leftover temporary or journal, every group the writer reported (in this and every earlier trial) intact.

The writer's renames are slowed (``rename_delay``, default 2 ms each) to stand for an SD card's slow directory
updates, so random kills land between a group's renames as often as during its writes; the figures say where
the kills landed. ``python -m bench crash`` runs this and the SIGTERM trials (``bench/drain.py``).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = (".dng", ".jpg", ".json")
_CHILD = ("import sys; from bench.crash import writer_child; "
          "writer_child(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))")
_ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def payload(stem: str, suffix: str, size: int) -> bytes:
    """A file that proves itself whole: a SHA-256 of the body, then the body."""
    body = (hashlib.sha256(f"{stem}{suffix}".encode()).digest() * (size // 32 + 1))[:size]
    return hashlib.sha256(body).digest() + body


def intact(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return len(data) >= 32 and hashlib.sha256(data[32:]).digest() == data[:32]


def writer_child(directory: str, seed: int, rename_delay: float) -> None:
    """The process that gets killed: write groups until killed, printing each stem once ``write_group`` returns."""
    from firmware.storage import atomic

    if rename_delay > 0:
        real_replace = os.replace

        def slow_replace(src, dst, *a, **kw):  # a slow card: each directory update takes a while
            time.sleep(rename_delay)
            return real_replace(src, dst, *a, **kw)

        atomic.os.replace = slow_replace  # type: ignore[attr-defined]
    rng = random.Random(seed)
    print("ready", flush=True)
    sys.stdin.readline()  # "go": the previous trial's process is dead and its directory recovered
    for i in range(1_000_000):
        stem = f"t{seed:05d}-{i:05d}"
        sizes = (rng.randint(64, 512) * 1024, rng.randint(16, 128) * 1024, rng.randint(1, 8) * 1024)
        atomic.write_group(directory, [(stem + sfx, payload(stem, sfx, n)) for sfx, n in zip(SUFFIXES, sizes)])
        print(stem, flush=True)


def groups(directory: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for p in directory.iterdir():
        if not p.name.startswith("."):
            out.setdefault(p.stem, set()).add(p.suffix)
    return out


def _spawn(directory: Path, seed: int, rename_delay: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _CHILD, str(directory), str(seed), str(rename_delay)], cwd=ROOT,
                            env=_ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _kill_after(proc: subprocess.Popen, delay: float) -> list[str]:
    """Let ``proc`` write for ``delay`` s, SIGKILL it; return the stems it reported written."""
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the writer process did not start")
        proc.stdin.write("go\n")
        proc.stdin.flush()
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return [line.strip() for line in proc.stdout if line.strip()]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stdin.close()


def kill9_trials(directory: Path, trials: int = 50, seed: int = 1, rename_delay: float = 0.002,
                 window: float = 0.08) -> dict:
    """Run ``trials`` kill -9 trials into ``directory``; return the figures (``partial_groups`` must be 0)."""
    from firmware.storage.atomic import JOURNAL_PREFIX, TMP_PREFIX, clean_leftovers, finish_groups

    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    reported: set[str] = set()
    partial: set[str] = set()  # stems found incomplete after recovery (must stay empty)
    fig = dict.fromkeys(("kill9_trials", "kill9_partial_groups", "kill9_reported_groups_lost",
                         "kill9_leftovers_after_recovery", "kill9_damaged_files", "kill9_groups_written",
                         "kill9_kills_while_staging", "kill9_kills_after_commit", "kill9_kills_between_renames",
                         "kill9_groups_completed_by_recovery", "kill9_temporaries_removed"), 0)
    nxt = _spawn(directory, seed * 1000, rename_delay)  # a trial ahead: start-up costs no trial time
    try:
        for trial in range(trials):
            proc = nxt
            nxt = _spawn(directory, seed * 1000 + trial + 1, rename_delay) if trial + 1 < trials else None
            reported.update(_kill_after(proc, rng.uniform(0.0, window)))
            names = os.listdir(directory)
            committed = any(n.startswith(JOURNAL_PREFIX) for n in names)
            fig["kill9_kills_after_commit"] += committed
            split = {s for s, x in groups(directory).items() if len(x) < len(SUFFIXES)}
            fig["kill9_kills_between_renames"] += bool(split - partial)
            fig["kill9_kills_while_staging"] += not committed and any(n.startswith(TMP_PREFIX) for n in names)
            # Recovery as camerad does it at start (finish_groups first, to count what it completes).
            fig["kill9_groups_completed_by_recovery"] += bool(finish_groups(directory))
            fig["kill9_temporaries_removed"] += len(clean_leftovers(directory))
            fig["kill9_trials"] += 1
            fig["kill9_leftovers_after_recovery"] += sum(n.startswith(".") for n in os.listdir(directory))
            now = groups(directory)
            partial |= {s for s, sfx in now.items() if sfx != set(SUFFIXES)}
            fig["kill9_partial_groups"] = len(partial)
            fig["kill9_reported_groups_lost"] = len(reported - set(now))
            fig["kill9_damaged_files"] = sum(not intact(directory / f"{s}{x}") for s, v in now.items() for x in v)
            fig["kill9_groups_written"] = len(now)
    finally:
        if nxt is not None:
            nxt.kill()
            nxt.wait()
            nxt.stdout.close()
            nxt.stdin.close()
    return fig


def run(quick: bool = False) -> dict:
    import logging

    from bench.drain import sigterm_trials
    from bench.timing import load_note

    logging.getLogger("firmware.storage").setLevel(logging.ERROR)  # every completed group is logged: counted here

    out = {"load_at_start": load_note()}
    with tempfile.TemporaryDirectory() as d:
        out.update(kill9_trials(Path(d) / "caps", trials=60 if quick else 500))
    out.update(sigterm_trials(trials=8 if quick else 60))
    out["load_at_end"] = load_note()
    return out
