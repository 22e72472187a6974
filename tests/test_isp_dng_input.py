"""The ISP's input from a DNG: plain raw data read straight from the file, anything else through tifffile.

Every layout must give the very samples tifffile decodes; plain ones (uncompressed 16-bit in one run of
bytes, as PiDNG, rpicam-apps and camerad write them) must not need tifffile's decoder at all.
"""

import numpy as np
import pytest
import tifffile

from firmware.formats.dng_read import DngError, read_dng

DNG_TAGS = [(50706, "B", 4, b"\x01\x04\x00\x00", True),  # DNGVersion
            (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
            (33422, "B", 4, b"\x01\x00\x02\x01", True),  # CFAPattern GRBG
            (50717, "I", 1, 4095, True)]  # WhiteLevel


def write_dng(path, raw, extra=(), **layout):
    tifffile.imwrite(path, raw, photometric=32803, extratags=DNG_TAGS + list(extra), **layout)
    return path


@pytest.fixture
def raw():
    return np.random.default_rng(0).integers(0, 4096, (96, 136), dtype=np.uint16)


@pytest.fixture
def no_decoder(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise AssertionError("tifffile's decoder was used for plain data")

    monkeypatch.setattr(tifffile.TiffPage, "asarray", refuse)


@pytest.mark.parametrize("layout", [{"tile": (96, 144)},  # one tile, padded past the image width
                                    {"rowsperstrip": 16},  # strips back to back
                                    {"rowsperstrip": 16, "byteorder": ">"},  # big-endian
                                    {}])
def test_isp_plain_raw_data_is_read_straight_from_the_file(tmp_path, raw, no_decoder, layout):
    dng = read_dng(write_dng(tmp_path / "plain.dng", raw, **layout))
    assert dng.raw.dtype == np.uint16 and dng.raw.flags.c_contiguous and dng.cfa == "GRBG"
    np.testing.assert_array_equal(dng.raw, raw)


def test_isp_plain_raw_data_keeps_to_the_active_area(tmp_path, raw, no_decoder):
    path = write_dng(tmp_path / "area.dng", raw, extra=[(50829, "I", 4, (2, 4, 90, 132), True)])  # ActiveArea
    np.testing.assert_array_equal(read_dng(path).raw, raw[2:90, 4:132])


@pytest.mark.parametrize("layout", [{"compression": "zlib"}, {"tile": (32, 32)}])
def test_isp_other_raw_layouts_are_decoded_by_tifffile(tmp_path, raw, layout):
    np.testing.assert_array_equal(read_dng(write_dng(tmp_path / "other.dng", raw, **layout)).raw, raw)


def test_isp_truncated_raw_data_is_a_clear_error(tmp_path, raw):
    path = write_dng(tmp_path / "cut.dng", raw, rowsperstrip=16)
    with tifffile.TiffFile(path) as tif:
        end = tif.pages[0].dataoffsets[-1]
    path.write_bytes(path.read_bytes()[:end + 100])  # the last strip cut short
    with pytest.raises(DngError, match="cut.dng: raw data segment 6 of 6 is cut short"):
        read_dng(path)
