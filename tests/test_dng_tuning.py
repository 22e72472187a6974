"""The tuning a DNG develops with, chosen from what picamera2, rpicam-still and camerad write into it.

libcamera's tuning directories are stood in by a temporary one holding, per sensor, a file with the sensor's
stock black level (the stock files themselves where ``../shared`` has them), so every mode size, both naming
forms, variants, Pi 5 files and unknown cameras can be tried.
"""

import json

import numpy as np
import pytest
from PIL import Image

from dng_writers import picamera2_dng
from firmware.camtune import dng_tuning
from firmware.camtune.cli import main
from firmware.camtune.dng_tuning import Camera, TuningNotFound, choose_tuning
from firmware.pi_cameras import sensor_names
from firmware.formats.dng_read import read_dng
from firmware.sensor.mock.tuning_default import mock_tuning_path

# Stock black levels (16-bit scale) of libcamera's Raspberry Pi tuning files.
BLACK16 = {"imx477": 4096, "imx708": 4096, "imx708_wide_noir": 4096, "imx219": 4096, "ov5647": 1024,
           "imx296": 3840, "imx500": 4096, "imx519": 4096, "imx283": 3200, "imx290": 3840, "uncalibrated": 4096}


@pytest.fixture
def libcamera(tmp_path, monkeypatch):
    root = tmp_path / "rpi"
    for platform in ("vc4", "pisp"):
        (root / platform).mkdir(parents=True)
        for sensor, black in BLACK16.items():
            doc = {"version": 2.0, "target": "bcm2835" if platform == "vc4" else "pisp",
                   "algorithms": [{"rpi.black_level": {"black_level": black}}]}
            (root / platform / f"{sensor}.json").write_text(json.dumps(doc))
    monkeypatch.setattr(dng_tuning, "LIBCAMERA_DIRS", (root,))
    monkeypatch.setenv("CAMERAD_CACHE_DIR", str(tmp_path / "no-cache"))
    return root


def pidng(size, bits=12, black16=4096.0, model="PiDNG / PiCamera2"):
    """A picamera2 file as older PiDNG writes it: only the size and levels tell the sensor."""
    return Camera("RaspberryPi", model, "", size, black16)


def test_sensor_names_in_every_naming_form():
    assert sensor_names("imx477") == ["imx477"]
    assert sensor_names("/base/soc/i2c0mux/i2c@1/imx477@1a") == ["imx477"]  # older rpicam-still
    assert sensor_names("/base/axi/pcie@120000/rp1/i2c@88000/imx708@1a") == ["imx708"]  # a Pi 5
    assert sensor_names("imx708_wide_noir") == ["imx708_wide_noir", "imx708_wide", "imx708"]
    assert sensor_names("camerad imx477 (mock)") == ["imx477"]
    assert sensor_names("PiDNG / PiCamera2") == [] and sensor_names("Canon EOS R5") == []


@pytest.mark.parametrize("sensor, size", [(s, size) for s, modes in dng_tuning.SENSOR_MODES.items()
                                          for size in modes])
def test_every_mode_size_of_every_pi_sensor(libcamera, sensor, size):
    choice = choose_tuning(pidng(size, black16=BLACK16[sensor]))
    shared = [s for s, modes in dng_tuning.SENSOR_MODES.items()
              if size in modes and BLACK16[s] == BLACK16[sensor]]
    assert choice.sensor == shared[0]  # sizes shared at the same black level: the most common sensor ...
    assert (choice.note is None) == (len(shared) == 1)  # ... and a note naming the others
    if choice.note:
        assert all(s in choice.note for s in shared[1:]) and "--tuning" in choice.note


def test_a_shared_size_is_settled_by_the_black_level(libcamera):
    assert choose_tuning(pidng((640, 480), black16=1024)).sensor == "ov5647"
    assert choose_tuning(pidng((640, 480), black16=4096)).sensor == "imx219"
    assert choose_tuning(pidng((1920, 1080), black16=3840)).sensor == "imx290"
    unknown = choose_tuning(pidng((640, 480), black16=None))
    assert unknown.sensor == "imx219" and "ov5647" in unknown.note


