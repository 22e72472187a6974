"""The daemon under (a stand-in for) systemd: readiness after the first frame, watchdog pings only while frames
flow, SIGHUP reloads (a broken tuning keeps the old one), SIGTERM writes every capture taken and exits 0,
and a kill -9 mid-burst leaves nothing half-written under a final name."""

import io
import json
import os
import shutil
import signal
import time

import numpy as np
import pytest
import rawpy
from PIL import Image

from daemon_support import (ROOT, NotifyListener, capture, make_app, mock_config_data, start_daemon, wait_until,
                            write_toml)
from firmware.config import load
from firmware.daemon.lifecycle import Lifecycle
from firmware.daemon.notify import Notifier
from firmware.formats.jpeg import encode_jpeg
from firmware.sensor.mock import open_mock
from firmware.storage.atomic import TMP_PREFIX

MOCK_TUNING = ROOT / "tuning" / "mock" / "imx477.json"


def frozen_after_first(cfg):
    """Open mocks; every camera opened after the first is frozen too (a sensor that stays stuck)."""
    cam = open_mock(cfg)
    if frozen_after_first.opened:
        cam.inject("freeze")
    frozen_after_first.opened += 1
    return cam


def test_ready_only_after_the_first_frame_and_watchdog_stops_when_the_stream_freezes(tmp_path):
    frozen_after_first.opened = 0
    app = make_app(tmp_path, start=False, sensor_factory=frozen_after_first, watchdog={"frame_stall": 0.5})
    listener = NotifyListener(path=tmp_path / "notify")
    life = Lifecycle(app, Notifier(listener.address), watchdog_s=0.1)
    try:
        app.start()
        assert life.ready(20)
        msgs = [m for _, m in listener.poll(0.1)]
        assert msgs[0]["STATUS"].startswith("starting") and msgs[1]["READY"] == "1"
        assert msgs[1]["STATUS"].startswith("ready: imx477 1332x990")
        # Pings while frames arrive (counted where they are sent: a loaded machine only makes the loop slower).
        assert wait_until(lambda: (life.tick(), listener.poll(0.1))[0] is None and life.pings >= 5, timeout=60)
        frozen_at = time.monotonic()
        app.sensor.inject("freeze")
        while time.monotonic() < frozen_at + 1.0:  # frame_stall (0.5 s) and slack
            life.tick()
            listener.poll(0.1)
        after_stall = life.pings
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            life.tick()
            listener.poll(0.1)
        # No ping once the stream has been still for longer than frame_stall: systemd's watchdog would fire.
        assert life.pings == after_stall
        assert [m for _, m in listener.poll(0.1) if m.get("WATCHDOG") == "1"]
        statuses = [m["STATUS"] for _, m in listener.messages if "STATUS" in m]
        assert statuses[-1].startswith("error:")
        assert app.snapshot().engine.fault
    finally:
        app.stop()
        listener.close()


