"""camtune build, looks, diff and export-softisp from the command line."""

import json

import numpy as np
import pytest
import yaml

from firmware.camtune.cli import main as camtune
from firmware.tuning import TuningFile
from firmware.tuning.blocks import BlackLevel, Ccm
from firmware.tuning.build import stock_dirs
from firmware.tuning.looks import apply_look
from firmware.tuning.softisp import export_softisp, fit_adjust, softisp_tone
from firmware.tuning.validate import check


def test_camtune_looks_lists_words_and_figures(capsys):
    assert camtune(["looks"]) == 0
    out = capsys.readouterr().out
    for name in ("neutral", "leica-authentic", "leica-vibrant", "leica-monochrome"):
        assert f"{name}: " in out
    assert "mid-grey" in out and "monochrome (every patch achromatic)" in out and "chroma 124 % of neutral" in out
    assert camtune(["looks", "--brief", "neutral"]) == 0
    assert capsys.readouterr().out.startswith("neutral ")


@pytest.mark.parametrize("target", ["vc4", "pisp"])
def test_camtune_build_mock_base(tmp_path, capsys, target):
    out = tmp_path / "m.json"
    assert camtune(["build", "--sensor", "imx477", "--target", target, "--look", "leica-monochrome", "--mock",
                    "-o", str(out)]) == 0
    assert f"tuning/mock/{'pisp/' if target == 'pisp' else ''}imx477.json" in capsys.readouterr().out
    doc = json.loads(out.read_text())  # strict JSON, as Picamera2.load_tuning_file needs
    assert doc["target"] == ("bcm2835" if target == "vc4" else "pisp")
    tf = TuningFile.load(out)
    check(tf, target)
    for m in Ccm.read(tf).matrices:
        assert np.ptp(m, axis=0).max() == 0.0


def test_camtune_build_with_libcamera_base(shared_reference, tmp_path, capsys):
    base = shared_reference / "libcamera-tuning" / "pisp" / "imx708.json"  # tabs: libcamera's YAML reads it
    out = tmp_path / "v.json"
    assert camtune(["build", "--sensor", "imx708", "--target", "pisp", "--look", "leica-vibrant", "--base", str(base),
                    "-o", str(out)]) == 0
    tf = TuningFile.load(out)
    assert tf.names() == TuningFile.load(base).names()  # every block of the base kept, in its order
    assert tf.block("rpi.ccm")["saturation"] == [0, 1.05, 200, 1.25, 100000, 1.25]
    assert tf.block("rpi.af") == TuningFile.load(base).block("rpi.af")
    # A vc4 base for a pisp build is refused: its grids are the wrong size for the Pi 5.
    vc4 = shared_reference / "libcamera-tuning" / "vc4" / "imx708.json"
    assert camtune(["build", "--sensor", "imx708", "--target", "pisp", "--look", "neutral", "--base", str(vc4),
                    "-o", str(out)]) == 2
    assert "target 'bcm2835' is for vc4, not pisp" in capsys.readouterr().err


