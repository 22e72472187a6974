"""The typed model reads blocks as libcamera does: CT interpolation, ALSC resampling to a crop, saturation."""

import dataclasses

import numpy as np
import pytest

from firmware.sensor.mock import spectral, truth
from firmware.sensor.mock.models import sensor_model
from firmware.sensor.mock.tuning_default import default_tuning
from firmware.tuning import TuningFile
from firmware.tuning.blocks import Alsc, Awb, Ccm, Contrast, Lux, Noise, apply_saturation
from firmware.tuning.resample import resample_table


def _libcamera_resample(table, crop, sensor, hflip=False, vflip=False):
    """alsc.cpp resampleCalTable, transcribed loop by loop (the reference our vectorised version must match)."""
    rows, cols = table.shape
    out = np.zeros_like(table)
    cx, cy, cw, ch = crop
    scale_x, scale_y = sensor[0] / cw, sensor[1] / ch
    x_lo, x_hi, x_f = [], [], []
    x = 0.5 / scale_x + cx / sensor[0] * cols - 0.5
    for _ in range(cols):
        lo = int(np.floor(x))
        x_f.append(x - lo)
        hi = min(lo + 1, cols - 1)
        lo = max(lo, 0)
        if hflip:
            lo, hi = cols - 1 - lo, cols - 1 - hi
        x_lo.append(lo)
        x_hi.append(hi)
        x += 1 / scale_x
    y = 0.5 / scale_y + cy / sensor[1] * rows - 0.5
    for j in range(rows):
        lo = int(np.floor(y))
        yf = y - lo
        hi = min(lo + 1, rows - 1)
        lo = max(lo, 0)
        if vflip:
            lo, hi = rows - 1 - lo, rows - 1 - hi
        for i in range(cols):
            above = table[lo, x_lo[i]] * (1 - x_f[i]) + table[lo, x_hi[i]] * x_f[i]
            below = table[hi, x_lo[i]] * (1 - x_f[i]) + table[hi, x_hi[i]] * x_f[i]
            out[j, i] = above * (1 - yf) + below * yf
        y += 1 / scale_y
    return out


@pytest.mark.parametrize("crop, hflip, vflip", [((0, 0, 4056, 3040), False, False),
                                                 ((696, 528, 2664, 1980), False, False),
                                                 ((0, 440, 4056, 2160), True, False),
                                                 ((696, 528, 2664, 1980), True, True)])
def test_alsc_resample_matches_libcamera(crop, hflip, vflip):
    table = np.random.default_rng(1).uniform(1.0, 2.0, (12, 16))
    np.testing.assert_allclose(resample_table(table, crop, (4056, 3040), hflip, vflip),
                               _libcamera_resample(table, crop, (4056, 3040), hflip, vflip), atol=1e-12)


def test_alsc_tables_resampled_to_a_cropped_mode_follow_its_shading():
    """The mock's calibrated full-field tables, resampled to the 1332x990 crop, still flatten that crop."""
    model = sensor_model("imx477")
    mode = model.info.mode("1332x990")
    alsc = dataclasses.replace(Alsc.read(default_tuning("imx477")), luminance_strength=1.0)
    for ct in (2850, 6500):
        gains = np.dstack(alsc.gains_for_crop(ct, mode.crop, model.info.pixel_array_size))
        flat = truth.shading(model, spectral.Lighting(ct, "auto"), alsc.grid, mode) * gains
        flat /= np.median(flat, axis=(0, 1))
        # Cells sample the table at their centres, so a bilinear table is off by its curvature: well under 3 %.
        assert np.abs(flat - 1).max() < 0.03
        full = np.dstack(alsc.gains(ct))
        assert not np.allclose(gains, full, rtol=0.01)  # the crop really changed the tables


def test_ccm_interpolation_and_saturation_like_libcamera():
    tf = default_tuning("imx477")
    ccm = Ccm.read(tf)
    lo, hi = ccm.cts[0], ccm.cts[-1]
    # ccm.cpp applies its (rounded) BT.601 round trip even at saturation 1: within 1e-3 of the matrix itself.
    np.testing.assert_allclose(ccm.at(lo - 500), apply_saturation(ccm.matrices[0], 1.0))
    np.testing.assert_allclose(ccm.at(lo - 500), ccm.matrices[0], atol=2e-3)
    np.testing.assert_allclose(ccm.at(hi + 5000), apply_saturation(ccm.matrices[-1], 1.0))
    mid = 0.5 * (ccm.cts[0] + ccm.cts[1])
    np.testing.assert_allclose(ccm.at(mid), apply_saturation(0.5 * (ccm.matrices[0] + ccm.matrices[1]), 1.0))
    m = ccm.at(5000)
    s = apply_saturation(m, 1.4)
    y = np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(y @ s, y @ m, atol=2e-3)  # BT.601 luma kept (libcamera's rounded matrices)
    np.testing.assert_allclose(s.sum(axis=1), m.sum(axis=1), atol=2e-3)  # greys kept
    grey = apply_saturation(np.tile([0.3, 0.5, 0.2], (3, 1)), 1.7)
    assert np.ptp(grey, axis=0).max() < 2e-3  # a monochrome matrix stays monochrome


def test_typed_model_reads_the_mock_file():
    tf = default_tuning("imx477")
    awb = Awb.read(tf)
    assert awb.curve is not None and awb.curve.domain[0] <= 2850 and awb.curve.domain[1] >= 6500
    assert "auto" in awb.modes and awb.transverse_pos > 0
    r, b = awb.curve.rb(5000)
    assert awb.curve.ct_from_gains(1 / r, 1 / b) == pytest.approx(5000, rel=0.01)
    assert Noise.read(tf).slope > 0 and Lux.read(tf).lux > 0
    assert Contrast.read(tf).gamma.domain == (0.0, 65535.0)


def test_legacy_file_saves_as_version_2():
    tf = TuningFile.from_dict({"version": 1.0, "rpi.black_level": {"black_level": 1024}, "rpi.dpc": {}})
    again = TuningFile.loads(tf.dumps())
    assert again.version == 2.0 and again.names() == ["rpi.black_level", "rpi.dpc"]
