"""Each DNG opcode and per-line black level, checked against the DNG specification's formula on small images.

The signal is read back from the frame the reader hands the ISP (16-bit over libcamera's 4096 pedestal) as
the DNG SDK's stage-2 value: 0 at black, 1 at white.
"""

import struct

import numpy as np
import pytest

from dng_writers import dng_tags, opcode_list, tiff_dng
from firmware.formats.dng_decode import DngError
from firmware.formats.dng_read import read_dng

H, W, BLACK, WHITE = 16, 24, 256, 4095
AREA = struct.pack(">8I", 0, 0, H, W, 0, 1, 1, 1)


@pytest.fixture
def raw():
    return np.random.default_rng(2).integers(BLACK + 10, 3000, (H, W)).astype(np.uint16)


def signal_in(raw):
    return (raw.astype(float) - BLACK) / (WHITE - BLACK)


def signal_out(dng):
    return (dng.raw.astype(float) - 4096) / (65535 - 4096)


def read_with(tmp_path, raw, code, *ops, extra=()):
    blob = opcode_list(*ops)
    tags = dng_tags(black=(BLACK,) * 4, neutral=(0.5, 1, 0.5))
    return read_dng(tiff_dng(tmp_path / "op.dng", raw, tags, extra=[(code, 7, len(blob), blob, True), *extra]))


def test_map_polynomial(tmp_path, raw):
    coeffs = (0.01, 0.8, 0.3)
    dng = read_with(tmp_path, raw, 51009, (8, 0, AREA + struct.pack(">I3d", 2, *coeffs)))
    x = signal_in(raw)
    np.testing.assert_allclose(signal_out(dng), coeffs[0] + coeffs[1] * x + coeffs[2] * x * x, atol=2e-5)


def test_map_table(tmp_path, raw):
    table = np.minimum(np.arange(65536) // 2 + 1000, 65535).astype(">u2")  # on the 16-bit stage-2 scale
    dng = read_with(tmp_path, raw, 51009, (7, 0, AREA + struct.pack(">I", 65536) + table.tobytes()))
    expected = table[np.rint(signal_in(raw) * 65535).astype(int)] / 65535
    np.testing.assert_allclose(signal_out(dng), expected, atol=2e-5)


@pytest.mark.parametrize("code, along, scale", [(10, 0, False), (11, 1, False), (12, 0, True), (13, 1, True)])
def test_per_row_and_column_delta_and_scale(tmp_path, raw, code, along, scale):
    n = raw.shape[along]
    values = np.linspace(0.9, 1.1, n) if scale else np.linspace(-0.02, 0.03, n)
    dng = read_with(tmp_path, raw, 51009, (code, 0, AREA + struct.pack(">I", n) + values.astype(">f4").tobytes()))
    v = values[:, None] if along == 0 else values[None, :]
    expected = signal_in(raw) * v if scale else signal_in(raw) + v
    np.testing.assert_allclose(signal_out(dng), expected, atol=2e-5)  # below black kept, over the pedestal


def test_fix_vignette_radial(tmp_path, raw):
    params = struct.pack(">7d", 1.0, 0, 0, 0, 0, 0.5, 0.5)  # gain 1 + r^2 about the centre
    dng = read_with(tmp_path, raw, 51009, (3, 0, params))
    y, x = np.mgrid[0:H, 0:W] + 0.5
    r2 = ((x - W / 2) ** 2 + (y - H / 2) ** 2) / ((W / 2) ** 2 + (H / 2) ** 2)
    np.testing.assert_allclose(signal_out(dng), np.minimum(signal_in(raw) * (1 + r2), 1), atol=2e-5)


def test_bad_pixels_are_replaced_by_their_same_colour_neighbours(tmp_path, raw):
    bad = raw.copy()
    bad[5, 7] = 0  # FixBadPixelsConstant marks stored 0s as bad (in OpcodeList1: the stored samples)
    bad[8, 10] = 4000  # FixBadPixelsList names this one
    listed = struct.pack(">5I", 0, 1, 0, 8, 10)  # BayerPhase, one point, no rectangles, (row, col)
    dng = read_with(tmp_path, bad, 51008, (4, 0, struct.pack(">2I", 0, 0)), (5, 0, listed))
    restored = dng.raw.astype(float)
    for y, x in ((5, 7), (8, 10)):
        assert restored[y, x] == pytest.approx(np.mean([raw[y - 2, x], raw[y + 2, x], raw[y, x - 2], raw[y, x + 2]]),
                                               abs=0.5)
    untouched = np.ones_like(raw, bool)
    untouched[5, 7] = untouched[8, 10] = False
    np.testing.assert_array_equal(dng.raw[untouched], raw[untouched])


def test_black_level_per_row_and_column(tmp_path, raw):
    dv = np.linspace(0, 12, H)
    dh = np.linspace(-4, 4, W)
    stored = np.rint(raw + dv[:, None] + dh[None, :]).astype(np.uint16)
    tags = dng_tags(black=(BLACK,) * 4, neutral=(0.5, 1, 0.5))
    dng = read_dng(tiff_dng(tmp_path / "d.dng", stored, tags, extra=[(50715, "f", W, tuple(dh), True),
                                                                     (50716, "f", H, tuple(dv), True)]))
    np.testing.assert_allclose(signal_out(dng), signal_in(raw), atol=0.6 / (WHITE - BLACK))


@pytest.mark.parametrize("blob, match", [
    (struct.pack(">I", 5), "OpcodeList2: claims 5 opcodes in 4 bytes"),
    (opcode_list((9, 0, bytes(40))), "OpcodeList2: GainMap parameters are cut short"),
    (opcode_list((10, 0, AREA + struct.pack(">I", 1000))), "OpcodeList2: DeltaPerRow claims 1000 values"),
    (opcode_list((8, 0, AREA + struct.pack(">I", 99))), "MapPolynomial of degree 99"),
    (opcode_list((77, 0, b"")), "OpcodeList2: opcode 77 is not supported here"),
])
def test_malformed_opcode_lists_are_refused_naming_the_opcode(tmp_path, raw, blob, match):
    tags = dng_tags(black=(BLACK,) * 4)
    path = tiff_dng(tmp_path / "bad.dng", raw, tags, extra=[(51009, 7, len(blob), blob, True)])
    with pytest.raises(DngError, match=match):
        read_dng(path)
