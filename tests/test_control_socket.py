"""The control socket of the real daemon (mock sensor, temporary directory), driven through raw JSON lines:
permissions, the protocol, every error path, hostile and idle clients, 50 clients at once, fuzzing."""

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from control_support import Daemon, exchange, read_line, until
from daemon_support import ROOT
from firmware.control import protocol


def closed(s: socket.socket) -> bool:
    """The daemon closed the connection (a reset too: it did not read what the client had still sent)."""
    try:
        return s.recv(10) == b""
    except ConnectionResetError:
        return True


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("control")).start()
    yield d
    assert d.stop() == 0, d.log_text()


def test_the_socket_is_a_socket_with_mode_0660_and_goes_away_with_the_daemon(tmp_path):
    d = Daemon(tmp_path).start()
    try:
        st_ = os.lstat(d.sock)
        assert stat.S_ISSOCK(st_.st_mode) and stat.S_IMODE(st_.st_mode) == 0o660
        assert st_.st_uid == os.getuid()
        # A second daemon on the same path refuses to start and says why; the first carries on.
        second = subprocess.run([sys.executable, "-m", "firmware.daemon.cli", "--mock", "--config", str(d.config),
                                 "--captures", str(tmp_path / "caps2"), "--socket", str(d.sock)], cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode != 0 and "another camerad is already listening there" in second.stderr
        assert d.call("status")["result"]["state"] == "ready"
    finally:
        assert d.stop() == 0
    assert not d.sock.exists()


def test_a_stale_socket_from_a_crashed_daemon_is_replaced(tmp_path):
    d = Daemon(tmp_path)  # makes the socket's directory
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(d.sock))
    stale.close()  # a socket file nobody listens on, as a kill -9 leaves it
    d.start()
    try:
        assert d.call("hello")["result"]["protocol"] == protocol.VERSION
    finally:
        d.stop()


def test_requests_on_one_connection_are_answered_in_order_with_their_ids(daemon):
    with daemon.connect() as s:
        s.sendall(b'{"id": "first", "method": "hello"}\n{"id": 2, "method": "status", "v": 1}\n\n'
                  b'{"id": 3, "method": "get", "params": {"keys": ["look"]}}\n')
        # Several replies may arrive in one recv: read them as lines from a buffered reader.
        with s.makefile("rb") as reader:
            replies = [json.loads(reader.readline()) for _ in range(3)]
    assert [r["id"] for r in replies] == ["first", 2, 3]
    assert "status" in replies[0]["result"]["methods"]
    status = replies[1]["result"]
    assert status["state"] == "ready" and status["sensor"]["model"] == "imx477"
    for key in ("exposure_us", "analogue_gain", "colour_temperature", "lux", "sensor_temperature", "look",
                "denoise", "captures_written", "storage", "last_error", "fps"):
        assert key in status
    assert status["fps"] > 1 and status["storage"]["free_bytes"] > 0
    assert replies[2]["result"]["values"] == {"look": "leica-authentic"}


