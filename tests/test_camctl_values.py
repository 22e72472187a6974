"""camctl against bad values: the tracebacks operators hit (1/0, inf, nan, a negative timeout, a zero count) and
a hypothesis fuzz of every command's arguments against the real daemon: never a traceback, and bad input is
one line on stderr with a non-zero exit status."""

import contextlib
import io

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from control_support import Daemon
from firmware.camctl import cli, commands, view_cmd
from firmware.control.protocol import SETTING_KEYS


class LowStorageDaemon(Daemon):
    def _ready(self) -> bool:
        try:
            return self.call("status", timeout=5).get("result", {}).get("state") == "low_storage"
        except OSError:
            return False


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    # Storage "below the reserve": every capture the fuzz asks for is checked in full, then refused cheaply.
    d = LowStorageDaemon(tmp_path_factory.mktemp("values"), storage={"reserve_mb": 10_000_000}).start()
    yield d
    assert d.stop() == 0, d.log_text()
    assert "Traceback" not in d.log_text()


def camctl(d, *argv: str) -> tuple[int, str, str]:
    """camctl's main() in this process (a subprocess per example would be far too slow to fuzz with)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(["--socket", str(d.sock), *argv])
        except SystemExit as exc:  # argparse: --help, or a bad command line
            rc = exc.code if isinstance(exc.code, int) else 1
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv, words", [
    (["set", "exposure=1/0"], "exposure: 1/0 is not a shutter speed"),
    (["set", "exposure=1/1e-320"], "too long an exposure"),
    (["set", "gain=inf"], "gain: 'inf' is not a finite number"),
    (["set", "ev=-inf"], "ev: '-inf' is not a finite number"),
    (["set", "ev=nan"], "ev: 'nan' is not a finite number"),
    (["set", "colour_gains=nan,1"], "colour_gains: 'nan,1': 'nan' is not a finite number"),
    (["--timeout", "-1", "status"], "argument --timeout: must be more than 0, got -1"),
    (["--timeout", "nan", "status"], "argument --timeout: 'nan' is not a finite number"),
    (["timelapse", "start", "--interval", "10", "--count", "0"], "argument --count: must be at least 1, got 0"),
    (["capture", "--bracket", "nan,0"], "argument --bracket: expected EV offsets like -2,0,2: 'nan'"),
    (["status", "--watch", "--interval", "-1"], "argument --interval: must be more than 0"),
    (["fetch", "\udcff.jpg"], "name: '\\udcff.jpg' holds a lone surrogate"),
])
def test_bad_values_are_refused_in_one_line_naming_the_argument(daemon, argv, words):
    rc, out, err = camctl(daemon, *argv)
    assert rc == 2 and err.count("\n") == 1 and words in err, err
    assert out == ""


def test_timelapse_count_is_sent_as_given_not_replaced_by_the_default(daemon):
    rc, out, err = camctl(daemon, "timelapse", "start", "--interval", "3600", "--count", "7")
    try:
        assert rc == 0 and "of 7 frames" in out, (out, err)
    finally:
        assert camctl(daemon, "timelapse", "stop")[0] == 0


# -- fuzz ------------------------------------------------------------------------------------------------
NASTY = ["nan", "-nan", "inf", "-Infinity", "1e999", "-1e999", "1/0", "1/-0", "1/nan", "1/inf", "1/1e-320", "0", "-0",
         "-1", "1e-320", "99999999999999999999999", "", " ", "abc", "1,2,3", ",", "nan,1", "1,inf", "0x10", "1_000",
         "\udcff", "\udcc3\udca9", "é", "10ms", "1/250", "0.5s", "auto", "-2,0,2", "on", "..", "/etc/passwd", "-"]
value = st.one_of(st.sampled_from(NASTY), st.integers(-10**25, 10**25).map(str), st.floats().map(repr),
                  st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=8),
                  st.text(st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF), min_size=1, max_size=3))
exposure_safe = value.filter(lambda v: not v.strip().isdigit() or len(v.strip()) < 6)  # no 10 s exposures

OPTIONS = {  # each command's options that take a value, and its flags
    "status": (["--interval", "--count"], ["--watch", "--json"]),
    "capture": (["--count", "--bracket", "--look", "--denoise"], ["--raw", "--no-raw", "--no-wait", "--json"]),
    "get": ([], ["--json"]),
    "looks": ([], []),
    "tuning": (["--block", "--target"], ["--json"]),
    "timelapse": (["--interval", "--count"], ["--json"]),
    "files": (["--limit"], ["--json"]),
    "fetch": (["-o"], ["--json"]),
    "preview": (["-o"], ["--zebra", "--peaking", "--json"]),
    "histogram": (["--bins", "--width", "--height"], ["--json"]),
    "focus": (["--interval", "--count", "--width"], ["--keep-peak", "--json"]),
    "set": ([], ["--json"]),
}


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(sorted(OPTIONS)))
    argv = ["--timeout", draw(value)] if draw(st.booleans()) else []
    argv.append(command)
    if command == "tuning":
        argv.append(draw(st.sampled_from(["show", "validate", draw(value)])))
        if argv[-1] == "validate":
            argv.append(draw(value))
    elif command == "timelapse":
        argv.append(draw(st.sampled_from(["start", "status", "stop", draw(value)])))
    elif command == "fetch":
        argv.append(draw(value))
    elif command == "get":
        argv += draw(st.lists(st.sampled_from(SETTING_KEYS) | value, max_size=3))
    elif command == "set":
        keys = st.sampled_from(SETTING_KEYS) | value
        argv += [f"{k}={draw(exposure_safe if k == 'exposure' else value)}"
                 for k in draw(st.lists(keys, min_size=1, max_size=3))]
    takes, flags = OPTIONS[command]
    for option in draw(st.lists(st.sampled_from(takes), max_size=3, unique=True)) if takes else []:
        argv += [option, draw(value)]
    argv += draw(st.lists(st.sampled_from(flags), max_size=2, unique=True)) if flags else []
    return argv


@pytest.fixture
def ctrl_c_after_three_waits(monkeypatch):
    """``--watch`` and ``focus`` run until Ctrl-C: the operator presses it after three refreshes."""
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        if len(waits) >= 3:
            raise KeyboardInterrupt

    for module in (commands, view_cmd):
        monkeypatch.setattr(module.time, "sleep", sleep)
    return waits


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(argv=command_lines())
def test_fuzzed_command_lines_never_give_a_traceback(daemon, tmp_path, monkeypatch, ctrl_c_after_three_waits,
                                                     argv):
    monkeypatch.chdir(tmp_path)  # preview and fetch write where they are told
    ctrl_c_after_three_waits.clear()
    rc, out, err = camctl(daemon, *argv)
    assert "Traceback" not in out + err, (argv, err)
    assert rc in (0, 1, 2, 3, 130), (argv, rc, err)
    if rc not in (0, 130):
        lines = err.strip().splitlines()
        reported_on_stdout = argv[argv.index("tuning") + 1:][:1] == ["validate"] if "tuning" in argv else False
        assert len(lines) == 1 or (not lines and reported_on_stdout and out.strip()), (argv, rc, out, err)
    if rc == 0 and "set" in argv:
        camctl(daemon, "set", "exposure=auto", "gain=auto", "ev=0", "colour_gains=auto")
