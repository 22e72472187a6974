"""Packed DNGs: picamera2's (PiDNG, 10/12-bit) and any packed 10/12/14-bit layout, read sample for sample.

The judges are picamera2's own DNG path (the real wheel, PiDNG's bytes) and LibRaw: every file must give the
very samples the sensor delivered, and the samples LibRaw reads.
"""

import numpy as np
import pytest
import rawpy
from PIL import Image

from dng_writers import dng_tags, packed_dng, picamera2_dng
from firmware.camtune.cli import main
from firmware.formats.dng_read import read_dng
from firmware.sensor.mock.tuning_default import mock_tuning_path
from test_isp_colour import capture


@pytest.fixture(scope="module")
def chart():
    raw, md, patches, _ = capture("colorchecker", 5000, "1332x990")
    return raw, md, patches


@pytest.mark.parametrize("bits", [10, 12])
def test_picamera2_packed_dngs_read_every_sample(tmp_path, chart, bits):
    raw, md, _ = chart
    raw = raw << (bits - 10)  # the 1332x990 mode is 10-bit; as if 12-bit for bits=12
    path = picamera2_dng(tmp_path / "pi.dng", raw, md, bits)
    dng = read_dng(path)
    np.testing.assert_array_equal(dng.raw, raw)
    with rawpy.imread(str(path)) as rp:
        np.testing.assert_array_equal(rp.raw_image, raw)
    black, full = 4096 >> (16 - bits), (1 << bits) - 1
    assert dng.black_levels == (black,) * 4
    # PiDNG writes BaselineExposure +1 EV into every file; not applied, and said so (see dng_read).
    assert dng.baseline_exposure == 0 and dng.white_level == full
    assert [w for w in dng.warnings if "BaselineExposure +1 EV not applied" in w]
    gains = dng.colour_gains
    assert gains == pytest.approx(md["ColourGains"], rel=1e-3)
    assert (dng.make, dng.model, dng.cfa) == ("RaspberryPi", "imx477", "RGGB")


def test_picamera2_packed_dng_develops(tmp_path, chart, capsys):
    raw, md, patches = chart
    path = picamera2_dng(tmp_path / "pi.dng", raw, md, 10, model=None)  # older picamera2: "PiDNG / PiCamera2"
    out = tmp_path / "pi.jpg"
    assert main(["develop", str(path), "-o", str(out), "--tuning", str(mock_tuning_path("imx477"))]) == 0
    rgb = np.asarray(Image.open(out)).astype(float)
    assert rgb.shape == (990, 1332, 3)
    grey = patches[21]  # neutral 5 of the ColorChecker
    mean = rgb[grey.y + 4:grey.y + grey.height - 4, grey.x + 4:grey.x + grey.width - 4].reshape(-1, 3).mean(0)
    assert mean.mean() > 40 and np.ptp(mean) < 0.06 * mean.mean()  # grey from AsShotNeutral


@pytest.mark.parametrize("bits", [10, 12, 14])
@pytest.mark.parametrize("width, layout", [(96, {}), (90, {"byteorder": ">"}), (90, {"rowsperstrip": 64}),
                                            (96, {"tile": (64, 96), "byteorder": ">"})])
def test_packed_layouts_agree_with_libraw(tmp_path, bits, width, layout):
    raw = np.random.default_rng(bits).integers(0, 1 << bits, (64, width), dtype=np.uint16)
    path = packed_dng(tmp_path / "p.dng", raw, bits, tags=dng_tags(white=(1 << bits) - 1), **layout)
    got = read_dng(path).raw
    np.testing.assert_array_equal(got, raw)
    with rawpy.imread(str(path)) as rp:
        np.testing.assert_array_equal(rp.raw_image, got)