@pytest.mark.parametrize("line, code, words", [
    (b"this is not json", "parse_error", "not valid JSON"),
    (b'["status"]', "invalid_request", "JSON object"),
    (b'{"id": 1, "method": "teleport"}', "unknown_method", "'teleport' is not a method"),
    (b'{"id": 1, "method": "status", "v": 99}', "unsupported_version", "version 99"),
    (b'{"id": 1, "method": "capture", "params": {"count": "three"}}', "invalid_params", "count: expected an integer"),
    (b'{"id": 1, "method": "capture", "params": {"count": 100000}}', "out_of_range", "count: 100000 is out of range"),
    (b'{"id": 1, "method": "capture", "params": {"colour": 1}}', "invalid_params", "unknown parameter(s) colour"),
    (b'{"id": 1, "method": "set", "params": {"values": {"exposure": 5}}}', "out_of_range",
     "exposure: 5 is out of range [114,"),
    (b'{"id": 1, "method": "set", "params": {"values": {"gain": 99.0}}}', "out_of_range", "gain: 99.0 is out of range"),
    (b'{"id": 1, "method": "set", "params": {"values": {"look": "sepia"}}}', "out_of_range", "'sepia' is not one of"),
    (b'{"id": 1, "method": "set", "params": {"values": {"warp": 9}}}', "not_found", "'warp' is not a setting"),
    (b'{"id": 1, "method": "set", "params": {"values": {"raw": "yes"}}}', "invalid_params", "expected true or false"),
    (b'{"id": 1, "method": "set", "params": {"values": {"colour_gains": [1.5]}}}', "invalid_params", "[red, blue]"),
    (b'{"id": 1, "method": "set", "params": {"values": {"denoise": "max"}}}', "out_of_range", "denoise"),
    (b'{"id": 1, "method": "set", "params": {"values": {}}}', "invalid_params", "at least one"),
    (b'{"id": 1, "method": "capture", "params": {"look": "sepia"}}', "not_found", "'sepia' is not a look"),
    (b'{"id": 1, "method": "capture", "params": {"bracket": [0]}}', "out_of_range", "2 to 9 EV offsets"),
    (b'{"id": 1, "method": "capture", "params": {"bracket": [0, 1], "count": 2}}', "invalid_params",
     "cannot be combined"),
    (b'{"id": 1, "method": "fetch", "params": {"name": "../../etc/passwd"}}', "invalid_params", "no paths"),
    (b'{"id": 1, "method": "fetch", "params": {"name": "nothing.jpg"}}', "not_found", "no capture file"),
    (b'{"id": 1, "method": "tuning.show", "params": {"block": "rpi.nope"}}', "not_found", "no block 'rpi.nope'"),
    (b'{"id": 1, "method": "timelapse.start", "params": {"interval": 0}}', "out_of_range", "interval: 0.0 is out"),
    (b'{"id": 1, "method": "mock.focus", "params": {"position": 2}}', "out_of_range", "position: 2.0 is out"),
])
def test_every_kind_of_bad_request_gets_its_error_and_the_connection_goes_on(daemon, line, code, words):
    with daemon.connect() as s:
        reply = exchange(s, line + b"\n")
        assert set(reply) == {"id", "error"} and reply["error"]["code"] == code, reply
        assert words in reply["error"]["message"], reply
        assert exchange(s, b'{"id": 9, "method": "hello"}\n')["result"]["protocol"] == 1


def test_a_line_over_64_kib_is_refused_and_the_connection_closed(daemon):
    with daemon.connect() as s:
        s.sendall(b'{"id": 1, "method": "status", "params": {"pad": "' + b"x" * (70 * 1024))
        reply = json.loads(read_line(s))
        assert reply["error"]["code"] == "line_too_long" and "65536" in reply["error"]["message"]
        assert closed(s)
    # A line just under the limit is an ordinary (bad-parameter) request.
    with daemon.connect() as s:
        pad = "x" * (60 * 1024)
        assert exchange(s, json.dumps({"id": 1, "method": "status", "params": {"pad": pad}}).encode() + b"\n"
                        )["error"]["code"] == "invalid_params"


def test_a_client_that_says_nothing_is_told_and_dropped_after_the_idle_timeout(daemon):
    with daemon.connect() as s:
        t0 = time.monotonic()
        reply = json.loads(read_line(s))
        waited = time.monotonic() - t0
        assert reply["error"]["code"] == "timeout" and "no complete request in 2 s" in reply["error"]["message"]
        assert 1.5 < waited < 15 and closed(s)
    with daemon.connect() as s:  # half a line, then silence: the same
        s.sendall(b'{"id": 1, "meth')
        assert json.loads(read_line(s))["error"]["code"] == "timeout"


def test_fifty_clients_at_once_all_get_answers(daemon):
    results, errors = [], []

    def client(i):
        try:
            with daemon.connect() as s:
                for j in range(3):
                    r = exchange(s, json.dumps({"id": f"{i}-{j}", "method": "status"}).encode() + b"\n")
                    results.append(r["id"] == f"{i}-{j}" and r["result"]["state"] in ("ready", "capturing"))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and len(results) == 150 and all(results)