def test_reload_with_a_broken_tuning_keeps_the_old_one(tmp_path):
    tuning = tmp_path / "tuning.json"
    shutil.copy(MOCK_TUNING, tuning)
    cfg_file = tmp_path / "camerad.toml"
    cfg_file.write_text(f'[sensor]\nbackend = "mock"\nmode = "1332x990"\ntuning = "{tuning}"\n'
                        f'[capture]\ndirectory = "{tmp_path / "caps"}"\n'
                        f'[storage]\nreserve_mb = 0\nstate_directory = "{tmp_path / "state"}"\n')
    app = make_app(tmp_path, sensor={"tuning": str(tuning)})
    listener = NotifyListener(path=tmp_path / "notify")
    life = Lifecycle(app, Notifier(listener.address), reload_config=lambda: load(cfg_file))
    try:
        old = app.tuning
        for broken in ("{ this is not json", json.dumps({"version": 2.0, "target": "bcm2835", "algorithms": [
                {"rpi.black_level": {"black_level": 4096}}, {"rpi.ccm": {"ccms": [{"ct": 4000, "ccm": [1, 2]}]}}]})):
            tuning.write_text(broken)
            assert life.reload() is False
            assert app.tuning is old
            fields = listener.wait_for("READY", "1", timeout=5)
            assert "last reload rejected" in fields["STATUS"]
        assert any("RELOADING" in m for _, m in listener.messages)
        r = capture(app).result(timeout=60)  # still shooting with the old tuning
        assert json.loads(r.files[-1].read_text())["capture"]["tuning"] == str(tuning)
        # A good file with a change is taken, and the camera restarted with it.
        data = json.loads(MOCK_TUNING.read_text())
        for block in data["algorithms"]:
            if "rpi.agc" in block:
                for ch in block["rpi.agc"].get("channels", [block["rpi.agc"]]):
                    ch["y_target"] = [1000, 0.3, 10000, 0.3]
        tuning.write_text(json.dumps(data))
        assert life.reload() is True
        assert app.tuning is not old and app.wait_for_frame(10)
        assert capture(app).result(timeout=60).files
    finally:
        app.stop()
        listener.close()


def test_reload_applies_writer_settings_without_restarting_and_a_new_mode_with_one(tmp_path):
    app = make_app(tmp_path)
    try:
        first_sensor = app.sensor
        app.reload(load_text(tmp_path, capture={"jpeg_quality": 50, "raw": False}))
        assert app.sensor is first_sensor and not app.settings.raw
        r = capture(app).result(timeout=60)
        assert [p.suffix for p in r.files] == [".jpg", ".json"]
        quality50 = Image.open(io.BytesIO(encode_jpeg(np.zeros((16, 16, 3), np.uint8), quality=50)))
        assert Image.open(r.files[0]).quantization == quality50.quantization  # written at the new quality
        app.reload(load_text(tmp_path, sensor={"mode": "2028x1520"}))
        assert app.mode.name == "2028x1520" and app.wait_for_frame(20)
        r = capture(app).result(timeout=120)
        jpg = next(p for p in r.files if p.suffix == ".jpg")
        assert Image.open(jpg).size == (2028, 1520)
    finally:
        app.stop()


def load_text(tmp_path, **sections):
    """Write and load a config file: the test app's defaults with ``sections`` merged in."""
    return load(write_toml(tmp_path / "reload.toml", mock_config_data(tmp_path, **sections)))


# -- the real daemon, as systemd runs it ------------------------------------------------------------------

def final_jpegs(caps):
    """JPEGs under their final names (pathlib's glob also matches the hidden temporaries)."""
    return [p for p in caps.glob("*.jpg") if not p.name.startswith(".")]


def daemon_env(listener):
    env = dict(os.environ, NOTIFY_SOCKET=listener.address, WATCHDOG_USEC="2000000", PYTHONUNBUFFERED="1")
    env.pop("CAMERAD_SENSOR_BACKEND", None)
    return env


def write_config(tmp_path, mode="1332x990", **capture):
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in capture.items())
    cfg = tmp_path / "camerad.toml"
    cfg.write_text(f'[sensor]\nmode = "{mode}"\ntuning = "{tmp_path / "tuning.json"}"\n'
                   f'[capture]\n{extra}'
                   f'[storage]\nreserve_mb = 0\nstate_directory = "{tmp_path / "state"}"\n')
    shutil.copy(MOCK_TUNING, tmp_path / "tuning.json")
    return cfg


