import json

import rawpy

from firmware.camtune.cli import main as camtune


def test_camtune_mock_writes_dng_and_patch_json(tmp_path, capsys):
    out = tmp_path / "cc_4000k_600l.dng"
    assert camtune(["mock", "colorchecker", "--ct", "4000", "--lux", "600", "--mode", "2028x1520",
                    "--exposure", "20000", "--gain", "1.5", "-o", str(out)]) == 0
    with rawpy.imread(str(out)) as rp:
        assert rp.raw_image.shape == (1520, 2028)
    doc = json.loads(out.with_suffix(".json").read_text())
    assert len(doc["patches"]) == 24 and doc["ct"] == 4000
    p = doc["patches"][18]
    assert p["name"].startswith("white") and p["width"] > 50
    assert "exposure 20000 us, gain 1.50" in capsys.readouterr().out


def test_camtune_mock_flat_has_no_patch_file(tmp_path):
    out = tmp_path / "alsc_3000k_0.dng"
    assert camtune(["mock", "flat", "--ct", "3000", "--lux", "400", "--mode", "1332x990", "-o", str(out)]) == 0
    assert out.exists() and not out.with_suffix(".json").exists()


def test_camtune_mock_bad_input(tmp_path, capsys):
    assert camtune(["mock", "moon", "--ct", "3000", "--lux", "1", "-o", str(tmp_path / "x.dng")]) == 2
    assert "unknown scene 'moon'" in capsys.readouterr().err
    assert camtune(["mock", "flat", "--ct", "300", "--lux", "1", "-o", str(tmp_path / "x.dng")]) == 2
    assert "1000..15000 K" in capsys.readouterr().err
    assert camtune(["mock", "flat", "--ct", "3000", "--lux", "1", "-o", str(tmp_path / "x.jpg")]) == 2
