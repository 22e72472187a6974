import io
import logging

from firmware import logs


def test_log_lines_carry_journald_priorities():
    buf = io.StringIO()
    logs.setup("debug", stream=buf)
    log = logging.getLogger("firmware.test")
    log.debug("d")
    log.warning("w")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    lines = buf.getvalue().splitlines()
    assert lines[0] == "<7>firmware.test: d"
    assert lines[1] == "<4>firmware.test: w"
    assert all(line.startswith("<3>") for line in lines[2:]) and any("ValueError: boom" in x for x in lines)
