"""Logging to stderr with sd-daemon level prefixes, so journald files every line at the right priority."""

import logging
import sys

# sd-daemon(3) prefixes: journald strips them and uses them as the syslog priority.
_PREFIX = {
    logging.CRITICAL: "<2>",
    logging.ERROR: "<3>",
    logging.WARNING: "<4>",
    logging.INFO: "<6>",
    logging.DEBUG: "<7>",
}

LEVELS = ("debug", "info", "warning", "error")


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


def setup(level: str = "info", stream=None) -> None:
    """Route the ``firmware`` loggers to stderr (or ``stream``) with journald prefixes at ``level``."""
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    root = logging.getLogger("firmware")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
