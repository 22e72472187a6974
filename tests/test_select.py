import pytest

from firmware.boards import detect_board
from firmware.config import Config, parse
from firmware.errors import ConfigError, SensorUnavailable
from firmware.sensor.select import choose_backend, open_sensor


@pytest.mark.parametrize("model, board", [
    ("Raspberry Pi 5 Model B Rev 1.0", "rpi5"),
    ("Raspberry Pi 4 Model B Rev 1.4", "rpi4"),
    ("Raspberry Pi Zero 2 W Rev 1.0", "rpi"),
    ("Qualcomm Technologies, Inc. Robotics RB5", "qcom"),
    ("", "host"),
])
def test_board_detection_from_device_tree(model, board):
    assert detect_board(model) == board


def test_auto_never_falls_back_to_the_mock_on_a_host():
    with pytest.raises(SensorUnavailable, match="--mock"):
        choose_backend(Config(), board="host")


def test_auto_picks_the_board_stack():
    assert choose_backend(Config(), board="rpi5") == "picamera2"
    assert choose_backend(Config(), board="qcom") == "libcamera"


def test_environment_overrides_config(monkeypatch):
    cfg = parse({"sensor": {"backend": "picamera2"}})
    monkeypatch.setenv("CAMERAD_SENSOR_BACKEND", "mock")
    assert choose_backend(cfg) == "mock"
    monkeypatch.setenv("CAMERAD_SENSOR_BACKEND", "webcam")
    with pytest.raises(ConfigError, match="CAMERAD_SENSOR_BACKEND='webcam'"):
        choose_backend(cfg)


def test_open_sensor_mock_from_config():
    cam = open_sensor(parse({"sensor": {"backend": "mock"}, "mock": {"model": "imx708", "scene": "flat"}}))
    try:
        assert cam.info.model == "imx708"
    finally:
        cam.close()


def test_picamera2_missing_on_a_host_is_a_clear_error():
    with pytest.raises(SensorUnavailable, match="picamera2"):
        open_sensor(parse({"sensor": {"backend": "picamera2"}}))
