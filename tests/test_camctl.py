"""camctl against the real daemon on the mock sensor: every command, its text and JSON output, its exit status."""

import json
import os
import shutil
import subprocess

import pytest
from PIL import Image

from control_support import Daemon, camctl, until
from daemon_support import ROOT

COMMANDS = ("status", "capture", "shutter", "set", "get", "looks", "tuning", "files", "fetch", "delete", "prune",
            "preview", "histogram", "focus", "timelapse", "selftest", "log")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    # Uncompressed DNGs, so that fetching one takes several of the protocol's 1 MiB chunks.
    d = Daemon(tmp_path_factory.mktemp("camctl"), capture={"dng_compression": "none"}).start()
    yield d
    assert d.stop() == 0, d.log_text()


def ok(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def js(r: subprocess.CompletedProcess):
    return json.loads(ok(r))


def sidecar(path: str) -> dict:
    return json.loads(open(path.rsplit(".", 1)[0] + ".json").read())["capture"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(command):
    out = ok(camctl(command, "--help"))
    assert "examples:" in out and f"camctl {command}" in out


def test_top_level_help_and_unreachable_socket(tmp_path):
    assert "examples:" in ok(camctl("--help"))
    r = camctl("--socket", str(tmp_path / "none.sock"), "status")
    assert r.returncode == 3 and "no control socket there (is camerad running?" in r.stderr
    r = camctl("status", env={"CAMERAD_SOCKET": str(tmp_path / "env.sock")})
    assert r.returncode == 3 and "env.sock" in r.stderr
    assert camctl("frobnicate").returncode == 2


def test_status_text_json_and_watch(daemon):
    out = ok(daemon.camctl("status"))
    for label in ("state", "sensor", "exposure", "white balance", "light", "look", "drive mode", "captures",
                  "storage", "frames", "last error"):
        assert label in out
    assert "imx477 1332x990 (mock)" in out and "denoise off" in out and " lux" in out and " °C" in out
    s = js(daemon.camctl("--json", "status"))
    assert s["state"] == "ready" and s["exposure_us"] > 0 and s["sensor"]["mock"] is True
    watched = ok(daemon.camctl("status", "--watch", "--count", "2", "--interval", "0.2"))
    assert watched.count("storage") == 2  # not a tty: blocks one after the other
    lines = ok(daemon.camctl("status", "--watch", "--count", "3", "--interval", "0.1", "--json")).splitlines()
    assert len(lines) == 3 and all(json.loads(line)["state"] for line in lines)
    # The socket can also come from the environment.
    assert js(camctl("status", "--json", env={"CAMERAD_SOCKET": str(daemon.sock)}))["state"] == "ready"


def test_capture_prints_the_files_written(daemon):
    files = ok(daemon.camctl("capture")).split()
    assert [f.rsplit(".", 1)[1] for f in files] == ["dng", "jpg", "json"]
    assert all(os.path.getsize(f) > 0 for f in files)
    burst = ok(daemon.camctl("capture", "--count", "3", "--no-raw")).split()
    assert len(burst) == 6 and not any(f.endswith(".dng") for f in burst)
    assert [sidecar(f)["index"] for f in burst if f.endswith(".jpg")] == [0, 1, 2]
    res = js(daemon.camctl("--json", "capture", "--bracket", "-2,0,2", "--look", "leica-monochrome"))
    assert [c["ev"] for c in res["captures"]] == [0.0, -2.0, 2.0]
    jpg = daemon.captures / res["captures"][1]["files"][1]
    assert sidecar(str(jpg))["look"] == "leica-monochrome" and sidecar(str(jpg))["kind"] == "bracket"
    r, g, b = Image.open(jpg).convert("RGB").split()
    assert r.tobytes() == g.tobytes() == b.tobytes()  # monochrome, for this capture only
    assert js(daemon.camctl("--json", "get", "look"))["values"]["look"] == "leica-authentic"


def test_capture_with_the_denoiser_for_one_shot(daemon):
    out = ok(daemon.camctl("--json", "capture", "--denoise", "fast"))
    doc = json.loads(out)
    name = next(f for f in doc["captures"][0]["files"] if f.endswith(".json"))
    stages = json.loads((daemon.captures / name).read_text())["capture"]["isp_stages"]
    assert "denoise" in stages
    assert js(daemon.camctl("--json", "get", "denoise"))["values"]["denoise"] == "off"  # for that shot only


def test_capture_errors_exit_non_zero_with_the_reason(daemon):
    r = daemon.camctl("capture", "--look", "sepia")
    assert r.returncode == 1 and "'sepia' is not a look" in r.stderr
    r = daemon.camctl("capture", "--bracket", "1")
    assert r.returncode == 2 and "2 to 9 frames" in r.stderr
    r = daemon.camctl("capture", "--count", "0")  # never a capture anywhere: camctl says so itself
    assert r.returncode == 2 and "--count: must be at least 1" in r.stderr
    r = daemon.camctl("capture", "--count", "1000")  # past this camera's burst limit: the daemon says so
    assert r.returncode == 1 and "out of range" in r.stderr


def test_set_and_get_check_values_against_the_sensor(daemon):
    out = ok(daemon.camctl("get"))
    assert "exposure      auto" in out and "114 .. " in out and "us or auto" in out
    assert "one of leica-authentic, leica-monochrome, leica-vibrant, neutral" in out
    assert ok(daemon.camctl("set", "exposure=1/250", "gain=2")).splitlines() == [
        "exposure = 1/250 s (4000 us)", "gain = 2.0"]
    assert until(lambda: js(daemon.camctl("--json", "status"))["exposure_us"] == 4000, timeout=20)
    assert js(daemon.camctl("--json", "status"))["analogue_gain"] == 2.0
    r = daemon.camctl("set", "exposure=5", "look=neutral")
    assert r.returncode == 1 and "exposure: 5 is out of range [114," in r.stderr and "[out_of_range]" in r.stderr
    assert js(daemon.camctl("--json", "get", "look"))["values"]["look"] == "leica-authentic"  # all or nothing
    r = daemon.camctl("set", "gain=abc")
    assert r.returncode == 2 and "gain: 'abc' is not a number (a number or auto)" in r.stderr
    assert daemon.camctl("set", "nonsense").returncode == 2
    r = daemon.camctl("set", "warp=9")
    assert r.returncode == 1 and "'warp' is not a setting" in r.stderr
    ok(daemon.camctl("set", "exposure=auto", "gain=auto", "ev=-0.5", "awb=daylight", "colour_gains=1.9,1.6",
                     "look=neutral", "drive_mode=burst", "raw=off"))
    values = js(daemon.camctl("--json", "get"))["values"]
    # Gains set by hand are no AWB mode: awb reads custom (libcamera's AwbCustom), not the mode set before them.
    assert values == {"exposure": "auto", "gain": "auto", "ev": -0.5, "awb": "custom", "colour_gains": [1.9, 1.6],
                      "look": "neutral", "denoise": "off", "drive_mode": "burst", "raw": False}
    assert until(lambda: js(daemon.camctl("--json", "status"))["colour_gains"] == [1.9, 1.6], timeout=20)
    files = ok(daemon.camctl("capture")).split()
    assert [f.rsplit(".", 1)[1] for f in files] == ["jpg", "json"] and sidecar(files[0])["look"] == "neutral"
    ok(daemon.camctl("set", "colour_gains=auto", "ev=0", "look=leica-authentic", "drive_mode=single", "raw=on"))
    assert js(daemon.camctl("--json", "get", "colour_gains", "raw"))["values"] == {"colour_gains": "auto", "raw": True}


def test_looks_and_tuning(daemon, tmp_path):
    out = ok(daemon.camctl("looks")).splitlines()
    assert len(out) == 4 and out[0].startswith("* leica-authentic")
    show = ok(daemon.camctl("tuning", "show"))
    assert "imx477.json" in show and "target bcm2835" in show and "rpi.ccm" in show
    block = json.loads(ok(daemon.camctl("tuning", "show", "--block", "rpi.black_level")))
    assert block["black_level"] > 0
    assert "reloaded" in ok(daemon.camctl("tuning", "reload"))
    good = ROOT / "tuning" / "mock" / "imx477.json"
    assert "valid for vc4" in ok(daemon.camctl("tuning", "validate", str(good)))
    bad = tmp_path / "bad.json"
    doc = json.loads(good.read_text())
    doc["version"] = 7.0
    bad.write_text(json.dumps(doc))
    r = daemon.camctl("tuning", "validate", str(bad))
    assert r.returncode == 1 and "INVALID" in r.stdout and "version" in r.stdout
    r = daemon.camctl("--json", "tuning", "validate", str(bad))
    assert r.returncode == 1 and json.loads(r.stdout)["valid"] is False
    assert daemon.camctl("tuning", "validate").returncode == 2


def test_files_and_fetch(daemon, tmp_path):
    ok(daemon.camctl("capture"))
    out = ok(daemon.camctl("files", "--limit", "1")).splitlines()
    assert len(out) == 2 and "dng" in out[0] and out[1].startswith("1 of ") and str(daemon.captures) in out[1]
    listing = js(daemon.camctl("--json", "files", "--limit", "3"))
    assert len(listing["captures"]) == 3 and listing["total"] >= 3
    newest = listing["captures"][0]
    dng = next(f["name"] for f in newest["files"] if f["name"].endswith(".dng"))
    got = ok(daemon.camctl("fetch", dng, "-o", str(tmp_path)))
    assert str(tmp_path / dng) in got
    assert (tmp_path / dng).read_bytes() == (daemon.captures / dng).read_bytes()  # several 1 MiB chunks
    assert (daemon.captures / dng).stat().st_size > 2 * 2**20
    r = daemon.camctl("fetch", "../camerad.toml", "-o", str(tmp_path / "x"))
    assert r.returncode == 2 and "no paths" in r.stderr and not (tmp_path / "x").exists()
    r = daemon.camctl("fetch", "nothing.jpg", "-o", str(tmp_path / "y"))
    assert r.returncode == 1 and "no capture file 'nothing.jpg'" in r.stderr and not (tmp_path / "y").exists()


def test_preview_and_histogram(daemon, tmp_path):
    out = ok(daemon.camctl("preview", "-o", str(tmp_path / "p.jpg")))
    assert "p.jpg (640x476" in out
    with Image.open(tmp_path / "p.jpg") as im:
        assert im.format == "JPEG" and im.size == (640, 476)
    ok(daemon.camctl("preview", "-o", str(tmp_path / "z.jpg"), "--zebra", "--peaking"))
    assert Image.open(tmp_path / "z.jpg").size == (640, 476)
    text = ok(daemon.camctl("histogram", "--width", "40", "--height", "3"))
    assert "clipped  R " in text and "raw " in text and "█" in text
    h = js(daemon.camctl("--json", "histogram", "--bins", "32"))
    assert h["bins"] == 32 and all(len(h[k]) == 32 for k in ("r", "g", "b", "luma"))
    assert sum(h["luma"]) == h["pixels"] == 640 * 476
    assert 0 <= h["clipped"]["r"] <= 100 and 0 <= h["raw_clipped"] <= 100


def test_histogram_shows_clipping_when_overexposed(daemon):
    ok(daemon.camctl("set", "exposure=60000", "gain=8"))
    try:
        assert until(lambda: js(daemon.camctl("--json", "histogram"))["raw_clipped"] > 50, timeout=30)
        h = js(daemon.camctl("--json", "histogram"))
        assert h["clipped"]["luma"] > 30
    finally:
        ok(daemon.camctl("set", "exposure=auto", "gain=auto"))


def test_focus_follows_the_mock_focus_ring(daemon):
    def figure(position):
        daemon.call("mock.focus", {"position": position})
        # Readings from frames after the turn: the figure settles once the new frames reach the viewfinder.
        seq = daemon.call("focus")["result"]["sequence"]
        until(lambda: daemon.call("focus")["result"]["sequence"] > seq + 3, timeout=20)
        readings = [json.loads(line) for line in
                    ok(daemon.camctl("--json", "focus", "--count", "3", "--keep-peak", "--interval", "0.05"))
                    .splitlines()]
        assert len(readings) == 3
        return sum(r["value"] for r in readings) / 3, readings[-1]["peak"]

    try:
        soft, _ = figure(0.1)
        nearer, _ = figure(0.35)
        sharp, peak = figure(0.5)
        past, peak_after = figure(0.7)
        assert soft < nearer < sharp and past < sharp * 0.8
        assert peak >= sharp * 0.99 and peak_after >= peak  # the peak is held while the ring turns past it
        line = ok(daemon.camctl("focus", "--count", "2", "--width", "20", "--keep-peak")).splitlines()[-1]
        assert line.startswith("focus ") and "peak" in line and "█" in line and "%" in line
    finally:
        daemon.call("mock.focus", {"position": 0.5})


def test_timelapse_start_status_stop(daemon):
    out = ok(daemon.camctl("timelapse", "start", "--interval", "30", "--count", "5"))
    assert "of 5 frames taken, every 30 s" in out  # the first frame is taken at the start
    assert js(daemon.camctl("--json", "timelapse", "status"))["active"] is True
    assert "timelapse 1/5" in js(daemon.camctl("--json", "status"))["line"]
    assert "timelapse stopped" in ok(daemon.camctl("timelapse", "stop"))
    assert "no timelapse running" in ok(daemon.camctl("timelapse", "status"))
    r = daemon.camctl("timelapse", "start")
    assert r.returncode == 2 and "--interval" in r.stderr


def test_selftest_reports_every_part_honestly(daemon):
    out = ok(daemon.camctl("selftest"))
    for name in ("sensor", "tuning", "storage", "gpio", "denoiser"):
        assert name in out
    assert "selftest passed" in out
    res = js(daemon.camctl("--json", "selftest"))
    levels = {c["name"]: c["level"] for c in res["checks"]}
    assert levels["sensor"] == levels["tuning"] == levels["storage"] == levels["gpio"] == levels["denoiser"] == "ok"
    detail = next(c["detail"] for c in res["checks"] if c["name"] == "denoiser")
    assert "loaded" in detail and "fast" in detail and "hq" in detail


def test_selftest_fails_when_storage_is_gone(tmp_path):
    d = Daemon(tmp_path).start()
    try:
        # The captures directory replaced by a file (a card pulled and something else mounted): even root
        # cannot write there.
        shutil.rmtree(d.captures)
        d.captures.write_text("not a directory")
        r = d.camctl("selftest")
        assert r.returncode == 1 and "FAIL  storage" in r.stdout and "cannot write" in r.stdout
        assert "selftest FAILED" in r.stdout
    finally:
        d.stop()


def test_bash_completion_for_camctl_and_camtune(tmp_path):
    bash = shutil.which("bash")
    script = tmp_path / "c.bash"
    for prog in ("camctl", "camtune"):
        r = subprocess.run([os.sys.executable, "-m", "firmware.camctl.completion", prog], capture_output=True,
                           text=True, cwd=ROOT, timeout=120)
        assert r.returncode == 0, r.stderr
        script.write_text(r.stdout)
        assert subprocess.run([bash, "-n", str(script)]).returncode == 0

        def complete(*words, prog=prog):
            cmd = (f"source {script}; COMP_WORDS=({' '.join(repr(w) for w in (prog,) + words)}); "
                   f"COMP_CWORD={len(words)}; _{prog}; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
            return subprocess.run([bash, "-c", cmd], capture_output=True, text=True).stdout.split()

        if prog == "camctl":
            assert complete("ca") == ["capture"]
            assert complete("capture", "--denoise", "") == ["fast", "hq", "off"]
            assert "exposure=" in complete("set", "")
            assert complete("set", "look=leica-m") == ["look=leica-monochrome"]
            assert complete("--socket", "/tmp/x", "sel") == ["selftest"]
            assert complete("tuning", "") [-3:] != [] and "validate" in complete("tuning", "")
        else:
            assert complete("va") == ["validate"]
            assert complete("build", "--target", "") == ["pisp", "vc4"]
