"""SIGTERM at random moments: of the captures camerad admitted, how many are on disk when it exits?

Each trial starts ``camerad --mock`` (2028x1520, so a capture takes a moment to develop), triggers a single
capture, a burst, a bracket or a timelapse over the control socket without waiting, sends SIGTERM at once (3
trials in 10) or a random 0-1.5 s later, and waits for the exit. Admitted: what the daemon's answer said it took (a timelapse: the frames
its state file says were triggered, less the refusals its log names). Written: complete capture groups in
the captures directory afterwards. camerad promises admitted == written and exit status 0 (README,
"Lifecycle"); this measures whether it holds, it does not assume it.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
import time
from pathlib import Path

from bench.daemon import MockDaemon, complete_groups
from firmware.errors import CameradError

KINDS = ("single", "burst", "bracket", "timelapse")
SUFFIXES = (".dng", ".jpg", ".json")


def _trigger(client, kind: str, rng: random.Random) -> int:
    """Start a single, burst or bracket without waiting; return how many captures were admitted (0: refused)."""
    try:
        if kind == "single":
            return client.call("capture", wait=False)["taken"]
        if kind == "burst":
            return client.call("capture", count=rng.randint(2, 6), wait=False)["taken"]
        return client.call("capture", bracket=[-1.0, 0.0, 1.0], wait=False)["taken"]
    except CameradError:
        return 0


def _timelapse_admitted(d: MockDaemon, started_count: int) -> int:
    state = d.state / "timelapse.json"
    triggered = json.loads(state.read_text())["next_index"] if state.exists() else started_count
    refused = len(re.findall(r"capture refused \(timelapse", d.log.read_text()))
    return triggered - refused


def trial(directory: Path, kind: str, rng: random.Random, mode: str) -> dict:
    d = MockDaemon(directory, mode=mode).start()
    client = d.client()
    try:
        count = None
        if kind == "timelapse":
            count = rng.randint(2, 6)
            client.call("timelapse.start", interval=0.25, count=count)
            admitted = -1
        else:
            admitted = _trigger(client, kind, rng)
        time.sleep(0.0 if rng.random() < 0.3 else rng.uniform(0.0, 1.5))  # at once, as `kill` after camctl
    finally:
        client.close()
        d.signal()
        code = d.wait()
    if admitted < 0:
        admitted = _timelapse_admitted(d, count)
    written, partial = complete_groups(d.captures, SUFFIXES)
    return {"kind": kind, "admitted": admitted, "written": written, "partial": partial, "exit": code}


def sigterm_trials(trials: int = 60, seed: int = 2, mode: str = "2028x1520") -> dict:
    rng = random.Random(seed)
    rows = []
    for i in range(trials):
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(trial(Path(tmp), KINDS[i % len(KINDS)], rng, mode))
    out = {"sigterm_trials": len(rows),
           "sigterm_admitted": sum(r["admitted"] for r in rows),
           "sigterm_written": sum(r["written"] for r in rows),
           "sigterm_trials_losing_captures": sum(r["written"] < r["admitted"] for r in rows),
           "sigterm_partial_groups": sum(r["partial"] for r in rows),
           "sigterm_exit_not_0": sum(r["exit"] != 0 for r in rows)}
    for kind in KINDS:
        mine = [r for r in rows if r["kind"] == kind]
        out[f"sigterm_{kind}_admitted_vs_written"] = (f"{sum(r['admitted'] for r in mine)} vs "
                                                     f"{sum(r['written'] for r in mine)}")
    return out

