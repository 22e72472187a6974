"""AGC through a stock file whose exposure mode starts below the sensor's gain: vc4/imx708.json at 2304x1296.

The file's ``normal`` exposure mode is shutter [100, 15000, 30000, 60000, 66666] us at gain [1, 1, 2, 4, 16],
while the IMX708's analogue gain starts at 1.112. libcamera's ``AgcChannel::divideUpExposure`` limits every
stage's gain to the sensor's range (``limitGain``) before dividing, so the exposure time falls smoothly below
30 ms. Dividing with the table's gain of 1 and clamping afterwards (the like-mock's first AGC) mapped every
total between 30 ms x 1 and 30 ms x 1.112 to 30 ms x 1.112: the exposure stuck at 30000 us at EV 0 and -1 alike
at 800 lux, and the chart clipped.
"""

from __future__ import annotations

import pytest

from firmware.clock import FakeClock
from firmware.sensor.mock.like import like
from firmware.sensor.mock.sensor import MockSensor
from firmware.sensor.mock.spectral import Lighting
from firmware.tuning import TuningFile
from firmware.tuning.blocks import AgcChannel
from firmware.tuning.blocks.agc_loop import AgcLoop


def _settled(spec, ev: float, lux: float):
    cam = MockSensor(spec.model, scene="colorchecker", lighting=Lighting(5000.0, "auto", lux), tuning=spec.tuning,
                     clock=FakeClock(), hot_pixels=0)
    try:
        cam.configure(spec.model.info.mode("2304x1296"), 4)
        cam.set_controls({"ExposureValue": ev})
        cam.start()
        for _ in range(40):  # startup at full speed, then the IIR filter at the file's speed 0.15
            cam.next_request(1.0).release()
        with cam.next_request(1.0) as req:
            md, raw = req.get_metadata(), req.make_array("raw")
            white = cam.patches()[18]
            return md, int(raw[white.y:white.y + white.height, white.x:white.x + white.width].max())
    finally:
        cam.close()


def test_divide_up_exposure_limits_each_stage_to_the_sensors_gain(shared_reference):
    channel = AgcChannel.read(TuningFile.load(shared_reference / "libcamera-tuning" / "vc4" / "imx708.json"))
    loop = AgcLoop(channel, gain_range=(1.112, 16.0), shutter_range=(26, 1e9))
    shutters, gains = channel.exposure_mode("normal")
    assert (shutters[2], gains[1]) == (30000.0, 1.0)
    for total in (25_000.0, 30_000.0, 32_000.0, 33_000.0):  # between 30 ms x 1 and 30 ms x 1.112
        shutter, gain = loop.divide(total, shutters, gains)
        assert gain == pytest.approx(1.112) and shutter * gain == pytest.approx(total), total
    assert loop.divide(40_000.0, shutters, gains) == pytest.approx((30000.0, 40_000.0 / 30000.0))
    # Above the sensor's range times the ISP's digital gain nothing is asked for (limitGain's upper bound).
    assert loop.limit_gain(100.0) == pytest.approx(16.0 * channel.max_digital_gain)


def test_imx708_exposure_follows_the_exposure_value(shared_reference):
    spec = like(str(shared_reference / "libcamera-tuning" / "vc4" / "imx708.json"))
    for lux in (400.0, 800.0):
        (md0, white0), (md1, white1) = _settled(spec, 0.0, lux), _settled(spec, -1.0, lux)
        total0 = md0["ExposureTime"] * md0["AnalogueGain"] * md0.get("DigitalGain", 1.0)
        total1 = md1["ExposureTime"] * md1["AnalogueGain"] * md1.get("DigitalGain", 1.0)
        assert total1 / total0 == pytest.approx(0.5, rel=0.06), (lux, md0["ExposureTime"], md1["ExposureTime"])
        assert white0 < 1023 and white1 < 0.6 * 1023, (lux, white0, white1)  # the chart's white does not clip
