"""``camtune develop``: DNG in, JPEG/TIFF out, the tuning chosen by camera model, batches and bad input."""

import shutil

import numpy as np
import pytest
import tifffile
from PIL import Image

from firmware.camtune import dng_tuning
from firmware.camtune.cli import main
from firmware.develop import frame_facts
from firmware.formats.dng import encode_dng
from firmware.formats.dng_read import read_dng
from firmware.formats.identity import CameraIdentity
from firmware.isp import build_pipeline
from firmware.sensor.mock.tuning_default import default_tuning, mock_tuning_path

from test_isp_colour import capture

TUNING = default_tuning("imx477")


@pytest.fixture(scope="module")
def mock_dng(tmp_path_factory):
    raw, md, _, _ = capture("colorchecker", 3500)
    path = tmp_path_factory.mktemp("dng") / "cc_3500k.dng"
    path.write_bytes(encode_dng(raw, md, frame_facts(md, cfa="RGGB", bit_depth=12, tuning=TUNING, mode_factor=2),
                                tuning=TUNING, identity=CameraIdentity(make="camerad", model="imx477 (mock)"),
                                wall_ns=1_790_000_000_000_000_000))
    return path, raw, md


def test_develop_writes_a_jpeg_like_the_daemon_would(mock_dng, tmp_path, capsys):
    path, raw, md = mock_dng
    out = tmp_path / "out.jpg"
    assert main(["develop", str(path), "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    im = Image.open(out)
    assert im.size == (2028, 1520) and "icc_profile" in im.info
    exif = im.getexif()
    assert exif[271] == "camerad" and exif[272] == "imx477 (mock)"
    sub = exif.get_ifd(0x8769)
    assert sub[34855] == round(md["AnalogueGain"] * 100)
    # The same picture the ISP makes from the raw frame with the frame's own metadata (JPEG-compressed).
    dng = read_dng(path)
    expected = build_pipeline(TUNING).run(raw, dng.frame_info(lux=600))
    got = np.asarray(im)

    def blocks(a):  # 8x8 means: what JPEG keeps (its chroma is subsampled, its noise requantised)
        return a[:, :2024].astype(float).reshape(190, 8, 253, 8, 3).mean(axis=(1, 3))

    assert np.abs(blocks(got) - blocks(expected)).mean() < 0.5
    wall = got[40:120, 40:200].reshape(-1, 3).mean(axis=0)
    assert np.ptp(wall) < 0.06 * wall.mean()  # the grey wall is grey: neutral from AsShotNeutral


def test_develop_batch_into_a_directory_with_progress(mock_dng, tmp_path, capsys):
    path, *_ = mock_dng
    second = tmp_path / "second.dng"
    shutil.copy(path, second)
    outdir = tmp_path / "developed"
    assert main(["develop", str(path), str(second), "-o", str(outdir), "--tiff"]) == 0
    captured = capsys.readouterr()
    assert "2/2 second.dng" in captured.err and "developed 2 of 2 files" in captured.out
    rgb16 = tifffile.imread(outdir / "second.tif")
    assert rgb16.dtype == np.uint16 and rgb16.shape == (1520, 2028, 3)


def test_develop_batch_goes_on_past_a_bad_file(mock_dng, tmp_path, capsys):
    path, *_ = mock_dng
    bad = tmp_path / "bad.dng"
    bad.write_bytes(b"junk")
    assert main(["develop", str(bad), str(path), "-o", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "bad.dng: not a readable TIFF/DNG" in captured.err and "developed 1 of 2" in captured.out
    assert (tmp_path / "cc_3500k.jpg").exists() and not (tmp_path / "bad.jpg").exists()


def test_develop_bad_arguments_are_clear_errors(mock_dng, tmp_path, capsys):
    path, *_ = mock_dng
    assert main(["develop", str(tmp_path / "nope.dng")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["develop", str(path), "--tuning", str(tmp_path / "none.json")]) == 2
    assert "--tuning" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["develop", str(path), "--denoise", "max", "-o", str(tmp_path / "x.jpg")])
    assert "invalid choice: 'max'" in capsys.readouterr().err
    assert main(["develop", str(path), "--quality", "0"]) == 2


def test_develop_explicit_tuning_and_denoise_off(mock_dng, tmp_path):
    path, *_ = mock_dng
    out = tmp_path / "x.jpg"
    assert main(["develop", str(path), "--tuning", str(mock_tuning_path("imx477")), "--denoise", "off",
                 "--demosaic", "fast", "-o", str(out)]) == 0
    assert Image.open(out).size == (2028, 1520)


def test_develop_a_pi_dng_with_debians_stock_tuning(mock_dng, tmp_path, monkeypatch):
    from firmware import paths

    stock = paths.cache_dir() / "libcamera-ipa/usr/share/libcamera/ipa/raspberrypi/imx477.json"
    if not stock.exists():
        pytest.skip("Debian's libcamera-ipa tuning files were not unpacked by install.sh (no apt here)")
    monkeypatch.setattr(dng_tuning, "LIBCAMERA_DIRS", ())
    _, raw, md = mock_dng
    pi = tmp_path / "pi.dng"
    # As rpicam-still names it: Model is the sensor; lens shading uncorrected in the raw data.
    pi.write_bytes(encode_dng(raw, md, frame_facts(md, cfa="RGGB", bit_depth=12, tuning=TUNING), tuning=TUNING,
                              identity=CameraIdentity(make="Raspberry Pi", model="imx477"), wall_ns=0))
    assert dng_tuning.choose_tuning(dng_tuning.camera_of(read_dng(pi))).path == stock
    assert main(["develop", str(pi), "-o", str(tmp_path / "pi.jpg")]) == 0
    rgb = np.asarray(Image.open(tmp_path / "pi.jpg")).astype(float)
    # Vignetting is (partly) removed by the stock file's ALSC: corners are not much darker than the centre.
    centre = rgb[700:820, 950:1080].mean()
    corner = rgb[20:140, 20:150].mean()
    assert corner > 0.6 * centre


def test_develop_with_a_look_changes_the_picture(mock_dng, tmp_path, capsys):
    path = str(mock_dng[0])
    neutral, mono = tmp_path / "neutral.jpg", tmp_path / "mono.jpg"
    assert main(["develop", path, "-o", str(neutral), "--look", "neutral"]) == 0
    assert main(["develop", path, "-o", str(mono), "--look", "leica-monochrome"]) == 0
    a = np.asarray(Image.open(neutral)).astype(float)
    b = np.asarray(Image.open(mono)).astype(float)
    assert np.abs(a[..., 0] - a[..., 2]).mean() > 5  # the chart in colour
    assert np.abs(b[..., 0] - b[..., 2]).mean() < 1.5 and np.abs(b[..., 1] - b[..., 0]).mean() < 1.5  # in grey
    assert main(["develop", path, "-o", str(tmp_path / "x.jpg"), "--look", "kodachrome"]) == 2
    assert "no such look" in capsys.readouterr().err
