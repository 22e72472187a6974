"""Control socket and preview page of ``camerad --mock`` (12.3 MP IMX477 mock, real time).

* ``status`` round trip over the control socket, one client (p50/p99), against a bare Unix-socket JSON-line
  echo in this process (what the socket and JSON framing cost without the daemon);
* ``status`` round trips with 100 clients at once (each on its own connection), p50/p99 and throughput;
* the preview page's MJPEG stream: frames per second received (vs ``[preview] fps``) and the daemon's CPU while
  streaming, against the same daemon idle.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.capture import _cpu_seconds

ROOT = Path(__file__).resolve().parent.parent


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _round_trips(path: str, n: int) -> list[float]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        f = s.makefile("rb")
        out = []
        for i in range(n):
            t = time.perf_counter()
            s.sendall(json.dumps({"id": i, "method": "status"}).encode() + b"\n")
            f.readline()
            out.append(time.perf_counter() - t)
        return out


def _echo_server(path: str) -> socket.socket:
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)

    def serve():
        conn, _ = srv.accept()
        with conn, conn.makefile("rb") as f:
            for line in f:
                doc = json.loads(line)
                conn.sendall(json.dumps({"id": doc["id"], "result": {}}).encode() + b"\n")

    threading.Thread(target=serve, daemon=True).start()
    return srv


def _concurrent(path: str, clients: int, each: int) -> tuple[list[float], float]:
    lat: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client():
        start.wait()
        r = _round_trips(path, each)
        with lock:
            lat.extend(r)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, time.perf_counter() - t0


def _stream(port: int, seconds: float) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/stream.mjpg")
    r = conn.getresponse()
    frames, end, tail = 0, time.monotonic() + seconds, b""
    while time.monotonic() < end:
        chunk = r.read1(65536)
        frames += (tail + chunk).count(b"--camerad-frame")
        tail = chunk[-20:]
    conn.close()
    return frames


def run(quick: bool = False) -> dict:
    n = 100 if quick else 1000
    seconds = 3.0 if quick else 10.0
    with tempfile.TemporaryDirectory() as d:
        sock = str(Path(d) / "control.sock")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cfg = Path(d) / "camerad.toml"
        cfg.write_text(f'[storage]\nreserve_mb = 0\nstate_directory = "{d}"\n'
                       f'[preview]\nenabled = true\nport = {port}\n')
        proc = subprocess.Popen([sys.executable, "-m", "firmware.daemon.cli", "--mock", "--config", str(cfg),
                                 "--captures", str(Path(d) / "caps"), "--socket", sock], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            end = time.monotonic() + 120
            while time.monotonic() < end:
                try:
                    _round_trips(sock, 1)
                    break
                except OSError:
                    time.sleep(0.2)
            time.sleep(2.0)
            one = _round_trips(sock, n)
            echo_path = str(Path(d) / "echo.sock")
            _echo_server(echo_path)
            ref = _round_trips(echo_path, n)
            lat, wall = _concurrent(sock, 100, 5 if quick else 20)
            c0, t0 = _cpu_seconds(proc.pid), time.monotonic()
            time.sleep(seconds)
            idle = (_cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0)
            _stream(port, 1.0)  # the viewfinder wakes up
            c0, t0 = _cpu_seconds(proc.pid), time.monotonic()
            frames = _stream(port, seconds)
            elapsed = time.monotonic() - t0
            streaming = (_cpu_seconds(proc.pid) - c0) / elapsed
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
    fps = frames / elapsed
    return {
        "status_round_trip_p50_ms": statistics.median(one) * 1e3,
        "status_round_trip_p99_ms": _pct(one, 99) * 1e3,
        "reference_bare_socket_echo_p50_ms": statistics.median(ref) * 1e3,
        "status_vs_bare_echo_p50": statistics.median(one) / statistics.median(ref),
        "status_100_clients_p50_ms": statistics.median(lat) * 1e3,
        "status_100_clients_p99_ms": _pct(lat, 99) * 1e3,
        "status_100_clients_requests_per_s": len(lat) / wall,
        "preview_stream_fps": fps,
        "reference_configured_preview_fps": 10.0,
        "daemon_cpu_idle_percent": idle * 100,
        "daemon_cpu_streaming_percent": streaming * 100,
        "preview_cpu_cost_percent_of_a_core": (streaming - idle) * 100,
        "preview_cpu_ms_per_frame": (streaming - idle) * elapsed / max(frames, 1) * 1e3,
    }


if __name__ == "__main__":  # pragma: no cover
    for k, v in run("--quick" in sys.argv).items():
        print(f"{k}: {v:.4g}")
    os._exit(0)
