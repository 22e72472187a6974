"""``camtune calibrate`` on the DNGs picamera2 writes - the Raspberry Pi tuning tool's own input - from a mock like
a stock-tuned sensor: the calibration must give back the stock file.

Calibration reads every DNG with ``formats.dng_read``, the reader ``camtune develop`` uses, so whatever a Pi
writes is as welcome as our own: picamera2's packed 10/12-bit files (``request.save_dng`` over PiDNG: one tile,
IFD0, no EXIF IFD), its lossless-JPEG ones (``options["compress_level"]`` 1: PiDNG lays two Bayer rows to a
JPEG line, which tifffile alone decodes to the wrong shape; written here as PiDNG lays them out, its LJ92
extension not building on this Python) and rpicam-still's (16-bit CFA in a SubIFD, per-site black levels) -
and a raw converter's, its picture inside masked pixels (``ActiveArea``), which the old reader took whole. The
judges: picamera2's writer, and ``vc4/imx296.json`` as libcamera ships it - the mock like it is the sensor that
file describes, so calibrating the mock must reproduce the file's curve, matrices, shading and noise.
"""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from firmware.camtune.cli import main as camtune
from firmware.clock import FakeClock
from firmware.colour import chart
from firmware.colour.matrices import SRGB_TO_XYZ
from firmware.sensor.mock import truth
from firmware.sensor.mock.like import like
from firmware.sensor.mock.sensor import MockSensor
from firmware.sensor.mock.spectral import Lighting
from firmware.tuning import TuningFile
from firmware.tuning.blocks import Alsc, Awb, BlackLevel, Ccm, Noise

from dng_writers import dng_tags, ljpeg_dng, picamera2_dng, rpicam_dng, tiff_dng

FLAT_CTS = (4000.0, 6000.0)  # the stock file's ALSC colour temperatures
CHART_CTS = (2800.0, 4560.0, 5600.0)  # three of its ct_curve and CCM colour temperatures


def _shoot(spec, scene: str, ct: float, lux: float, ev: float):
    cam = MockSensor(spec.model, scene=scene, lighting=Lighting(ct, "auto", lux), tuning=spec.tuning,
                     clock=FakeClock(), hot_pixels=0)
    try:
        cam.configure(spec.model.info.mode(), 4)
        cam.set_controls({"ExposureValue": ev})
        cam.start()
        for _ in range(12):  # AE and AWB settle within their startup frames
            cam.next_request(1.0).release()
        with cam.next_request(1.0) as req:
            return req.make_array("raw").copy(), req.get_metadata(), cam.patches()
    finally:
        cam.close()


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory, shared_reference_module):
    stock = shared_reference_module / "libcamera-tuning" / "vc4" / "imx296.json"
    spec = like(str(stock))
    d = tmp_path_factory.mktemp("picam2cal")
    bits = spec.model.info.mode().bit_depth

    def write(name, raw, md, layout="picamera2"):
        if layout == "rpicam-still":
            return rpicam_dng(d / name, raw, md, bits, "imx296", cfa=spec.model.info.cfa)
        gains, black = md["ColourGains"], md["SensorBlackLevels"][0] >> (16 - bits)
        tags = dng_tags(spec.model.info.cfa, (1 << bits) - 1, (black,) * 4, (1 / gains[0], 1.0, 1 / gains[1]),
                        "Raspberry Pi", "imx296")
        tags += [(33434, "2I", 1, (int(md["ExposureTime"]), 1_000_000), True),
                 (34855, "H", 1, int(round(md["AnalogueGain"] * 100)), True)]
        if layout == "compressed":  # picamera2 with options["compress_level"] = 1: PiDNG's lossless JPEG
            return ljpeg_dng(d / name, raw, raw.shape, bits, 0, tags)
        if layout == "masked":  # a converter's layout: masked pixels around the ActiveArea
            return tiff_dng(d / name, np.pad(raw, ((8, 8), (16, 16)), constant_values=black), tags,
                            extra=[(50829, "I", 4, (8, 16, 8 + raw.shape[0], 16 + raw.shape[1]), True)])
        return picamera2_dng(d / name, raw, md, bits, cfa=spec.model.info.cfa, model="imx296")

    for ct in FLAT_CTS:
        raw, md, _ = _shoot(spec, "flat", ct, 800.0, 1.5)
        if ct == FLAT_CTS[0]:
            write(f"alsc_{ct:.0f}k_0.dng", raw, md, "picamera2")
            write(f"alsc_{ct:.0f}k_1.dng", raw, md, "rpicam-still")
        else:
            write(f"alsc_{ct:.0f}k_0.dng", raw, md, "masked")
    for ct in CHART_CTS:
        raw, md, patches = _shoot(spec, "colorchecker", ct, 800.0, -1.0)
        dng = write(f"cc_{ct:.0f}k_800l.dng", raw, md, "compressed" if ct == CHART_CTS[1] else "picamera2")
        dng.with_suffix(".json").write_text(json.dumps({"patches": [p.as_dict() for p in patches]}))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = camtune(["calibrate", str(d), "--target", "vc4", "--base", str(stock), "--reference", "d65",
                        "-o", str(d / "out.json"), "--no-report"])
    assert code == 0, err.getvalue()
    return spec, TuningFile.load(stock), TuningFile.load(d / "out.json"), err.getvalue()


