"""A mock like a stock-tuned sensor, and every stock libcamera tuning file end to end (``stock_like.py``).

The judges are the stock files in ``../shared/reference/libcamera-tuning`` (what libcamera ships), picamera2's
own DNG writer and the chart's reference colours. Tests needing the files skip cleanly without ``../shared``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import rawpy

from firmware.camtune.cli import main as camtune
from firmware.colour import chart
from firmware.colour.matrices import SRGB_TO_XYZ
from firmware.errors import TuningError
from firmware.sensor.mock import open_mock, truth
from firmware.sensor.mock.like import like
from firmware.sensor.mock.like_fit import REFERENCE, anchor_cts, calibration
from firmware.sensor.mock.spectral import Lighting

import stock_like
from daemon_support import mock_config

CALIBRATED = [p for p in stock_like.stock_files() if stock_like.is_calibrated(p)]
UNCALIBRATED = [p for p in stock_like.stock_files() if not stock_like.is_calibrated(p)]
NO_SHARED = pytest.mark.skip(reason="../shared/reference is not beside this checkout")


def _params(paths):
    return [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in paths] or [pytest.param(None, marks=NO_SHARED)]


@pytest.mark.parametrize("path", _params(CALIBRATED))
def test_stock_file_end_to_end_on_a_mock_like_its_sensor(path, tmp_path):
    """The DNG's colour with white balance on a grey card, the daemon's JPEG with its own AWB on the chart-filled
    frame, and the flat field. AWB is held to 2.0 wherever libcamera's search can reach the light's white; where
    the white lies beyond the file's transverse limits (the search never leaves that band: Awb::fineSearch),
    to 3.0 - ``test_awb_chart.py`` shows libcamera's cost prefers the grey card there, out of its search's reach."""
    figures = stock_like.figures(path, tmp_path, daemon=False)
    dng = {k: v for k, v in figures.items() if k.startswith("dng")}
    assert max(dng.values()) <= 2.0, f"mean CIEDE2000 above 2.0: {dng}"
    spec = like(str(path))
    for ct in stock_like.LIGHTS:
        offset, limit = stock_like.white_offset(spec, ct)
        bound = 2.0 if abs(offset) <= limit else 3.0
        assert figures[f"awb_{ct:.0f}"] <= bound, (f"AWB at {ct:.0f} K: mean CIEDE2000 {figures[f'awb_{ct:.0f}']:.2f}"
                                                   f" (white {offset:+.4f} across the curve, limit {limit:g})")
    flat = {k: v for k, v in figures.items() if k.startswith("flat")}
    assert max(flat.values()) <= 0.02, f"lens-shading residual above 2 %: {flat}"


@pytest.mark.parametrize("path", _params(CALIBRATED))
def test_the_like_mock_is_the_sensor_its_file_describes(path):
    """Calibrating the mock gives back the file: at every calibrated colour temperature, a perfect white's R/G
    and B/G are the ct_curve's, and the file's own matrix puts the noise-free chart on the reference."""
    spec = like(str(path))
    curve, ccm = calibration(spec.tuning)
    for ct in anchor_cts(curve, ccm):
        r, b = truth.neutral_rb(ct, model=spec.model)
        assert (r, b) == pytest.approx(curve.rb(ct), rel=0.005), f"{ct:.0f} K white off the ct_curve"
        cam = truth.colorchecker_camera(Lighting(ct, "auto", 1000.0), spec.model)
        out = cam / truth.white_rgb(Lighting(ct, "auto", 1000.0), spec.model)[1] / np.array([r, 1.0, b])
        lab = chart.xyz_to_lab((out @ ccm.at(ct).T) @ SRGB_TO_XYZ.T)
        de = chart.delta_e(lab, chart.xyz_to_lab(chart.reference_xyz(ct, REFERENCE)))
        assert de.mean() <= 1.0, f"{ct:.0f} K: the file's matrix leaves {de.mean():.2f} mean CIEDE2000"
    # Noise and black level are the file's.
    const, slope = truth.noise_profile(spec.model)
    assert slope == pytest.approx(float(spec.tuning.block("rpi.noise")["reference_slope"]), rel=0.05)
    assert spec.model.info.black_level_16 == spec.tuning.block("rpi.black_level")["black_level"]


def test_calibration_finds_the_files_matrix_again(shared_reference):
    """The calibration tool itself (``fit_ccm``, the Raspberry Pi tool's D65 reference) on the like-mock's
    chart gives a matrix that renders the chart as the stock one does."""
    from firmware.calibrate.ccm import fit_ccm

    spec = like(str(shared_reference / "libcamera-tuning" / "vc4" / "imx477.json"))
    _, ccm = calibration(spec.tuning)
    for ct in (2850.0, 5881.0):
        light = Lighting(ct, "auto", 1000.0)
        wb = truth.colorchecker_camera(light, spec.model) / truth.white_rgb(light, spec.model)
        fit = fit_ccm(wb, ct, REFERENCE)
        stock = wb @ ccm.at(ct).T * fit.scale
        mine = wb @ fit.matrix.T * fit.scale
        de = chart.delta_e(chart.xyz_to_lab(mine @ SRGB_TO_XYZ.T), chart.xyz_to_lab(stock @ SRGB_TO_XYZ.T))
        assert de.mean() <= 0.5, f"{ct:.0f} K: refitted matrix renders {de.mean():.2f} away from the stock one"


@pytest.mark.parametrize("path", _params(UNCALIBRATED))
def test_uncalibrated_file_is_refused_in_one_line(path):
    with pytest.raises(TuningError, match=r"uncalibrated.json: describes no calibrated sensor \(no rpi.awb ct_curve\)"):
        like(str(path))


def test_like_names_its_sensor_or_says_what_is_wrong(tmp_path, shared_reference):
    spec = like(str(shared_reference / "libcamera-tuning" / "vc4" / "ov5647.json"))
    info = spec.model.info
    assert (info.model, info.cfa, info.black_level_16, spec.model.bit_depth) == ("ov5647", "GBRG", 1024, 10)
    assert [m.name for m in info.modes] == ["2592x1944", "1920x1080", "1296x972", "640x480"]
    assert spec.label == "vc4/ov5647.json"
    imx296 = like(str(shared_reference / "libcamera-tuning" / "pisp" / "imx296.json")).model
    assert imx296.info.black_level_16 == 3840 and imx296.gain_range[1] > 200
    odd = tmp_path / "my_camera.json"
    odd.write_text((shared_reference / "libcamera-tuning" / "vc4" / "imx219.json").read_text())
    with pytest.raises(TuningError, match="cannot tell which sensor"):
        like(str(odd))
    assert like(str(odd), "imx219").part == "imx219"
    with pytest.raises(TuningError, match="imx999 is not a sensor the mock knows"):
        like("imx999")
    with pytest.raises(TuningError, match="no such tuning file"):
        like(str(tmp_path / "none.json"))


def test_config_like_opens_the_mock_with_the_files_tuning(tmp_path, shared_reference):
    path = shared_reference / "libcamera-tuning" / "pisp" / "imx708.json"
    cam = open_mock(mock_config(tmp_path, mock={"like": str(path)}))
    try:
        assert cam.info.model == "imx708" and cam.tuning.source == str(path)
        assert cam.model.camera.cts[0] == pytest.approx(2964.0)
    finally:
        cam.close()


def test_camtune_mock_like_writes_the_sensors_dng(tmp_path, shared_reference, capsys):
    path = shared_reference / "libcamera-tuning" / "vc4" / "ov5647.json"
    out = tmp_path / "cc.dng"
    assert camtune(["mock", "colorchecker", "--ct", "4000", "--lux", "800", "--like", str(path), "--mode",
                    "640x480", "-o", str(out)]) == 0
    with rawpy.imread(str(out)) as rp:
        assert rp.raw_image.shape == (480, 640) and rp.color_desc == b"RGBG"
        assert rp.raw_pattern.tolist() == [[3, 2], [0, 1]]  # GBRG
        assert rp.black_level_per_channel == [16, 16, 16, 16]
    doc = json.loads(out.with_suffix(".json").read_text())
    assert doc["model"] == "ov5647 (mock like vc4/ov5647.json)"
    uncal = shared_reference / "libcamera-tuning" / "vc4" / "uncalibrated.json"
    assert camtune(["mock", "flat", "--ct", "4000", "--lux", "800", "--like", str(uncal), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "describes no calibrated sensor" in err and len(err.splitlines()) == 1
