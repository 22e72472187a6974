"""The preview page against other web pages and hostile HTTP clients: request smuggling, Host tricks, broken
Content-Length, clickjacking, cross-origin streams, idle and slow connections, connection floods under a low
open-file limit, and a real Chromium page on another origin that tries all of it."""

import http.client
import http.server
import json
import os
import socket
import threading
import time
from types import SimpleNamespace

import pytest

from control_support import Daemon, until
from firmware.clock import FakeClock
from firmware.control.web import PreviewServer
from test_preview_page import browser, needs_browser  # noqa: F401 - the Chromium fixture, reused


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("attacks"), preview=True).start()
    yield d
    assert d.stop() == 0, d.log_text()
    assert "Traceback" not in d.log_text()


def jpgs(d) -> int:
    return len(list(d.captures.glob("*.jpg"))) if d.captures.exists() else 0


def raw(port: int, data: bytes, timeout: float = 10.0) -> tuple[bytes, bool]:
    """Send ``data``; everything the server sends until it closes (or ``timeout``), and whether it closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass
        buf = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return buf, True
                buf += chunk
        except ConnectionResetError:
            return buf, True
        except socket.timeout:
            return buf, False


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def head(d, target="/api/status", host=None, extra="") -> bytes:
    return (f"GET {target} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{d.port}'}\r\n{extra}\r\n").encode()


# -- framing ------------------------------------------------------------------------------------------------
def test_a_body_past_the_limit_cannot_smuggle_a_shutter_press(daemon):
    before = jpgs(daemon)
    shutter = (f"POST /api/shutter HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\nX-Camerad: 1\r\n"
               f"Content-Length: 0\r\n\r\n").encode()
    body = b"x" * 65536 + shutter  # what a cross-origin text/plain fetch sent: the old server read 64 KiB of it
    out, closed = raw(daemon.port, (f"POST /nothing HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\nContent-Type: "
                                    f"text/plain\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body)
    assert status_of(out) == 413 and closed and out.count(b"HTTP/1.1 ") == 1
    # A small body is read whole: its bytes are never a request, the next real request is answered in turn.
    inner = shutter
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as s:
        s.sendall((f"POST /nothing HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\nContent-Length: {len(inner)}\r\n"
                   f"\r\n").encode() + inner + head(daemon, "/api/stream"))
        got = b""
        while got.count(b"HTTP/1.1 ") < 2 or not got.rstrip().endswith(b"}"):
            got += s.recv(65536)
    first, second = got.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"404") and second.startswith(b"200") and b'"frames_sent"' in second
    chunked, closed = raw(daemon.port, (f"POST /nothing HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\nTransfer-Encoding:"
                                        f" chunked\r\n\r\n{len(shutter):x}\r\n").encode() + shutter + b"\r\n0\r\n\r\n")
    assert status_of(chunked) == 501 and closed and chunked.count(b"HTTP/1.1 ") == 1
    time.sleep(0.5)
    assert jpgs(daemon) == before


@pytest.mark.parametrize("value", ["abc", "1e3", "-1", "+5", "1, 1", "", "99999999999999999999"])
def test_a_content_length_that_is_not_one_number_is_answered_and_closed(daemon, value):
    out, closed = raw(daemon.port, (f"POST /api/shutter HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Camerad: 1\r\n"
                                    f"Content-Length: {value}\r\n\r\n").encode())
    assert status_of(out) in (400, 413) and closed, out
    out, closed = raw(daemon.port, b"POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n"
                                   b"Content-Length: 1\r\n\r\nab")
    assert status_of(out) == 400 and b"one decimal number" in out and closed


def test_a_request_head_over_64_kib_is_refused(daemon):
    cookies = "".join(f"X-Pad-{i}: {'c' * 1000}\r\n" for i in range(70))  # 70 KB of headers, under 100 lines
    out, closed = raw(daemon.port, head(daemon, extra=cookies))
    assert status_of(out) == 431 and closed


@pytest.mark.parametrize("request_head, status", [
    (b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n", 400),
    (b"GET /api/status HTTP/1.1\r\nHost: evil.example\r\nHost: 127.0.0.1\r\n\r\n", 400),
    (b"GET http://evil.example/api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
    (b"GET http://127.0.0.1/api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
    (b"GET /api/status HTTP/1.1\r\n\r\n", 400),
    (b"GET /api/status HTTP/1.0\r\n\r\n", 400),
    (b"GET /api/status HTTP/1.1\r\nHost: evil.example:8088\r\n\r\n", 403),
    (b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1.evil.example\r\n\r\n", 403),
    (b"GET /api/status HTTP/1.1\r\nHost: localhost@evil.example\r\n\r\n", 403),
])
def test_only_one_loopback_host_and_origin_form_targets_are_served(daemon, request_head, status):
    out, closed = raw(daemon.port, request_head)
    assert status_of(out) == status and closed, out
    assert b'"state"' not in out


@pytest.mark.parametrize("host", ["localhost:9000", "127.0.0.1", "[::1]:8088", "LOCALHOST"])
def test_loopback_hosts_through_any_tunnel_port_are_served(daemon, host):
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=30)
    conn.request("GET", "/api/status", headers={"Host": host})
    r = conn.getresponse()
    assert r.status == 200 and json.loads(r.read())["state"] == "ready"
    conn.close()


# -- other origins --------------------------------------------------------------------------------------------
def get(d, path, method="GET", **headers):
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    conn.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})
    r = conn.getresponse()
    body = r.read(2000) if path == "/stream.mjpg" and r.status == 200 else r.read()
    conn.close()
    return r, body


def test_every_answer_forbids_framing_and_names_its_sources(daemon):
    for method, path in (("GET", "/"), ("GET", "/api/status"), ("GET", "/nope"), ("OPTIONS", "/")):
        r, _ = get(daemon, path, method)
        assert r.getheader("X-Frame-Options") == "DENY", (method, path, r.status)
        csp = r.getheader("Content-Security-Policy")
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "'unsafe-inline'" not in csp
        assert r.getheader("X-Content-Type-Options") == "nosniff"


def test_streams_and_the_api_go_to_the_page_itself_only(daemon):
    for site in ("cross-site", "same-site"):
        for path in ("/stream.mjpg", "/frame.jpg", "/api/status"):
            r, body = get(daemon, path, Sec_Fetch_Site=site, Sec_Fetch_Mode="no-cors", Sec_Fetch_Dest="image")
            assert r.status == 403 and b"another site's page" in body, (site, path)
        r, _ = get(daemon, "/", Sec_Fetch_Site=site, Sec_Fetch_Mode="navigate", Sec_Fetch_Dest="iframe")
        assert r.status == 403  # framed by another page: refused (and the browser would not show it anyway)
        r, body = get(daemon, "/", Sec_Fetch_Site=site, Sec_Fetch_Mode="navigate", Sec_Fetch_Dest="document")
        assert r.status == 200 and b'id="shutter"' in body  # a link from elsewhere opens the page itself
    r, body = get(daemon, "/stream.mjpg", Sec_Fetch_Site="same-origin", Sec_Fetch_Mode="no-cors",
                  Sec_Fetch_Dest="image")
    assert r.status == 200 and b"--camerad-frame" in body
    before = jpgs(daemon)
    r, body = get(daemon, "/api/shutter", "POST", X_Camerad="1", Origin="http://evil.example")
    assert r.status == 403 and b"evil.example" in body
    r, _ = get(daemon, "/api/shutter", "POST", X_Camerad="1", Origin="null")
    assert r.status == 403 and jpgs(daemon) == before


# -- floods under systemd's default open-file limit --------------------------------------------------------
def test_a_connection_flood_leaves_the_camera_and_its_control_socket_working(tmp_path):
    d = Daemon(tmp_path, preview=True, nofile=128).start()
    flood = []
    try:
        for _ in range(150):  # the old page kept each one, and a thread, until the process ran out
            flood.append(socket.create_connection(("127.0.0.1", d.port), timeout=10))
        refused = flood[-1].recv(4096)  # connections are accepted in order: the flood has been through
        assert status_of(refused) == 503 and b"connections are open" in refused
        assert len(os.listdir(f"/proc/{d.proc.pid}/fd")) < 100
        assert "turning clients away" in d.log_text()
        res = d.call("capture", {"wait": True}, timeout=120)["result"]  # the camera still writes its files
        assert res["taken"] == 1 and (d.captures / res["captures"][0]["files"][-1]).stat().st_size > 0
        assert d.camctl("status").returncode == 0
    finally:
        for s in flood:
            s.close()
        log = d.log_text()
        assert d.stop() == 0
    assert "Too many open files" not in log and "accept failed" not in log and "Traceback" not in log


# -- deadlines and caps in simulated time ----------------------------------------------------------------
class _Viewfinder:
    def __init__(self):
        self.seq = 0

    def _frame(self):
        self.seq += 1
        return SimpleNamespace(sequence=self.seq, jpeg=lambda quality: b"\xff\xd8 frame \xff\xd9")

    def latest(self, timeout):
        return self._frame()

    def next_after(self, seq, timeout):
        time.sleep(0.01)
        return self._frame()


class _Dispatcher:
    def __init__(self):
        self.calls = []

    def call(self, method, params, peer):
        self.calls.append(method)
        return {"state": "ready", "captures": []}


@pytest.fixture
def page():
    clock = FakeClock(start_ns=10**9)
    viewfinder = _Viewfinder()
    app = SimpleNamespace(config=SimpleNamespace(preview=SimpleNamespace(max_streams=2, jpeg_quality=80)),
                          preview=lambda: viewfinder)
    pv = PreviewServer(app, _Dispatcher(), port=0, clock=clock, idle_timeout=15.0, request_timeout=10.0,
                       max_connections=4)
    pv.start()
    pv.clock = clock
    yield pv
    pv.close()


def open_conn(pv) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", pv.port), timeout=10)
    return s


def ask(s, path="/api/status") -> bytes:
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    got = b""
    while b"\r\n\r\n" not in got or not got.endswith(b"}"):
        chunk = s.recv(65536)
        assert chunk, got
        got += chunk
    return got


def test_an_idle_kept_alive_connection_is_closed_in_simulated_time(page):
    with open_conn(page) as s:
        assert status_of(ask(s)) == 200
        page.clock.advance(14.0)
        assert page.deadlines.reap() == []
        assert status_of(ask(s)) == 200  # still served on the same connection, and the idle time restarts
        page.clock.advance(14.0)
        assert page.deadlines.reap() == []
        page.clock.advance(1.0)
        assert len(page.deadlines.reap()) == 1
        assert s.recv(100) == b""  # closed, its thread and descriptor given back


@pytest.mark.parametrize("start, trickle", [
    (b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-A: b\r\n"),   # headers a line a second
    (b"POST /api/shutter HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Camerad: 1\r\nContent-Length: 100\r\n\r\n", b"x"),
])
def test_a_request_is_timed_from_its_first_byte_however_it_trickles(page, start, trickle):
    with open_conn(page) as s:
        s.sendall(start)
        assert until(lambda: page.deadlines.phases() == ["request"], timeout=5)
        for _ in range(9):
            page.clock.advance(1.0)
            s.sendall(trickle)
            assert page.deadlines.reap() == []
        page.clock.advance(1.0)
        assert len(page.deadlines.reap()) == 1
        out = s.recv(4096)
        assert status_of(out) == 408 and b"after its first byte" in out
    assert page.dispatcher.calls == []


def test_a_stream_being_watched_has_no_deadline(page):
    with open_conn(page) as s:
        s.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got = b""
        while b"--camerad-frame" not in got:
            got += s.recv(65536)
        page.clock.advance(3600.0)
        assert page.deadlines.reap() == []
        got = b""
        while got.count(b"--camerad-frame") < 3:
            got += s.recv(65536)


def test_connections_beyond_the_cap_are_told_503_and_closed(page):
    held = [open_conn(page) for _ in range(4)]
    try:
        assert until(lambda: page.connections == 4, timeout=5)
        out, closed = raw(page.port, b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status_of(out) == 503 and closed
        held.pop().close()
        assert until(lambda: page.connections == 3, timeout=5)
        with open_conn(page) as s:
            assert status_of(ask(s)) == 200
    finally:
        for s in held:
            s.close()


# -- a real browser, a page on another origin -------------------------------------------------------------
ATTACK = """<!doctype html><html><head><title>attacker</title></head><body><script>
const target = "http://127.0.0.1:%(port)d";
const shutter = "POST /api/shutter HTTP/1.1\\r\\nHost: 127.0.0.1:%(port)d\\r\\nX-Camerad: 1\\r\\n"
              + "Content-Length: 0\\r\\n\\r\\n";
