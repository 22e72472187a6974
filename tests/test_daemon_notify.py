"""sd_notify over a real datagram socket (path and abstract), silence without one, watchdog and activation env."""

import os
import socket
import subprocess
import sys
import textwrap

from daemon_support import ROOT, NotifyListener
from firmware.daemon.notify import Notifier, watchdog_interval


def test_notify_to_a_path_socket(tmp_path):
    listener = NotifyListener(path=tmp_path / "notify")
    try:
        n = Notifier.from_env({"NOTIFY_SOCKET": listener.address})
        assert n.enabled
        assert n.ready("ready: imx477\n4056x3040")
        assert n.watchdog() and n.reloading() and n.stopping() and n.extend_timeout(1.5)
        msgs = [m for _, m in listener.poll(0.2)]
        assert msgs[0] == {"READY": "1", "STATUS": "ready: imx477 4056x3040"}  # one line, always
        assert msgs[1] == {"WATCHDOG": "1"}
        assert msgs[2]["RELOADING"] == "1" and int(msgs[2]["MONOTONIC_USEC"]) > 0
        assert msgs[3] == {"STOPPING": "1"} and msgs[4] == {"EXTEND_TIMEOUT_USEC": "1500000"}
    finally:
        listener.close()


def test_notify_to_an_abstract_socket():
    name = f"camerad-test-{os.getpid()}"
    listener = NotifyListener(abstract=name)
    try:
        assert Notifier(f"@{name}").status("busy: queue full")
        assert listener.wait_for("STATUS", "busy: queue full", timeout=2)
    finally:
        listener.close()


def test_without_notify_socket_every_call_is_silent():
    n = Notifier.from_env({})
    assert not n.enabled
    assert n.ready("x") is False and n.watchdog() is False and n.stopping() is False


def test_a_vanished_socket_is_not_an_error(tmp_path):
    assert Notifier(str(tmp_path / "gone")).watchdog() is False


def test_watchdog_interval_is_half_of_watchdog_sec():
    assert watchdog_interval({"WATCHDOG_USEC": "10000000"}) == 5.0
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}, pid=2) is None
    assert watchdog_interval({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "2"}, pid=2) == 5.0
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}) is None


def test_listen_fds_takes_the_activated_control_socket(tmp_path):
    # fd 3 is the first activated fd; do it in a child so this process's descriptors stay untouched.
    path = tmp_path / "control.sock"
    code = textwrap.dedent(f"""
        import os, socket, sys
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind({str(path)!r}); srv.listen(4)
        fd = srv.detach()
        if fd != 3:
            os.dup2(fd, 3); os.close(fd)
        os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="1", LISTEN_FDNAMES="control")
        from firmware.daemon.activation import listen_fds
        socks = listen_fds()
        s = socks["control"][0]
        assert s.fileno() == 3 and s.family == socket.AF_UNIX and s.type == socket.SOCK_STREAM
        assert s.getsockname() == {str(path)!r}
        assert "LISTEN_FDS" not in os.environ and "LISTEN_PID" not in os.environ
        os.environ.update(LISTEN_PID="1", LISTEN_FDS="1")
        assert listen_fds() == {{}}  # meant for another process
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr
    assert socket  # the child used the real socket module
