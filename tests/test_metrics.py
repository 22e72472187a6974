"""The fleet view: camerad's Prometheus textfile read by the real node_exporter (Debian's prometheus-node-exporter,
textfile collector only, on a loopback port), figure by figure against the daemon's own status."""

import os
import shutil
import subprocess
import time
import urllib.request

import pytest

from control_support import Daemon, free_port, until

NODE_EXPORTER = shutil.which("prometheus-node-exporter")


def scrape(port: int) -> dict[str, float]:
    """node_exporter's /metrics as {"name{labels}": value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("metrics")
    (tmp / "textfile").mkdir()
    d = Daemon(tmp, metrics={"textfile_directory": str(tmp / "textfile"), "interval": 1.0},
               storage={"reserve_mb": 200, "state_directory": str(tmp / "state")}).start()
    yield d
    assert d.stop() == 0, d.log_text()


def test_the_textfile_is_written_atomically_and_complete(daemon):
    prom = daemon.tmp / "textfile" / "camerad.prom"
    # Rewritten every second: once frames flow, the sensor's own figures are in it.
    assert until(lambda: prom.exists() and "camerad_sensor_temperature_celsius" in prom.read_text(), timeout=20), \
        daemon.log_text()
    text = prom.read_text()
    for name in ("camerad_frames_total", "camerad_frames_dropped_total", "camerad_captures_total",
                 "camerad_refusals_total", "camerad_queue_used", "camerad_storage_free_bytes",
                 "camerad_sensor_temperature_celsius", 'camerad_state{state="ready"} 1'):
        assert name in text, name
    # Only the finished file is ever there under a *.prom name (the collector reads those).
    assert [p.name for p in prom.parent.iterdir() if p.name.endswith(".prom")] == ["camerad.prom"]


@pytest.mark.skipif(NODE_EXPORTER is None, reason="Debian's prometheus-node-exporter is not installed "
                                                  "(install.sh installs it on hosts with apt)")
def test_node_exporter_serves_camerad_s_figures(daemon):
    daemon.call("capture", {"raw": False, "denoise": "fast"})
    port = free_port()
    exporter = subprocess.Popen([NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}",
                                 "--collector.disable-defaults", "--collector.textfile",
                                 f"--collector.textfile.directory={daemon.tmp / 'textfile'}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        assert until(lambda: _up(port), timeout=20)
        # The file is rewritten every second: the denoised capture shows once it has been.
        m = until(lambda: (lambda m: m if m.get("camerad_denoise_seconds", 0) > 0 else None)(scrape(port)),
                  timeout=20)
        assert m, scrape(port)
        assert m["node_textfile_scrape_error"] == 0  # node_exporter read it without a complaint
        status = daemon.call("status")["result"]
        assert m["camerad_captures_total"] == status["captures_written"] >= 1
        assert 0 < m["camerad_frames_total"] <= status["frames"]
        assert m["camerad_storage_reserve_bytes"] == 200 * 2**20
        assert abs(m["camerad_storage_free_bytes"] - status["storage"]["free_bytes"]) < 2**30
        assert m["camerad_sensor_temperature_celsius"] == pytest.approx(status["sensor_temperature"], abs=5)
        assert m["camerad_queue_size"] == status["queue"]["size"]
        assert m['camerad_state{state="ready"}'] + m['camerad_state{state="capturing"}'] == 1
        assert 0 < m["camerad_denoise_seconds"] < m["camerad_develop_seconds"]
        # A burst longer than the queue is refused whole: counted, and the fleet sees it.
        assert daemon.call("capture", {"count": 100})["error"]["code"] == "refused"
        assert until(lambda: scrape(port)["camerad_refusals_total"] == m["camerad_refusals_total"] + 1, timeout=20)
    finally:
        exporter.terminate()
        exporter.wait(10)


def _up(port: int) -> bool:
    try:
        scrape(port)
        return True
    except OSError:
        time.sleep(0.1)
        return False


def test_install_sh_metrics_adds_the_drop_in_that_opens_node_exporter_s_directory(tmp_path):
    import sys

    from daemon_support import ROOT

    dropin = (ROOT / "systemd" / "camerad-metrics.conf").read_text()
    assert "ReadWritePaths=-/var/lib/prometheus/node-exporter" in dropin
    r = subprocess.run(["bash", str(ROOT / "install.sh"), "--target", "pi", "--prefix", str(tmp_path / "root"),
                        "--dry-run", "--metrics"], capture_output=True, text=True, cwd=ROOT, timeout=120,
                       env=dict(os.environ, PYTHON=sys.executable))
    assert r.returncode == 0, r.stderr
    assert f"{tmp_path}/root/usr/lib/systemd/system/camerad.service.d/metrics.conf" in r.stdout
