"""Logging to stderr with sd-daemon level prefixes, so journald files every line at the right priority, and a
ring of the most recent records that ``camctl log`` reads over the control socket (no journal access needed,
and it works outside systemd too)."""

import collections
import logging
import os
import sys
import threading
import time

# sd-daemon(3) prefixes: journald strips them and uses them as the syslog priority.
_PREFIX = {
    logging.CRITICAL: "<2>",
    logging.ERROR: "<3>",
    logging.WARNING: "<4>",
    logging.INFO: "<6>",
    logging.DEBUG: "<7>",
}

LEVELS = ("debug", "info", "warning", "error")
RING_SIZE = 1000  # records kept for camctl log (a few hundred KB at most)


class JournalFormatter(logging.Formatter):
    """Prefix each line with its syslog level; journald adds the timestamp itself."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = _PREFIX.get(record.levelno, "<6>")
        text = super().format(record)
        # Every continuation line (tracebacks) keeps the same priority.
        return "\n".join(prefix + line for line in text.splitlines())


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each record, not the one at set-up."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


class LogRing(logging.Handler):
    """The last ``size`` records as plain dicts, each with a sequence number so a reader can follow new ones."""

    def __init__(self, size: int = RING_SIZE):
        super().__init__()
        self._records: collections.deque[dict] = collections.deque(maxlen=size)
        self._seq = 0
        self._mutex = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        except Exception:  # noqa: BLE001 - a bad format string must not break logging
            message = str(record.msg)
        with self._mutex:
            self._seq += 1
            self._records.append({"seq": self._seq, "time": record.created, "level": record.levelname.lower(),
                                  "logger": record.name, "message": message})

    def tail(self, lines: int, after: int = 0, level: int = logging.DEBUG) -> list[dict]:
        """The last ``lines`` records at ``level`` or above with a sequence number above ``after``."""
        with self._mutex:
            records = [r for r in self._records
                       if r["seq"] > after and logging.getLevelName(r["level"].upper()) >= level]
        return records[-lines:] if lines else []

    @property
    def last_seq(self) -> int:
        return self._seq


RING = LogRing()


def setup(level: str = "info", stream=None) -> None:
    """Route the ``firmware`` loggers to stderr (or ``stream``) with journald prefixes at ``level``, and into
    ``RING``."""
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    root = logging.getLogger("firmware")
    root.handlers[:] = [handler, RING]
    root.setLevel(level.upper())
    root.propagate = False


def systemd_unit() -> str | None:
    """The systemd unit this process runs in when its stderr goes to the journal (``JOURNAL_STREAM`` names
    stderr's device and inode, as systemd.exec(5) says to check), else None."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        dev, ino = (int(x) for x in stream.split(":"))
        st = os.fstat(2)
    except (ValueError, OSError):
        return None
    if (st.st_dev, st.st_ino) != (dev, ino):
        return None
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as f:
            for part in reversed(f.read().strip().split("/")):
                if part.endswith(".service"):
                    return part
    except OSError:
        pass
    return None


def timestamp(t: float) -> str:
    """A ring record's time as a log line shows it (local time, milliseconds)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) + f".{int(t % 1 * 1000):03d}"
