"""A picamera2 DNG from a cropped sensor mode: its lens shading placed on the mode's part of the tuning's grid.

picamera2 (``request.save_dng`` over PiDNG) records the sensor's name and the frame's size but not the mode's
crop, while libcamera's ALSC tables cover the whole pixel array and its IPA resamples them to the mode's crop
(``alsc.cpp`` ``resampleCalTable``). ``camtune develop`` infers the crop from the sensor's mode list. The judges:
picamera2's own DNG writer, the stock tuning file's tables, and a flat field that must come out flat.
"""

from __future__ import annotations

import contextlib
import io

import cv2
import numpy as np
import pytest
import tifffile

from firmware.camtune.cli import main as camtune
from firmware.clock import FakeClock
from firmware.sensor.mock.like import like
from firmware.sensor.mock.sensor import MockSensor
from firmware.sensor.mock.spectral import Lighting

import stock_like
from dng_writers import picamera2_dng


def _flat_raw(spec, mode, ct: float):
    cam = MockSensor(spec.model, scene="flat", lighting=Lighting(ct, "auto", stock_like.LUX), tuning=spec.tuning,
                     clock=FakeClock(), hot_pixels=0)
    try:
        cam.configure(mode, 4)
        cam.set_controls(stock_like.grey_card(spec, ct))
        cam.start()
        for _ in range(stock_like.SETTLE_FRAMES):
            cam.next_request(1.0).release()
        with cam.next_request(1.0) as req:
            return req.make_array("raw").copy(), req.get_metadata()
    finally:
        cam.close()


def _develop(dng, tuning, capsys) -> tuple[np.ndarray, str]:
    tif = dng.with_suffix(".tif")
    with contextlib.redirect_stdout(io.StringIO()):
        assert camtune(["develop", str(dng), "-o", str(tif), "--tuning", str(tuning), "--look", "neutral",
                        "--tiff"]) == 0
    rgb = tifffile.imread(tif).astype(np.float64) / 65535.0
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return linear, capsys.readouterr().err


def _residual(linear: np.ndarray) -> float:
    """Worst spread (max - min) / mean over a 16x12 grid: of G, R/G and B/G."""
    z = cv2.resize(linear.astype(np.float32), (16, 12), interpolation=cv2.INTER_AREA).astype(np.float64)
    return max(float(np.ptp(a) / a.mean()) for a in (z[..., 1], z[..., 0] / z[..., 1], z[..., 2] / z[..., 1]))


def test_cropped_mode_picamera2_dng_develops_flat(tmp_path, capsys, shared_reference):
    path = shared_reference / "libcamera-tuning" / "vc4" / "imx477.json"
    spec = like(str(path))
    mode = spec.model.info.mode("1332x990")  # 2664x1980 from (696, 528) of the 4056x3040 array, binned 2x2
    raw, md = _flat_raw(spec, mode, 4000.0)
    named = picamera2_dng(tmp_path / "crop.dng", raw, md, mode.bit_depth, model="imx477")
    linear, err = _develop(named, path, capsys)
    assert linear.shape[:2] == (990, 1332)
    assert "1332x990 is imx477's cropped mode (2664x1980 of its 4056x3040 array from 696,528)" in err
    assert _residual(linear) <= 0.02
    # An older picamera2 file names no sensor: the grid is laid over the whole array, as before the fix.
    anonymous = picamera2_dng(tmp_path / "anon.dng", raw, md, mode.bit_depth, model=None)
    linear, err = _develop(anonymous, path, capsys)
    assert "cropped mode" not in err
    assert _residual(linear) > 0.05
