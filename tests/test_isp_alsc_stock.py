"""Lens shading through the stock libcamera tuning files: libcamera's normalisation, not a magenta picture.

libcamera's ``alsc.cpp`` (``compensateLambdasForCal``) divides the red and the blue calibration table each by its
own minimum, so the tables carry only the spatial shape of the colour shading; white balance carries the level.
Every stock Raspberry Pi file holds Cr/Cb tables with minima of 1 to 3.7, so a stage that used them as they
stand multiplied red by 2-3 on top of the white balance (a mock ColorChecker through the stock imx477 file
measured mean CIEDE2000 ~30, its greys solid magenta).
"""

from __future__ import annotations

import numpy as np
import pytest

from firmware.isp import FrameInfo, build_pipeline
from firmware.isp.alsc import AlscStage
from firmware.sensor.mock import truth
from firmware.tuning import TuningFile
from firmware.tuning.blocks import Alsc
from firmware.tuning.curves import srgb_gamma_curve
from firmware.tuning.resample import resample_table

from test_isp_colour import GREYS, capture, delta_e, patch_linear


def _stock_files(shared_reference):
    files = sorted((shared_reference / "libcamera-tuning").glob("*/*.json"))
    return [f for f in files if TuningFile.load(f).block("rpi.alsc") is not None]


def test_stock_alsc_tables_each_normalised_to_a_minimum_of_one(shared_reference):
    for path in _stock_files(shared_reference):
        tf = TuningFile.load(path)
        stage = AlscStage(Alsc.read(tf))
        lum = stage.alsc.luminance_gain()
        for entry in tf.block("rpi.alsc")["calibrations_Cr"]:
            ct = entry["ct"]
            r, g, b = stage.tables(ct)
            np.testing.assert_allclose(g, lum)
            # The file's own table, divided by its minimum, is the red gain relative to green.
            table = np.reshape(entry["table"], r.shape)
            np.testing.assert_allclose(r / g, table / table.min(), rtol=1e-12, err_msg=f"{path.name} {ct} K")
            assert (b / g).min() == pytest.approx(1.0), path.name
        # A crop: the table resampled onto the crop's grid (resampleCalTable), then normalised over it, as
        # libcamera does on a mode switch.
        r, g, _ = stage.tables(4000, crop=(0.25, 0.25, 0.75, 0.75))
        full_r, full_g, _ = stage.tables(4000)
        seen = resample_table(full_r / full_g, (0.25, 0.25, 0.5, 0.5), (1, 1))
        np.testing.assert_allclose(r / g, seen / seen.min(), rtol=1e-12, err_msg=path.name)


def test_stock_imx477_develops_a_mock_chart_with_grey_greys(shared_reference):
    """The issue's figure: mean CIEDE2000 ~30 before the fix, ~3.7 after (4000 K, sRGB tone).

    The mock is not an IMX477 (its spectral sensitivities are another camera's), so the stock CCMs and shading
    tables describe it only roughly; what this measures is that the stock ALSC no longer tints the picture.
    The stock tone curve is swapped for plain sRGB and sharpening left out so the figure is about colour.
    """
    stock = TuningFile.load(shared_reference / "libcamera-tuning" / "vc4" / "imx477.json")
    stock.set_block("rpi.contrast", {"ce_enable": 0, "gamma_curve": srgb_gamma_curve(33).flat()})
    raw, md, patches, _ = capture("colorchecker", 4000)  # the mock exposed and white-balanced it
    frame = FrameInfo.from_metadata(md, "RGGB", 12)
    rgb = build_pipeline(stock, sharpen=False).run(raw, frame)
    linear = patch_linear(rgb, patches, 255.0)
    de = delta_e(linear, truth.colorchecker_srgb_reference(4000))
    assert de.mean() <= 4.5, f"mean CIEDE2000 {de.mean():.2f}"
    grey = linear[GREYS].sum(axis=0)
    assert np.all(np.abs(grey / grey[1] - 1.0) < 0.08), grey / grey[1]  # before the fix: R/G above 2
