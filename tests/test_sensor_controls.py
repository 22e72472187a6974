import pytest

from firmware.errors import ControlError
from firmware.sensor import controls as ctl

TABLE = ctl.standard_controls(exposure_us=(114, 1_000_000), gain=(1.0, 22.26), frame_duration_us=(8333, 10**9))


def test_controls_convert_and_accept_auto_zero():
    out = ctl.check_controls(TABLE, {"ExposureTime": 20000.0, "AnalogueGain": 0, "AwbEnable": 0,
                                     "ColourGains": [2, 1.5]})
    assert out == {"ExposureTime": 20000, "AnalogueGain": 0.0, "AwbEnable": False, "ColourGains": (2.0, 1.5)}


@pytest.mark.parametrize("controls, message", [
    ({"Exposure": 100}, "Exposure: not a control"),
    ({"ExposureTime": 50}, r"ExposureTime: 50 is out of range \[114"),
    ({"AnalogueGain": 40.0}, r"AnalogueGain: 40.0 is out of range"),
    ({"ExposureTime": 100.5}, "expected an integer"),
    ({"AwbMode": 9}, "AwbMode: 9 is out of range"),
    ({"ColourGains": (1.0,)}, "ColourGains: expected 2 values"),
    ({"FrameDurationLimits": (50000, 20000)}, "minimum 50000 exceeds maximum 20000"),
    ({"AeEnable": "yes"}, "AeEnable: expected a boolean"),
    ({"ExposureValue": float("nan")}, "must be finite"),
])
def test_controls_reject_with_the_control_named(controls, message):
    with pytest.raises(ControlError, match=message):
        ctl.check_controls(TABLE, controls)


def test_controls_advertised_like_picamera2():
    adv = ctl.advertised(TABLE)
    assert adv["ExposureTime"] == (114, 1_000_000, 0)
    assert adv["AnalogueGain"][0] == 1.0
    assert not any(name.startswith("_") for name in adv)