def test_clients_beyond_max_clients_are_told_busy_and_the_daemon_carries_on(daemon):
    def greeting():
        """What the daemon says unasked right after accepting (only a turned-away client hears anything)."""
        with daemon.connect(timeout=1.0) as s:
            try:
                return json.loads(read_line(s))
            except (socket.timeout, ValueError):
                return None

    idle = [daemon.connect() for _ in range(60)]  # max_clients is 60 in the fixture
    try:
        reply = until(greeting, timeout=20)
        assert reply["error"]["code"] == "busy" and "too many clients: 60" in reply["error"]["message"]
    finally:
        for s in idle:
            s.close()
    assert until(lambda: daemon.call("hello").get("result"), timeout=10)
    assert "turned a client away" in daemon.log_text()


def test_state_changes_are_logged_with_the_peers_kernel_credentials(daemon):
    assert daemon.call("set", {"values": {"ev": 0.0}})["result"]["values"] == {"ev": 0.0}
    uid = os.getuid()
    assert until(lambda: f"control: set (values={{'ev': 0.0}}) by uid {uid} (" in daemon.log_text(), timeout=5)
    assert f"gid {os.getgid()} pid " in daemon.log_text()
    assert "control: status" not in daemon.log_text()  # reading is not logged at info


def test_fetch_cannot_leave_the_captures_directory(daemon, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for camctl")
    daemon.captures.mkdir(exist_ok=True)
    link = daemon.captures / "link.jpg"
    link.symlink_to(secret)
    try:
        for name in ("/etc/passwd", "..", "../camerad.toml", ".hidden", "a/b", "x\u0000y", ""):
            r = daemon.call("fetch", {"name": name})
            assert r["error"]["code"] == "invalid_params", (name, r)
        r = daemon.call("fetch", {"name": "link.jpg"})
        assert r["error"]["code"] == "not_found" and "symbolic link" in r["error"]["message"]
        assert "link.jpg" not in json.dumps(daemon.call("files")["result"])
    finally:
        link.unlink()


METHODS = ["hello", "status", "get", "set", "looks", "files", "fetch", "histogram", "focus", "preview", "capture",
           "tuning.show", "timelapse.status", "selftest", "nope", ""]
values = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False),
                   st.text(max_size=12), st.lists(st.integers(-5, 5), max_size=4),
                   st.dictionaries(st.sampled_from(["exposure", "gain", "look", "x"]),
                                   st.one_of(st.integers(-5, 10**7), st.text(max_size=6)), max_size=2))
params = st.dictionaries(st.sampled_from(["count", "keys", "values", "name", "offset", "bins", "reset", "limit",
                                          "block", "bracket", "raw", "zebra", "wait", "x"]), values, max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(METHODS), params=params, junk=st.binary(max_size=40))
def test_fuzzed_requests_always_get_one_well_formed_answer(daemon, method, params, junk):
    if params.get("values") and isinstance(params["values"], dict):
        params["values"].pop("exposure", None)  # keep the camera's own exposure for the other tests
    if method == "capture":
        params["wait"] = False
    with daemon.connect() as s:
        for line in (json.dumps({"id": 5, "method": method, "params": params}).encode(), junk.replace(b"\n", b" ")):
            if not line.strip():
                continue
            reply = exchange(s, line + b"\n")
            assert set(reply) in ({"id", "result"}, {"id", "error"}), reply
            if "error" in reply:
                assert reply["error"]["code"] in protocol.ERRORS and reply["error"]["message"]
                assert reply["error"]["code"] != "internal", reply


def test_the_daemon_is_still_well_after_everything_above(daemon):
    assert daemon.alive()
    s = daemon.call("status")["result"]
    assert s["state"] in ("ready", "capturing") and s["frames"] > 0
    assert "Traceback" not in daemon.log_text()
