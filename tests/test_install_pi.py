"""install.sh's camera path run on a host: --dry-run touches nothing, --prefix lays down every file the camera
needs (checked one by one), a second run changes nothing, --uninstall removes the service and keeps the data."""

import os
import re
import shutil
import stat
import subprocess
import sys

import pytest

from daemon_support import ROOT

INSTALL = ROOT / "install.sh"
TOOLS = ("systemd-sysusers", "systemd-tmpfiles", "systemctl", "systemd-analyze")
needs_systemd = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                   reason="systemd's tools are not installed (install.sh installs Debian's systemd "
                                          "package on hosts with apt)")

SYSTEM_FILES = {
    "usr/lib/systemd/system/camerad.service": "systemd/camerad.service",
    "usr/lib/systemd/system/camerad.socket": "systemd/camerad.socket",
    "usr/lib/sysusers.d/camerad.conf": "systemd/sysusers.d/camerad.conf",
    "usr/lib/tmpfiles.d/camerad.conf": "systemd/tmpfiles.d/camerad.conf",
    "etc/camerad/camerad.toml": "firmware/config/camerad.example.toml",
}


def install(*args, timeout=300):
    env = dict(os.environ, PYTHON=sys.executable)
    return subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=ROOT)


def test_dry_run_prints_the_whole_plan_and_changes_nothing(tmp_path):
    root = tmp_path / "root"
    r = install("--target", "pi", "--prefix", str(root), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert not root.exists()
    out = r.stdout
    for dest in SYSTEM_FILES:
        assert f"{root}/{dest}" in out
    assert f"-m venv --system-site-packages {root}/opt/camerad/venv" in out
    assert f"systemd-sysusers --root={root}" in out and f"systemd-tmpfiles --root={root} --create" in out
    assert f"systemctl --root={root} enable camerad.socket camerad.service" in out
    assert "apt-get" not in out  # packages cannot go into a prefix; it says what the image needs instead
    assert "python3-picamera2" in out
    qcom = install("--target", "qcom", "--prefix", str(root), "--dry-run")
    assert f"{root}/usr/lib/udev/rules.d/60-camerad.rules" in qcom.stdout and not root.exists()


def test_bad_options_are_rejected_by_name():
    r = install("--target", "toaster", "--dry-run")
    assert r.returncode != 0 and "unknown target 'toaster'" in r.stderr
    r = install("--frobnicate")
    assert r.returncode != 0 and "unknown option: --frobnicate" in r.stderr


@pytest.mark.slow
@needs_systemd
def test_staged_pi_install_lays_down_every_file_then_uninstalls(tmp_path):
    root = tmp_path / "root"
    r = install("--target", "pi", "--prefix", str(root))
    assert r.returncode == 0, r.stdout + r.stderr
    for dest, src in SYSTEM_FILES.items():
        assert (root / dest).read_bytes() == (ROOT / src).read_bytes(), dest
        assert stat.S_IMODE((root / dest).stat().st_mode) == 0o644
    for data in ("tuning/mock/imx477.json", "hw/README.md"):
        assert (root / "usr/share/camerad" / data).read_bytes() == (ROOT / data).read_bytes()
    assert not (root / "usr/lib/udev/rules.d/60-camerad.rules").exists()  # Pi OS has its own rules
    # The camera user, in the video and gpio groups.
    passwd = (root / "etc/passwd").read_text()
    m = re.search(r"^camera:x:(\d+):(\d+):[^:]*:/var/lib/camerad:", passwd, re.M)
    assert m, passwd
    groups = {line.split(":")[0]: line.split(":")[3].split(",") for line in (root / "etc/group").read_text().splitlines()}
    assert "camera" in groups["video"] and "camera" in groups["gpio"] and "camera" in groups
    if os.geteuid() == 0:  # tmpfiles must chown, so a non-root staging skips it (and says so)
        run_dir = root / "run/camerad"
        assert run_dir.stat().st_uid == int(m.group(1)) and stat.S_IMODE(run_dir.stat().st_mode) == 0o750
    # Enabled: the socket with sockets.target, the service with multi-user.target.
    wants = root / "etc/systemd/system"
    assert os.readlink(wants / "sockets.target.wants/camerad.socket") == "/usr/lib/systemd/system/camerad.socket"
    assert os.readlink(wants / "multi-user.target.wants/camerad.service") == \
        "/usr/lib/systemd/system/camerad.service"
    # The service's ExecStart exists and works: camerad in its own venv, reading the installed configuration.
    camerad = root / "opt/camerad/venv/bin/camerad"
    check = subprocess.run([str(camerad), "--check-config", str(root / "etc/camerad/camerad.toml")],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and "OK" in check.stdout, check.stderr
    # The installed units verify against the staged root's camerad.
    unit = (root / "usr/lib/systemd/system/camerad.service").read_text().replace("/opt/camerad", f"{root}/opt/camerad")
    (tmp_path / "camerad.service").write_text(unit)
    shutil.copy(root / "usr/lib/systemd/system/camerad.socket", tmp_path / "camerad.socket")
    v = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "camerad.service"), str(tmp_path / "camerad.socket")],
                       capture_output=True, text=True, timeout=60)
    assert v.returncode == 0, v.stderr

    # Running it again changes nothing.
    (root / "etc/camerad/camerad.toml").write_text("[capture]\njpeg_quality = 80\n")  # an operator's edit
    again = install("--target", "pi", "--prefix", str(root))
    assert again.returncode == 0, again.stderr
    assert "$ install" not in again.stdout and "$ cp" not in again.stdout and " -m venv " not in again.stdout
    assert "camerad in" in again.stdout and "is up to date" in again.stdout
    assert (root / "etc/camerad/camerad.toml").read_text() == "[capture]\njpeg_quality = 80\n"

    # Uninstall: the service goes, the configuration, captures and user stay.
    (root / "var/lib/camerad/captures").mkdir(parents=True)
    (root / "var/lib/camerad/captures/keep.jpg").write_bytes(b"a capture")
    gone = install("--target", "pi", "--prefix", str(root), "--uninstall")
    assert gone.returncode == 0, gone.stderr
    for dest in list(SYSTEM_FILES)[:4]:
        assert not (root / dest).exists()
    assert not (root / "opt/camerad").exists() and not (root / "usr/share/camerad").exists()
    assert not (wants / "multi-user.target.wants/camerad.service").exists()
    assert (root / "etc/camerad/camerad.toml").exists() and (root / "var/lib/camerad/captures/keep.jpg").exists()
    assert "camera:" in (root / "etc/passwd").read_text()


def test_uninstall_on_a_host_has_nothing_to_remove():
    r = install("--target", "host", "--uninstall", "--dry-run")
    assert r.returncode == 0 and "nothing is installed system-wide on a host" in r.stdout