@pytest.fixture(scope="module")
def shared_reference_module():
    from firmware import paths

    ref = paths.shared_reference_dir()
    if ref is None:
        pytest.skip("../shared/reference is not beside this checkout")
    return ref


def test_calibrate_reads_picamera2_dngs(calibrated):
    _, _, tf, err = calibrated
    for ct in CHART_CTS:
        assert f"cc_{ct:.0f}k_800l.dng" in err
    assert "cannot read" not in err
    assert BlackLevel.read(tf).g == 3840  # the DNG's BlackLevel 60 (10-bit packed) on the 16-bit scale


def test_picamera2_calibration_gives_back_the_stock_file(calibrated):
    spec, stock, tf, _ = calibrated
    mine, theirs = Awb.read(tf).curve, Awb.read(stock).curve
    for ct in CHART_CTS:
        assert mine.rb(ct) == pytest.approx(theirs.rb(ct), rel=0.01), f"{ct:.0f} K neutral"
    # The matrices render the chart as the stock ones do.
    for ct in CHART_CTS:
        light = Lighting(ct, "auto", 800.0)
        wb = truth.colorchecker_camera(light, spec.model) / truth.white_rgb(light, spec.model)
        a, b = wb @ Ccm.read(tf).at(ct).T, wb @ Ccm.read(stock).at(ct).T
        de = chart.delta_e(chart.xyz_to_lab(a @ SRGB_TO_XYZ.T), chart.xyz_to_lab(b @ SRGB_TO_XYZ.T))
        assert de.mean() <= 1.0, f"{ct:.0f} K: {de.mean():.2f} from the stock matrix"
    # Lens shading: the flat fields' colour tables are the file's (the mock's lens is their inverse).
    alsc, ref = Alsc.read(tf), Alsc.read(stock)
    for ct in FLAT_CTS:
        for cts, tables, ref_tables in ((alsc.cts_r, alsc.tables_r, ref.tables_r),
                                        (alsc.cts_b, alsc.tables_b, ref.tables_b)):
            got = tables[cts.index(ct)]
            want = ref_tables[FLAT_CTS.index(ct)] / ref_tables[FLAT_CTS.index(ct)].min()
            assert np.median(np.abs(got / want - 1)) < 0.01 and np.abs(got / want - 1).max() < 0.04
    lum = (alsc.luminance / alsc.luminance.min()) / (ref.luminance / ref.luminance.min())
    assert np.median(np.abs(lum - 1)) < 0.01 and np.abs(lum - 1).max() < 0.04
    assert Noise.read(tf).slope == pytest.approx(Noise.read(stock).slope, rel=0.1)