@pytest.mark.slow
def test_sighup_broken_tuning_then_sigterm_writes_the_queued_burst_and_exits_0(tmp_path):
    listener = NotifyListener(path=tmp_path / "notify")
    cfg = write_config(tmp_path, drive_mode="burst", burst_frames=6)
    caps = tmp_path / "caps"
    proc = start_daemon(cfg, caps, daemon_env(listener), log=tmp_path / "log")
    try:
        assert listener.wait_for("READY", "1", timeout=60), (tmp_path / "log").read_text()
        assert listener.wait_for("WATCHDOG", "1", timeout=10)
        (tmp_path / "tuning.json").write_text("{ broken")
        proc.send_signal(signal.SIGHUP)
        assert listener.wait_for("RELOADING", "1", timeout=20)
        fields = listener.wait_for("STATUS", None, timeout=20)
        assert fields is not None
        assert wait_until(lambda: listener.poll() and "reload rejected" in (tmp_path / "log").read_text(), timeout=20)
        proc.send_signal(signal.SIGUSR1)  # a burst of 6...
        time.sleep(0.3)  # the six frames are taken in 75 ms; writing them takes far longer
        listener.messages.clear()
        proc.send_signal(signal.SIGTERM)  # ...then stop at once: all six must still be written
        end = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < end:
            listener.poll(0.1)
        assert proc.wait(timeout=1) == 0
        listener.poll(0.1)
        assert any(m.get("STOPPING") == "1" for _, m in listener.messages)
        stopping = [m["STATUS"] for _, m in listener.messages if m.get("STATUS", "").startswith("stopping")]
        assert stopping
        if "queued" in stopping[0]:  # captures were still being written at SIGTERM: it asked systemd for time
            assert any("EXTEND_TIMEOUT_USEC" in m for _, m in listener.messages)
    finally:
        if proc.poll() is None:
            proc.kill()
        listener.close()
    log = (tmp_path / "log").read_text()
    assert "tuning.json" in log and "reload rejected" in log
    stems = {p.stem for p in final_jpegs(caps)}
    assert len(stems) == 6, log
    for stem in stems:
        assert {p.suffix for p in caps.glob(stem + ".*")} == {".dng", ".jpg", ".json"}
    assert not list(caps.glob(f"{TMP_PREFIX}*"))


@pytest.mark.slow
def test_kill_9_mid_burst_leaves_no_partial_file_and_the_next_start_cleans_up(tmp_path):
    listener = NotifyListener(path=tmp_path / "notify")
    cfg = write_config(tmp_path, drive_mode="burst", burst_frames=8, mode="4056x3040")
    caps = tmp_path / "caps"
    proc = start_daemon(cfg, caps, daemon_env(listener), log=tmp_path / "log")
    try:
        assert listener.wait_for("READY", "1", timeout=90), (tmp_path / "log").read_text()
        proc.send_signal(signal.SIGUSR1)
        # Kill while a capture is being written: a final file exists and temporaries are in flight.
        assert wait_until(lambda: final_jpegs(caps) and any(caps.glob(f"{TMP_PREFIX}*")), timeout=120,
                          step=0.005)
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    leftovers = list(caps.glob(f"{TMP_PREFIX}*"))
    assert [p for p in caps.iterdir() if not p.name.startswith(".")]
    # The next start finishes a group the crash interrupted after its commit, removes what was only staged,
    # and says so.
    listener2 = NotifyListener(path=tmp_path / "notify2")
    proc = start_daemon(cfg, caps, daemon_env(listener2), log=tmp_path / "log2")
    try:
        assert listener2.wait_for("READY", "1", timeout=90)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        listener.close()
        listener2.close()
    assert not [p for p in caps.iterdir() if p.name.startswith(".")]
    log2 = (tmp_path / "log2").read_text()
    assert leftovers and all(p.name in log2 for p in leftovers) and "half-written" in log2
    for stem in {p.stem for p in caps.iterdir()}:  # every capture whole: none partial, none half-written
        files = sorted(caps.glob(stem + ".*"))
        assert {p.suffix for p in files} == {".dng", ".jpg", ".json"}, files
        Image.open(caps / f"{stem}.jpg").load()  # complete, decodable
        with rawpy.imread(str(caps / f"{stem}.dng")) as rp:
            assert rp.raw_image.shape == (3040, 4056)
        json.loads((caps / f"{stem}.json").read_text())