async function attack() {
  for (let i = 0; i < 3; i++) {   // smuggling: the old server read 64 KiB of the body and ran the rest
    try { await fetch(target + "/nothing", {method: "POST", mode: "no-cors", body: "x".repeat(65536) + shutter}); }
    catch (e) {}
    try { await fetch(target + "/nothing", {method: "POST", mode: "no-cors", body: shutter}); } catch (e) {}
  }
  try { await fetch(target + "/api/shutter", {method: "POST", mode: "no-cors", body: "x"}); } catch (e) {}
  for (let i = 0; i < 8; i++) {   // every MJPEG slot, from <img> tags
    const img = document.createElement("img"); img.src = target + "/stream.mjpg?i=" + i; document.body.append(img);
  }
  const frame = document.createElement("iframe"); frame.id = "framed"; frame.src = target + "/";
  document.body.append(frame);    // the shutter button under a decoy, for clickjacking
  document.title = "attacked";
}
attack();
</script></body></html>"""


@needs_browser
def test_in_chromium_a_page_on_another_origin_cannot_shoot_stream_or_frame(daemon, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    page = (ATTACK % {"port": daemon.port}).encode()

    class Attacker(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    before, presses = jpgs(daemon), daemon.log_text().count("control: shutter")
    try:
        browser.get(f"http://127.0.0.1:{evil.server_address[1]}/")  # same site, another origin (port)
        assert until(lambda: browser.title == "attacked", timeout=60)
        until(lambda: browser.execute_script("return [...document.images].every(i => i.complete)"), timeout=10)
        time.sleep(1.0)  # anything the attack set off has had time to land
        assert jpgs(daemon) == before and daemon.log_text().count("control: shutter") == presses
        assert json.loads(get(daemon, "/api/stream")[1])["streams"] == 0  # no slot held by the <img> tags
        browser.switch_to.frame(browser.find_element(By.ID, "framed"))
        assert browser.find_elements(By.ID, "shutter") == []  # the browser would not show it framed
    finally:
        browser.switch_to.default_content()
        evil.shutdown()
        evil.server_close()
    r, body = get(daemon, "/stream.mjpg")  # the operator's own page still gets its stream
    assert r.status == 200 and b"--camerad-frame" in body