def test_model_and_unique_camera_model_name_the_sensor(libcamera):
    old = Camera("Raspberry Pi", "/base/soc/i2c0mux/i2c@1/imx477@1a", "/base/soc/i2c0mux/i2c@1/imx477@1a",
                 (2028, 1520))
    assert choose_tuning(old).path == libcamera / "vc4" / "imx477.json"
    only_unique = Camera("", "", "imx219", (1640, 1232))
    assert choose_tuning(only_unique).sensor == "imx219"
    wide = Camera("RaspberryPi", "imx708_wide_noir", "", (2304, 1296))
    assert choose_tuning(wide).path.name == "imx708_wide_noir.json"
    (libcamera / "vc4" / "imx708_wide_noir.json").unlink()
    (libcamera / "pisp" / "imx708_wide_noir.json").unlink()
    assert choose_tuning(wide).path.name == "imx708.json"  # no file for the variant: the base sensor's


def test_a_pi5_file_takes_the_pisp_tuning(libcamera):
    pi5 = Camera("RaspberryPi", "imx477", "", (2028, 1520), 4096.0, pisp=True)
    assert choose_tuning(pi5).path == libcamera / "pisp" / "imx477.json"


def test_unknown_cameras_get_one_line_naming_uncalibrated_json(libcamera):
    with pytest.raises(TuningNotFound) as err:
        choose_tuning(Camera("", "EOS R5", "", (8192, 5464)))
    msg = str(err.value)
    assert "camera 'EOS R5'" in msg and "''" not in msg and "\n" not in msg
    assert f"uncalibrated.json, --tuning {libcamera / 'vc4' / 'uncalibrated.json'}" in msg
    # Another maker's camera at a size a Pi sensor also has is not taken for the Pi sensor.
    with pytest.raises(TuningNotFound, match="camera 'Blackmagic Pocket Cinema Camera 4K'"):
        choose_tuning(Camera("Blackmagic", "Pocket Cinema Camera 4K", "Blackmagic Pocket Cinema Camera 4K",
                             (1920, 1080)))
    with pytest.raises(TuningNotFound, match="names no Make, Model or UniqueCameraModel"):
        choose_tuning(Camera("", "", "", (100, 100)))


def test_a_known_sensor_without_an_installed_file_says_where_it_looked(libcamera):
    with pytest.raises(TuningNotFound, match=r"no libcamera tuning file for sensor imx462 .*--tuning FILE"):
        choose_tuning(Camera("Raspberry Pi", "imx462", "", (1920, 1080)))


def test_develop_picks_the_tuning_of_a_binned_picamera2_dng(libcamera, tmp_path, capsys):
    from test_isp_colour import capture

    raw, md, patches, _ = capture("colorchecker", 5000, "2028x1520")
    (libcamera / "vc4" / "imx477.json").write_text(mock_tuning_path("imx477").read_text())
    path = picamera2_dng(tmp_path / "pi.dng", raw, md, 12, model=None)  # "PiDNG / PiCamera2"
    dng = read_dng(path)
    assert choose_tuning(dng_tuning.camera_of(dng)).path == libcamera / "vc4" / "imx477.json"
    assert main(["develop", str(path), "-o", str(tmp_path / "pi.jpg")]) == 0
    rgb = np.asarray(Image.open(tmp_path / "pi.jpg")).astype(float)
    grey = patches[21]
    mean = rgb[grey.y + 4:grey.y + grey.height - 4, grey.x + 4:grey.x + grey.width - 4].reshape(-1, 3).mean(0)
    assert rgb.shape == (1520, 2028, 3) and np.ptp(mean) < 0.05 * mean.mean()
    err = capsys.readouterr().err
    assert "2028x1520 is also a mode of imx500" in err  # said once, in one line