def test_camtune_build_errors(tmp_path, capsys):
    assert camtune(["build", "--sensor", "imx999", "--target", "vc4", "--look", "neutral", "-o",
                    str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "no base tuning file for imx999 on vc4: looked in /usr/share/libcamera/ipa/rpi/vc4/imx999.json" in err
    assert camtune(["build", "--sensor", "imx477", "--target", "vc4", "--look", "sepia", "--mock", "-o",
                    str(tmp_path / "x.json")]) == 2
    assert "no such look" in capsys.readouterr().err
    broken = tmp_path / "b.json"
    broken.write_text('{"version": 2.0, "target": "bcm2835", "algorithms": [{"rpi.ccm": {"ccms": []}}]}')
    assert camtune(["build", "--sensor", "x", "--target", "vc4", "--look", "neutral", "--base", str(broken), "-o",
                    str(tmp_path / "x.json")]) == 2
    assert f"{broken}: rpi.ccm: ccms: no CCMs specified" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_camtune_build_uses_stock_files_without_base(tmp_path, capsys):
    if not any((d / "imx477.json").is_file() for d in stock_dirs("vc4")):
        pytest.skip("no stock libcamera imx477.json on this host")
    out = tmp_path / "s.json"
    assert camtune(["build", "--sensor", "imx477", "--target", "vc4", "--look", "leica-authentic", "-o", str(out)]) == 0
    assert "imx477.json; valid" in capsys.readouterr().out
    check(TuningFile.load(out), "vc4")


def test_camtune_diff(tmp_path, capsys):
    base = tmp_path / "a.json"
    TuningFile.load("tuning/mock/imx477.json").save(base)
    built = tmp_path / "b.json"
    apply_look(TuningFile.load(base), "leica-authentic").save(built)
    assert camtune(["diff", str(base), str(base)]) == 0
    assert "(same data)" in capsys.readouterr().out
    assert camtune(["diff", str(base), str(built)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "~ rpi.ccm" in out and "~ rpi.contrast" in out and "~ rpi.alsc" in out
    assert "    luminance_strength: 0.5 -> 0.6" in out
    assert any(line.startswith("    ccms @ 2850 K: ccm: [") for line in out)
    assert not any(line.startswith("~ rpi.awb") for line in out)


def test_camtune_export_softisp(tmp_path, capsys):
    built = apply_look(TuningFile.load("tuning/mock/imx477.json"), "leica-vibrant")
    src = tmp_path / "v.json"
    built.save(src)
    out = tmp_path / "v.yaml"
    assert camtune(["export-softisp", str(src), "-o", str(out)]) == 0
    text = out.read_text()
    doc = yaml.safe_load(text)
    assert doc["version"] == 1
    assert [next(iter(a)) for a in doc["algorithms"]] == ["BlackLevel", "Awb", "Ccm", "Adjust", "Agc"]
    assert doc["algorithms"][0]["BlackLevel"]["blackLevel"] == BlackLevel.read(built).g
    ccm = Ccm.read(built)
    entries = doc["algorithms"][2]["Ccm"]["ccms"]
    assert [e["ct"] for e in entries] == [int(c) for c in ccm.cts]
    for e, ct in zip(entries, ccm.cts):
        # The look's saturation at 400 lux (1.25) is folded in, as libcamera's rpi.ccm would apply it.
        np.testing.assert_allclose(np.reshape(e["ccm"], (3, 3)), ccm.at(ct, 1.25), atol=1e-5)
    assert "Gamma=" in text and "Contrast=" in text
    assert camtune(["export-softisp", str(src), "-o", str(out), "--adjust-keys"]) == 0
    adjust = yaml.safe_load(out.read_text())["algorithms"][3]["Adjust"]
    assert set(adjust) == {"gamma", "contrast", "saturation"}
    assert camtune(["export-softisp", str(src), "-o", str(tmp_path / "v.json")]) == 2
    assert "must be a .yaml file" in capsys.readouterr().err


def test_softisp_export_matches_the_shipped_format(shared_reference):
    shipped = yaml.safe_load((shared_reference / "libcamera-tuning" / "simple" / "uncalibrated.yaml").read_text())
    ours = yaml.safe_load(export_softisp(TuningFile.load("tuning/mock/imx477.json")))
    assert ours["version"] == shipped["version"]
    assert [next(iter(a)) for a in shipped["algorithms"]] == ["BlackLevel", "Awb", "Adjust", "Agc"]
    assert [next(iter(a)) for a in ours["algorithms"] if next(iter(a)) != "Ccm"] == ["BlackLevel", "Awb", "Adjust", "Agc"]


def test_softisp_tone_fit_follows_the_curve():
    tf = apply_look(TuningFile.load("tuning/mock/imx477.json"), "neutral")
    gamma, contrast, rms = fit_adjust(tf)
    assert 2.0 < gamma < 2.6 and 0.9 < contrast < 1.3 and rms < 0.02
    x = np.array([0.05, 0.18, 0.5])
    np.testing.assert_allclose(softisp_tone(x, gamma, contrast), [0.248, 0.461, 0.735], atol=0.03)
