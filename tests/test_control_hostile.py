"""The control socket against hostile and broken clients: slowloris (in simulated time), nesting, lone
surrogates, undecodable file names, fd exhaustion, the fallback socket directory, and a hypothesis fuzz of
requests as bytes and as JSON values against the real daemon."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from control_support import Daemon, exchange, read_line, until
from daemon_support import ROOT
from firmware.clock import FakeClock
from firmware.control import paths, protocol
from firmware.control.server import ControlServer, bind_socket
from firmware.errors import CameradError


def closed(s: socket.socket) -> bool:
    try:
        return s.recv(1 << 16) == b""
    except ConnectionResetError:
        return True


# -- deadlines, in simulated time ----------------------------------------------------------------------------
@pytest.fixture
def server(tmp_path):
    """A control server answering every line with ``{"id": null, "result": "ok"}``, on a fake clock."""
    clock = FakeClock(start_ns=10**9)
    srv = ControlServer(bind_socket(tmp_path / "c.sock"), lambda line, peer: protocol.result(None, "ok"),
                        path=tmp_path / "c.sock", idle_timeout=30.0, request_timeout=10.0, max_clients=8, clock=clock)
    srv.start()
    srv.clock = clock
    yield srv
    srv.close()


def connect(srv, timeout=10.0) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(srv.path))
    assert until(lambda: srv.clients >= 1, timeout=5)
    return s


def test_a_request_is_timed_from_its_first_byte_not_its_last(server):
    with connect(server) as s:
        s.sendall(b'{"id"')
        assert until(lambda: server.deadlines.phases() == ["request"], timeout=5)
        for _ in range(9):  # a byte a second: under the old rule every one restarted the timer
            server.clock.advance(1.0)
            s.sendall(b" ")
            assert server.deadlines.reap() == []
        server.clock.advance(1.0)
        assert len(server.deadlines.reap()) == 1
        reply = json.loads(read_line(s))
        assert reply["error"]["code"] == "timeout"
        assert "still incomplete 10 s after its first byte" in reply["error"]["message"]
        assert closed(s)


def test_an_idle_connection_is_dropped_and_empty_lines_do_not_keep_it(server):
    with connect(server) as s:
        for _ in range(29):
            server.clock.advance(1.0)
            s.sendall(b"\n")  # ignored, and no reason to keep the connection longer
            assert server.deadlines.reap() == []
        server.clock.advance(1.0)
        assert len(server.deadlines.reap()) == 1
        assert "no complete request in 30 s" in json.loads(read_line(s))["error"]["message"]
    with connect(server) as s:  # a served request restarts the idle time
        server.clock.advance(29.0)
        assert exchange(s, b'{"id": 1, "method": "x"}\n')["result"] == "ok"
        server.clock.advance(29.0)
        assert server.deadlines.reap() == []
        assert exchange(s, b'{"id": 2, "method": "x"}\n')["result"] == "ok"


def test_dribbling_clients_cannot_lock_operators_out(server):
    dribblers = [connect(server) for _ in range(server.max_clients)]
    try:
        assert until(lambda: server.clients == server.max_clients, timeout=5)
        for s in dribblers:
            s.sendall(b"{")
        assert until(lambda: server.deadlines.phases() == ["request"] * server.max_clients, timeout=5)
        with connect(server) as s:  # every slot held: busy, as before
            assert json.loads(read_line(s))["error"]["code"] == "busy"
        for _ in range(10):  # a byte a second each, as a slowloris does
            server.clock.advance(1.0)
            for s in dribblers:
                try:
                    s.sendall(b" ")
                except OSError:
                    pass
            server.deadlines.reap()
        assert until(lambda: server.clients == 0, timeout=5)
        with connect(server) as s:  # the operator gets in
            assert exchange(s, b'{"id": 1, "method": "x"}\n')["result"] == "ok"
    finally:
        for s in dribblers:
            s.close()


def test_no_thread_to_be_had_is_busy_and_the_listener_carries_on(server, monkeypatch):
    import threading

    real_start = threading.Thread.start

    def start(thread):
        if thread.name == "camerad-control-client":
            raise RuntimeError("can't start new thread")  # what TasksMax= or a full memory cgroup gives
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(server.path))
        reply = json.loads(read_line(s))
        assert reply["error"]["code"] == "busy" and "cannot start a thread" in reply["error"]["message"]
    monkeypatch.undo()
    assert until(lambda: server.clients == 0, timeout=5)
    with connect(server) as s:
        assert exchange(s, b'{"id": 1, "method": "x"}\n')["result"] == "ok"


def test_the_accept_loop_reaps_late_connections_by_itself(tmp_path):
    srv = ControlServer(bind_socket(tmp_path / "r.sock"), lambda line, peer: b"", path=tmp_path / "r.sock",
                        idle_timeout=0.2)
    srv.start()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(str(srv.path))
            assert json.loads(read_line(s))["error"]["code"] == "timeout"  # real time: tiny and tolerant
    finally:
        srv.close()


# -- file descriptors -----------------------------------------------------------------------------------------
EXHAUST = textwrap.dedent("""
    import logging, os, resource, socket, sys, time
    from pathlib import Path
    from firmware.control.server import ControlServer, bind_socket
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    path = Path(sys.argv[1])
    srv = ControlServer(bind_socket(path), lambda line, peer: b'{"id":null,"result":"ok"}\\n', path=path)
    srv.start()
    held = []
    try:
        while True:
            held.append(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        pass
    print("exhausted", flush=True)
    sys.stdin.readline()                     # the test's clients come and go
    t0 = time.process_time()
    time.sleep(1.0)
    cpu = time.process_time() - t0
    for fd in held:
        os.close(fd)
    print("cpu", cpu, flush=True)
    sys.stdin.readline()
    srv.close()
""")


def test_out_of_file_descriptors_clients_are_told_busy_without_a_busy_loop(tmp_path):
    path = tmp_path / "fd.sock"
    proc = subprocess.Popen([sys.executable, "-c", EXHAUST, str(path)], cwd=ROOT, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert proc.stdout.readline().strip() == "exhausted"
        for _ in range(5):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(20)
                s.connect(str(path))
                reply = json.loads(read_line(s))  # not left hanging in the backlog
                assert reply["error"]["code"] == "busy" and "out of file descriptors" in reply["error"]["message"]
        proc.stdin.write("\n")
        proc.stdin.flush()
        cpu = float(proc.stdout.readline().split()[1])
        assert cpu < 0.5  # the listener does not spin while descriptors are short
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:  # descriptors back: served again
            s.settimeout(20)
            s.connect(str(path))
            assert exchange(s, b'{"id": 1, "method": "x"}\n')["result"] == "ok"
        proc.stdin.write("\n")
        proc.stdin.flush()
        err = proc.communicate(timeout=30)[1]
    finally:
        proc.kill()
    assert err.count("out of file descriptors") == 1, err  # logged once, not once a loop
    assert "Traceback" not in err


# -- the fallback socket directory ---------------------------------------------------------------------------
@pytest.fixture
def fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    monkeypatch.delenv(paths.ENV, raising=False)
    monkeypatch.setattr(paths, "SYSTEM_SOCKET", tmp_path / "no-run" / "control.sock")
    return tmp_path / f"camerad-{os.getuid()}"


def test_the_fallback_directory_is_made_private_and_refused_when_not_ours(fallback, tmp_path, monkeypatch):
    assert paths.server_socket() == fallback / "control.sock"
    assert fallback.is_dir() and fallback.stat().st_mode & 0o027 == 0  # nobody else writes; others cannot look
    fallback.chmod(0o777)  # as another user's mkdir under a permissive umask leaves it
    for call in (paths.server_socket, paths.client_socket):
        with pytest.raises(CameradError, match=r"mode 0777 lets other users write in it; refusing it"):
            call()
    fallback.rmdir()
    fallback.symlink_to(tmp_path)
    with pytest.raises(CameradError, match="not a directory"):
        paths.server_socket()
    fallback.unlink()
    someone = os.getuid() + 4242  # a directory someone else made first, with their socket in it
    (tmp_path / f"camerad-{someone}").mkdir(mode=0o755)
    monkeypatch.setattr(os, "getuid", lambda: someone)
    for call in (paths.server_socket, paths.client_socket):
        with pytest.raises(CameradError, match=rf"owned by uid {os.stat(tmp_path).st_uid}, not by this user"):
            call()


def test_camerad_and_camctl_refuse_a_loose_fallback_directory_in_one_line(tmp_path):
    if paths.SYSTEM_SOCKET.parent.is_dir():
        pytest.skip("/run/camerad exists here: the fallback is not used")
    loose = tmp_path / f"camerad-{os.getuid()}"
    loose.mkdir()
    loose.chmod(0o777)
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "RUNTIME_DIRECTORY", paths.ENV)}
    env.update(TMPDIR=str(tmp_path), PYTHONPATH=str(ROOT))
    (tmp_path / "d").mkdir()
    config = Daemon(tmp_path / "d").config  # a small mock camera, no denoiser
    for module in ("firmware.camctl.cli", "firmware.daemon.cli"):
        args = ["status"] if "camctl" in module else ["--mock", "--captures", str(tmp_path / "caps"),
                                                      "--config", str(config)]
        r = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=120)
        last = r.stderr.strip().splitlines()[-1]
        assert r.returncode != 0 and "mode 0777 lets other users write in it" in last, r.stderr
        assert "Traceback" not in r.stderr and not (loose / "control.sock").exists()


# -- the real daemon ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("hostile")).start()
    yield d
    assert d.stop() == 0, d.log_text()
    assert "Traceback" not in d.log_text() and "handler failed" not in d.log_text()


def test_deep_nesting_is_a_parse_error_not_an_internal_one(daemon):
    with daemon.connect() as s:
        for depth in (33, 1000, 30000):
            reply = exchange(s, b"[" * depth + b"]" * depth + b"\n")
            assert reply == {"id": None, "error": {"code": "parse_error", "message": (
                f"the request is nested {depth} levels deep; at most {protocol.MAX_DEPTH}")}}
        deep = json.dumps({"id": 7, "method": "status", "params": {"x": [[[[[[]]]]]]}}).encode()
        assert exchange(s, deep + b"\n")["error"]["code"] == "invalid_params"  # shallow enough to be read


@pytest.mark.parametrize("line, rid, where", [
    (rb'{"id": "\ud800", "method": "hello"}', None, "id: "),
    (rb'{"id": 4, "method": "status", "params": {"\ud800": 1}}', 4, "a key of params"),
    (rb'{"id": "f", "method": "fetch", "params": {"name": "x\udcff.jpg"}}', "f", "params.name"),
])
def test_a_lone_surrogate_is_named_and_the_id_kept(daemon, line, rid, where):
    with daemon.connect() as s:
        reply = exchange(s, line + b"\n")
    assert reply["id"] == rid and reply["error"]["code"] == "invalid_request", reply
    assert where in reply["error"]["message"] and "lone surrogate" in reply["error"]["message"]


def test_a_file_name_that_is_not_utf8_does_not_break_the_listing(daemon):
    daemon.captures.mkdir(exist_ok=True)
    (daemon.captures / "20250101-000000-000.jpg").write_bytes(b"\xff\xd8 good")
    odd = os.path.join(os.fsencode(daemon.captures), b"\xff\xfe-odd.jpg")
    with open(odd, "wb") as f:
        f.write(b"x")
    try:
        res = daemon.call("files")["result"]
        assert res["skipped"] == 1 and "20250101-000000-000" in [c["stem"] for c in res["captures"]]
        r = daemon.camctl("files")
        assert r.returncode == 0 and "1 file(s) not listed: their names are not UTF-8" in r.stdout
    finally:
        os.unlink(odd)


# -- fuzz: bytes and JSON values ---------------------------------------------------------------------------
METHODS = ["hello", "status", "get", "set", "looks", "files", "fetch", "histogram", "focus", "capture",
           "tuning.show", "timelapse.status", "nope", ""]
text = st.text(st.characters(codec=None, categories=["L", "N", "P", "S", "Z", "Cs", "Cc"]), max_size=8)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(), text)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                      max_leaves=12)
deep = st.integers(30, 32000).map(lambda n: b'{"id":1,"method":"get","params":{"keys":' + b"[" * n + b"]" * n + b"}}")


def one_answer(s, line: bytes) -> dict:
    raw = exchange_raw(s, line)
    reply = json.loads(raw.decode("utf-8"), parse_constant=lambda c: pytest.fail(f"{c} in a response"))
    assert set(reply) in ({"id", "result"}, {"id", "error"}), reply
    if "error" in reply:
        assert reply["error"]["code"] in protocol.ERRORS and reply["error"]["code"] != "internal", reply
    return reply


def exchange_raw(s, line: bytes) -> bytes:
    s.sendall(line + b"\n")
    raw = read_line(s)
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1
    return raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(method=st.sampled_from(METHODS), rid=values, params=values, junk=st.binary(max_size=64) | deep)
def test_fuzzed_bytes_and_json_values_always_get_one_strict_json_answer(daemon, method, rid, params, junk):
    if isinstance(params, dict):
        params.pop("values", None)  # keep the camera's settings for the rest of the module
        if method == "capture":
            params["wait"] = False
    doc = json.dumps({"id": rid, "method": method, "params": params}, allow_nan=True).encode()
    with daemon.connect() as s:
        reply = one_answer(s, doc)
        if "result" in reply or reply["error"]["code"] not in ("parse_error", "invalid_request"):
            assert reply["id"] == rid  # a request that could be read keeps its id
        if junk.replace(b"\n", b" ").strip() and len(junk) < protocol.MAX_LINE:
            one_answer(s, junk.replace(b"\n", b" "))
        assert one_answer(s, b'{"id": "after", "method": "hello"}')["id"] == "after"  # the connection goes on
