"""camtune as a shell tool: validate reads soft-ISP files as libcamera's simple IPA does and goes through every file,
a pipe closed early ends quietly, and outputs go only into directories that exist."""

import json
import os
import subprocess
import sys

from daemon_support import ROOT
from firmware.camtune.cli import main as camtune

MOCK = ROOT / "tuning" / "mock" / "imx477.json"


def run_camtune(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "firmware.camtune.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120, **kw)


def test_validate_knows_a_soft_isp_file_and_checks_every_file_given(tmp_path, capsys):
    good = tmp_path / "imx477.yaml"
    assert camtune(["export-softisp", str(MOCK), "-o", str(good)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nalgorithms:\n  - BlackLevel:\n  - rpi.awb: {}\n  - Ccm:\n"
                   "      ccms:\n        - ct: 5000\n          ccm: [1, 0, 0, 0, 1, 0, 0, 0]\n"
                   "  - Adjust:\n      gamma: 40\n")
    capsys.readouterr()
    # Several files, one of them missing: every one is reported, and one exit status covers them all.
    rc = camtune(["validate", str(good), str(bad), str(tmp_path / "missing.json"), str(MOCK)])
    out, err = capsys.readouterr()
    assert rc == 2
    assert f"{good}: ok (soft-ISP file, 5 blocks, 0 errors" in out
    assert f"{bad}: FAIL (soft-ISP file, 4 blocks, 3 errors" in out
    assert "rpi.awb: no such soft-ISP algorithm (a Raspberry Pi block: this is a soft-ISP file)" in out
    assert "Ccm: ccms[0].ccm: must be 9 finite numbers" in out and "Adjust: gamma: must be a number 0.1..10" in out
    assert f"{MOCK}: ok (vc4, 11 blocks" in out
    assert "missing.json: tuning file not found" in err and "must be an object, got list" not in out + err
    assert camtune(["validate", str(good)]) == 0
    # A Raspberry Pi ISP cannot take it.
    assert camtune(["validate", "--target", "pisp", str(good)]) == 1
    assert "a soft-ISP file (libcamera's simple IPA), not a Raspberry Pi pisp one" in capsys.readouterr().out


def test_validate_reads_libcamera_s_own_soft_isp_files(shared_reference, capsys):
    files = sorted((shared_reference / "libcamera-tuning" / "simple").glob("*.yaml"))
    assert files
    assert camtune(["validate", *map(str, files)]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok (soft-ISP file,") == len(files)
    assert "Lut: the tone table of libcamera before 0.7" in out  # the pre-0.7 file's block, named as such


def test_a_reader_that_stops_early_ends_camtune_quietly(tmp_path):
    """``camtune diff A B | head``: once head has its lines the rest is not wanted; no "Broken pipe", status 0."""
    a = tmp_path / "a.json"
    doc = json.loads(MOCK.read_text())
    doc["algorithms"] = [b for b in doc["algorithms"] if "rpi.alsc" not in b]
    a.write_text(json.dumps(doc))
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the first line
    try:
        r = subprocess.run([sys.executable, "-m", "firmware.camtune.cli", "diff", str(a), str(MOCK)], stdout=write,
                           stderr=subprocess.PIPE, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                           timeout=120)
    finally:
        os.close(write)
    assert r.returncode == 0 and r.stderr == ""
    assert run_camtune("diff", str(a), str(MOCK)).returncode == 1  # read whole, it still says they differ


def test_outputs_go_only_into_directories_that_exist(tmp_path):
    src = tmp_path / "shot.dng"
    src.write_bytes(b"II*\0")
    missing = tmp_path / "nonexistent" / "dir"
    r = run_camtune("develop", str(src), "-o", str(missing / "x.jpg"))
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0
    assert f"{missing}: no such directory (camtune creates none" in r.stderr
    r = run_camtune("mock", "flat", "--ct", "5000", "--lux", "100", "-o", str(missing / "x.dng"))
    assert r.returncode == 2 and "no such directory" in r.stderr
    assert not (tmp_path / "nonexistent").exists()
