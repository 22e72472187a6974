"""The ``log`` control method: the daemon's most recent log lines, from its own ring (``firmware.logs.RING``).

Operators in the camera group can read them without journal access, and outside systemd too; ``after``
follows new lines (``camctl log -f``). ``unit`` names the systemd unit when the daemon's stderr goes to the
journal, so camctl can offer the journal's longer history (earlier runs, a crash before a restart).
"""

from __future__ import annotations

import logging

from .. import logs
from .method import Context, Method
from .params import Param

LEVELS = ("debug", "info", "warning", "error")


def log(ctx: Context, p: dict) -> dict:
    level = logging.getLevelName(p["level"].upper())
    return {"lines": logs.RING.tail(p["lines"], p["after"], level), "last": logs.RING.last_seq,
            "unit": logs.systemd_unit()}


METHODS = [
    Method("log", log, {"lines": Param(int, default=50, lo=1, hi=logs.RING_SIZE),
                        "after": Param(int, default=0, lo=0),
                        "level": Param(str, default="debug", choices=LEVELS)},
           "the daemon's recent log lines (its own ring; seq numbers to follow)"),
]
