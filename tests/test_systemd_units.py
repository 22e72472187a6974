"""The systemd units: they verify, their hardening scores well and still reaches the camera's devices, and a
real socket activation hands camerad its control socket."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys

import pytest

from daemon_support import ROOT, NotifyListener, wait_until

UNITS = ROOT / "systemd"
ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (install.sh installs "
                                   "Debian's systemd package on hosts with apt; without it these tests cannot run)")


def unit(name):
    text = (UNITS / name).read_text()
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def staged_units(tmp_path):
    """The units with ExecStart pointing at something executable here (verify checks it exists)."""
    for name in ("camerad.service", "camerad.socket"):
        text = (UNITS / name).read_text().replace("/opt/camerad/venv/bin/camerad", sys.executable)
        (tmp_path / name).write_text(text)
    return tmp_path / "camerad.service", tmp_path / "camerad.socket"


@needs_systemd
def test_systemd_analyze_verify_passes(tmp_path):
    service, sock = staged_units(tmp_path)
    r = subprocess.run([ANALYZE, "verify", str(service), str(sock)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


@needs_systemd
def test_security_exposure_is_low(tmp_path):
    service, _ = staged_units(tmp_path)
    r = subprocess.run([ANALYZE, "security", "--offline=yes", str(service)], capture_output=True, text=True,
                       timeout=60)
    m = re.search(r"Overall exposure level for camerad.service: ([\d.]+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= 1.5  # 1.1 "OK" when written; 10 is an unhardened service


def test_service_is_notify_with_watchdog_user_groups_and_directories():
    s = unit("camerad.service")
    assert s["Type"] == ["notify"] and s["NotifyAccess"] == ["main"]
    assert s["WatchdogSec"] == ["30"] and s["Restart"] == ["on-failure"]
    assert s["User"] == ["camera"] and s["SupplementaryGroups"] == ["video gpio"]
    assert s["RuntimeDirectory"] == ["camerad"] and s["StateDirectory"] == ["camerad"]
    assert s["RuntimeDirectoryPreserve"] == ["yes"]  # the control socket in /run/camerad outlives restarts
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert s["Requires"] == ["camerad.socket"]
    # Hardening that still reaches the camera stack and GPIO: an allow-list, never PrivateDevices.
    assert "PrivateDevices" not in s and s["DevicePolicy"] == ["closed"]
    assert sorted(s["DeviceAllow"]) == ["char-dma_heap rw", "char-gpiochip rw", "char-media rw",
                                        "char-video4linux rw"]
    assert s["ProtectSystem"] == ["strict"] and s["NoNewPrivileges"] == ["yes"]
    assert s["RestrictAddressFamilies"] == ["AF_UNIX AF_NETLINK"]  # udev enumeration needs netlink
    assert s["WorkingDirectory"] == ["/run/camerad"]  # lgpio's FIFOs


def test_service_limits_and_isolation():
    s = unit("camerad.service")
    assert s["PrivateIPC"] == ["yes"] and s["SocketBindDeny"] == ["any"]
    fs = s["RestrictFileSystems"][0].split()
    assert {"@common-block", "@basic-api", "vfat", "exfat"} <= set(fs)  # root/data, /proc /sys /dev, SD cards
    for key in ("MemoryHigh", "MemoryMax", "LimitNOFILE", "TasksMax"):  # figures: tests/test_memory_budget.py
        assert key in s


@needs_systemd
def test_preview_drop_in_verifies_and_binds_only_the_preview_port(tmp_path):
    from firmware.config.model import PreviewConfig

    staged_units(tmp_path)
    (tmp_path / "camerad.service.d").mkdir()
    (tmp_path / "camerad.service.d" / "preview.conf").write_text((UNITS / "camerad-preview.conf").read_text())
    env = dict(os.environ, SYSTEMD_UNIT_PATH=f"{tmp_path}:")  # the drop-in directory beside the unit is read
    r = subprocess.run([ANALYZE, "verify", "camerad.service"], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    d = unit("camerad-preview.conf")
    assert d["SocketBindAllow"] == [f"tcp:{PreviewConfig().port}"]
    assert d["RestrictAddressFamilies"] == ["AF_INET"] and d["IPAddressAllow"] == ["localhost"]


def test_socket_is_the_control_socket_for_the_camera_group():
    s = unit("camerad.socket")
    assert s["ListenStream"] == ["/run/camerad/control.sock"] and s["SocketMode"] == ["0660"]
    assert s["SocketGroup"] == ["camera"] and s["FileDescriptorName"] == ["control"] and s["Accept"] == ["no"]


def test_sysusers_tmpfiles_and_udev_files():
    sysusers = (UNITS / "sysusers.d" / "camerad.conf").read_text().splitlines()
    entries = [line.split() for line in sysusers if line and not line.startswith("#")]
    assert ["u", "camera", "-"] == entries[1][:3]
    assert ["m", "camera", "video"] in entries and ["m", "camera", "gpio"] in entries
    tmpfiles = (UNITS / "tmpfiles.d" / "camerad.conf").read_text()
    assert "d /run/camerad 0750 camera camera -" in tmpfiles
    rules = (UNITS / "udev" / "60-camerad.rules").read_text()
    for subsystem, group in (("dma_heap", "video"), ("media", "video"), ("video4linux", "video"),
                             ("gpio", "gpio")):
        assert re.search(rf'SUBSYSTEM=="{subsystem}".*GROUP="{group}", MODE="0660"', rules)


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None, reason="systemd-socket-activate not installed")
def test_socket_activation_hands_camerad_its_control_socket(tmp_path):
    listener = NotifyListener(path=tmp_path / "notify")
    sock_path = tmp_path / "control.sock"
    cfg = tmp_path / "camerad.toml"
    cfg.write_text(f'[sensor]\nmode = "1332x990"\n[storage]\nreserve_mb = 0\nstate_directory = "{tmp_path}"\n')
    log = open(tmp_path / "log", "wb")
    proc = subprocess.Popen(["systemd-socket-activate", "-l", str(sock_path), "--fdname=control",
                             f"--setenv=NOTIFY_SOCKET={listener.address}", f"--setenv=PYTHONPATH={ROOT}",
                             sys.executable, "-m", "firmware.daemon.cli", "--mock", "--config", str(cfg),
                             "--captures", str(tmp_path / "caps"), "--log-level", "info"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    try:
        # systemd-socket-activate starts the daemon on the first connection, as systemd would on boot.
        assert wait_until(sock_path.exists, timeout=10)
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(str(sock_path))
        assert listener.wait_for("READY", "1", timeout=60), (tmp_path / "log").read_text()
        assert wait_until(lambda: "socket activation: control (1)" in (tmp_path / "log").read_text(), timeout=10)
        client.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        listener.close()
