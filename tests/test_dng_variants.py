"""Every DNG variant camtune develop reads, built here from one mock ColorChecker capture, developed to the
right size and colour - or refused in one line naming the tag.

The colour judge is the chart itself: mean CIEDE2000 against the chart's reference at 6500 K, with the
exposure taken out on the grey patches (``test_isp_colour``). The camerad DNG of the same capture gives 0.97;
each variant that carries the same picture must too. Layout judges are LibRaw and dcraw (same samples).
"""

import dataclasses
import io
import shutil
import subprocess

import numpy as np
import pytest
import rawpy
import tifffile
from PIL import Image

from dng_writers import dng_tags, gain_map, ljpeg_dng, opcode_list, packed_dng, picamera2_dng, rpicam_dng, tiff_dng
from firmware.camtune.cli import main
from firmware.formats.dng_decode import DngError
from firmware.formats.dng_read import read_dng
from firmware.sensor.mock import truth
from firmware.sensor.mock.tuning_default import mock_tuning_path
from test_isp_colour import capture, delta_e, patch_linear

BLACK = 256  # the imx477 mock's black level at 12 bits
GOOD = 1.5  # mean CIEDE2000 a faithful read reaches (the camerad DNG: 0.97)


@pytest.fixture(scope="module")
def chart():
    raw, md, patches, _ = capture("colorchecker", 6500, "2028x1520")
    return raw, md, patches


def pi_tags(md, **kw):
    gains = md["ColourGains"]
    args = dict(white=4095, black=(BLACK,) * 4, neutral=(1 / gains[0], 1.0, 1 / gains[1]))
    args.update(kw)
    return dng_tags(**args)


def develop(path, *extra):
    out = path.with_suffix(".jpg")
    rc = main(["develop", str(path), "-o", str(out), "--tuning", str(mock_tuning_path("imx477")), *extra])
    return rc, (np.asarray(Image.open(out)) if rc == 0 else None)


def chart_error(rgb, patches, dx=0, dy=0):
    moved = [dataclasses.replace(p, x=p.x - dx, y=p.y - dy) for p in patches]
    return delta_e(patch_linear(rgb, moved, 255.0), truth.colorchecker_srgb_reference(6500)).mean()


def opcodes(code: int, blob: bytes):
    return [(code, 7, len(blob), blob, True)]


def bilinear_gain(h, w, corners):
    """A gain that bilinear interpolation reproduces exactly, at pixel centres, and its 3x3 map."""
    (a, b), (c, d) = corners
    v = (np.arange(h) + 0.5) / h
    u = (np.arange(w) + 0.5) / w
    g = (a * (1 - v)[:, None] * (1 - u) + b * (1 - v)[:, None] * u + c * v[:, None] * (1 - u) + d * v[:, None] * u)
    s = np.linspace(0, 1, 3)
    m = a * (1 - s)[:, None] * (1 - s) + b * (1 - s)[:, None] * s + c * s[:, None] * (1 - s) + d * s[:, None] * s
    return g, m[..., None]


def restored(dng):
    """The 12-bit sensor values a normalised (16-bit over the pedestal) frame stands for."""
    return (dng.raw.astype(float) - 4096) / (65535 - 4096) * (4095 - BLACK) + BLACK


VARIANTS = {
    "picamera2 (PiDNG, 12-bit packed)": lambda p, raw, md: picamera2_dng(p, raw, md, 12),
    "rpicam-still (SubIFD, old Model)": lambda p, raw, md: rpicam_dng(p, raw, md, 12,
                                                                     "/base/soc/i2c0mux/i2c@1/imx477@1a"),
    "lossless JPEG, 2 components": lambda p, raw, md: ljpeg_dng(p, raw, (256, 256), 12, 2, pi_tags(md)),
    "lossless JPEG, two rows a line (PiDNG compress)": lambda p, raw, md: ljpeg_dng(p, raw, (1520, 2032), 12, 0,
                                                                                  pi_tags(md)),
    "tiled, big-endian": lambda p, raw, md: tiff_dng(p, raw, pi_tags(md), tile=(256, 512), byteorder=">"),
    "14-bit packed strips": lambda p, raw, md: packed_dng(p, raw << 2, 14, pi_tags(md, white=16383,
                                                                                   black=(BLACK * 4,) * 4)),
    "deflate with predictor": lambda p, raw, md: tiff_dng(p, raw, pi_tags(md), compression="zlib", predictor=2,
                                                          rowsperstrip=64),
    "32-bit float": lambda p, raw, md: tiff_dng(p, ((raw.astype(np.float32) - BLACK) / (4095 - BLACK)),
                                                pi_tags(md, white=None, black=(0.0,) * 4),
                                                extra=[(50717, "f", 1, 1.0, True)]),
    "16-bit float, deflate + floating-point predictor": lambda p, raw, md: tiff_dng(
        p, ((raw.astype(np.float32) - BLACK) / (4095 - BLACK)).astype(np.float16), pi_tags(md, white=None,
                                                                                            black=(0.0,) * 4),
        extra=[(50717, "f", 1, 1.0, True)], compression="zlib", predictor=3, tile=(256, 256)),
    "LinearizationTable (square-root coded)": lambda p, raw, md: tiff_dng(
        p, np.rint(np.sqrt(raw) * 32).astype(np.uint16), pi_tags(md),
        extra=[(50712, "H", 2049, tuple(np.rint((np.arange(2049) / 32.0) ** 2).astype(int).tolist()), True)]),
    "ActiveArea inside masked pixels": lambda p, raw, md: tiff_dng(
        p, np.pad(raw, ((8, 8), (16, 16)), constant_values=4000), pi_tags(md),
        extra=[(50829, "I", 4, (8, 16, 8 + raw.shape[0], 16 + raw.shape[1]), True)]),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_develops_to_the_right_size_and_colour(tmp_path, chart, name):
    raw, md, patches = chart
    path = VARIANTS[name](tmp_path / "v.dng", raw, md)
    rc, rgb = develop(path)
    assert rc == 0 and rgb.shape == (1520, 2028, 3)
    assert chart_error(rgb, patches) <= GOOD, name


def test_gain_maps_in_opcode_lists_are_applied(tmp_path, chart):
    raw, md, patches = chart
    h, w = raw.shape
    # OpcodeList2: one map on the black-subtracted signal. The stored data is darkened by the gain the map
    # puts back (1 in the top left to 2.2 in the bottom right), so only an applied map gives the chart.
    g, m = bilinear_gain(h, w, ((1.0, 1.6), (1.4, 2.2)))
    stored = np.rint(BLACK + (raw.astype(float) - BLACK) / g).astype(np.uint16)
    path = tiff_dng(tmp_path / "gm2.dng", stored, pi_tags(md), extra=opcodes(51009, opcode_list((9, 0, gain_map(m)))))
    assert np.abs(restored(read_dng(path)) - raw)[raw < 3900].max() < 1.5  # each pixel as the sensor saw it
    rc, rgb = develop(path)
    assert rc == 0 and chart_error(rgb, patches) <= GOOD
    # As phones write them: four maps, one per CFA phase (Top/Left 0/1, pitch 2), each its own gains.
    ops, g4 = [], np.ones((h, w))
    for i, corners in enumerate((((1, 1.5), (1.5, 2)), ((1.2, 1.2), (1.8, 1.8)), ((1, 2), (1, 2)), ((2, 1), (2, 1)))):
        gi, mi = bilinear_gain(h, w, corners)
        g4[i // 2::2, i % 2::2] = gi[i // 2::2, i % 2::2]
        ops.append((9, 0, gain_map(mi, area=(i // 2, i % 2, h, w), pitch=(2, 2))))
    stored = np.rint(BLACK + (raw.astype(float) - BLACK) / g4).astype(np.uint16)
    dng = read_dng(tiff_dng(tmp_path / "gm4.dng", stored, pi_tags(md), extra=opcodes(51009, opcode_list(*ops))))
    assert np.abs(restored(dng) - raw)[raw < 3900].max() < 1.5
    # OpcodeList3: a 3-plane map after demosaicing, applied to each colour's CFA sites.
    g3 = np.ones((h, w))
    gr, mr = bilinear_gain(h, w, ((2, 1), (2, 1)))
    g3[0::2, 0::2] = gr[0::2, 0::2]  # RGGB: red sites
    maps = np.concatenate([mr, np.ones_like(mr), np.ones_like(mr)], axis=2)
    stored = np.rint(BLACK + (raw.astype(float) - BLACK) / g3).astype(np.uint16)
    path = tiff_dng(tmp_path / "gm3.dng", stored, pi_tags(md),
                    extra=opcodes(51022, opcode_list((9, 0, gain_map(maps, planes=3)))))
    assert np.abs(restored(read_dng(path)) - raw)[raw < 3900].max() < 1.5
    rc, rgb = develop(path)
    assert rc == 0 and chart_error(rgb, patches) <= GOOD


def test_default_crop_and_scale_give_the_size_they_ask_for(tmp_path, chart):
    raw, md, patches = chart
    crop = [(50719, "2I", 2, (5, 1, 3, 1), True), (50720, "2I", 2, (2001, 1, 1501, 1), True)]
    path = tiff_dng(tmp_path / "crop.dng", raw, pi_tags(md), extra=crop)
    assert read_dng(path).size == (2001, 1501)
    rc, rgb = develop(path)
    assert rc == 0 and rgb.shape == (1501, 2001, 3)
    assert chart_error(rgb, patches, dx=5, dy=3) <= GOOD  # the same chart, where the crop puts it
    rc, rgb = develop(tiff_dng(tmp_path / "scale.dng", raw, pi_tags(md),
                               extra=crop + [(50718, "2I", 2, (1, 2, 1, 1), True)]))
    assert rc == 0 and rgb.shape == (1501, 1000, 3)  # DefaultScale 0.5 x 1: square pixels


def test_baseline_exposure_is_applied(tmp_path, chart):
    raw = chart[0][:64, :96]
    signal = (raw.astype(float) - BLACK) / (4095 - BLACK)
    darker = read_dng(tiff_dng(tmp_path / "m1.dng", raw, extra=[(50730, "2i", 1, (-1, 1), True)],
                               tags=dng_tags(black=(BLACK,) * 4)))
    assert darker.baseline_exposure == -1
    np.testing.assert_allclose((darker.raw - 4096.0) / (65535 - 4096), signal / 2, atol=1e-4)
    brighter = read_dng(tiff_dng(tmp_path / "p1.dng", raw, extra=[(50730, "2i", 1, (1, 1), True)],
                                 tags=dng_tags(black=(BLACK,) * 4)))
    assert brighter.white_level == round(BLACK + (4095 - BLACK) / 2)  # a gain of 2: half the range


def test_missing_levels_and_neutral_are_named_with_the_fallback(tmp_path, chart, capsys):
    raw, md, patches = chart
    path = tiff_dng(tmp_path / "bare.dng", raw, dng_tags(white=None, neutral=None))
    rc, rgb = develop(path)
    err = capsys.readouterr().err
    assert rc == 0
    assert "bare.dng: no BlackLevel tag; using the tuning's rpi.black_level" in err
    assert "bare.dng: no WhiteLevel tag; using 65535 (the DNG default for 16-bit samples)" in err
    assert "bare.dng: no AsShotNeutral tag; white balance from the tuning's AWB search (rpi.awb)" in err
    path = tiff_dng(tmp_path / "nowb.dng", raw, pi_tags(md, neutral=None))
    rc, rgb = develop(path)
    assert rc == 0 and chart_error(rgb, patches) <= 3.0  # the tuning's own AWB on the chart


def test_as_shot_white_xy_gives_the_neutral(tmp_path, chart):
    raw = chart[0][:64, :96]
    neutral = np.array([0.45, 1.0, 0.6])
    xyz = np.array([0.95047, 1.0, 1.08883])  # D65
    matrix = np.diag(neutral / xyz)  # a ColorMatrix1 that sees D65 as ``neutral``
    tags = dng_tags(black=(BLACK,) * 4) + [(50729, "d", 2, (0.31271, 0.32902), True),
                                           (50721, "d", 9, tuple(matrix.ravel()), True), (50778, "H", 1, 21, True)]
    dng = read_dng(tiff_dng(tmp_path / "xy.dng", raw, tags))
    np.testing.assert_allclose(dng.as_shot_neutral, neutral, rtol=1e-3)


@pytest.mark.parametrize("make, match", [
    (lambda p, raw: tifffile.imwrite(p, np.zeros((64, 64, 3), np.uint16), photometric=34892,
                                     extratags=dng_tags()[:1]), "PhotometricInterpretation: LinearRaw"),
    (lambda p, raw: tiff_dng(p, raw, dng_tags()[:1] + [(33421, "H", 2, (3, 3), True),
                                                       (33422, "B", 9, bytes(9), True)]), "CFARepeatPatternDim is 3x3"),
    (lambda p, raw: tiff_dng(p, raw, dng_tags()[:2] + [(33422, "B", 4, b"\x00\x01\x03\x02", True)]),
     r"CFAPattern is \[0, 1, 3, 2\]"),
    (lambda p, raw: tiff_dng(p, raw.astype(np.int16)), "16-bit signed samples"),
    (lambda p, raw: tiff_dng(p, raw, extra=opcodes(51022, opcode_list((1, 0, bytes(100))))),
     "OpcodeList3: WarpRectilinear applies after demosaicing here"),
    (lambda p, raw: tiff_dng(p, raw, extra=opcodes(51009, opcode_list((6, 0, bytes(16))))),
     "OpcodeList2: TrimBounds is not supported"),
    (lambda p, raw: tifffile.imwrite(p, iter([b"\xff\x0a" + bytes(64)]), shape=raw.shape, dtype="uint16",
                                     photometric=32803, compression=52546, extratags=dng_tags()),
     r"Compression 52546 \(JPEG XL\) is not supported"),
])
def test_unsupported_features_are_refused_by_name(tmp_path, chart, capsys, make, match):
    path = tmp_path / "x.dng"
    make(path, chart[0][:64, :96])
    with pytest.raises(DngError, match=match):
        read_dng(path)
    assert main(["develop", str(path), "--tuning", str(mock_tuning_path("imx477"))]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_optional_opcodes_are_skipped_with_a_warning(tmp_path, chart):
    raw = chart[0][:64, :96]
    dng = read_dng(tiff_dng(tmp_path / "o.dng", raw, dng_tags(black=(BLACK,) * 4, neutral=(0.5, 1, 0.5)),
                            extra=opcodes(51022, opcode_list((1, 1, bytes(100))))))
    assert dng.warnings == (f"{tmp_path / 'o.dng'}: OpcodeList3: optional WarpRectilinear skipped "
                            f"(it applies after demosaicing here)",)


def test_lossless_jpeg_samples_agree_with_libraw_and_dcraw(tmp_path):
    raw = np.random.default_rng(3).integers(0, 4096, (96, 128), dtype=np.uint16)
    for components in (1, 2):
        path = ljpeg_dng(tmp_path / f"lj{components}.dng", raw, (48, 64), components=components)
        np.testing.assert_array_equal(read_dng(path).raw, raw)
        if components == 1:  # LibRaw misreads libjpeg-turbo's two-component tiles; dcraw reads both
            with rawpy.imread(str(path)) as rp:
                np.testing.assert_array_equal(rp.raw_image, raw)
        if shutil.which("dcraw"):
            out = subprocess.run(["dcraw", "-D", "-4", "-T", "-c", str(path)], capture_output=True, check=True)
            np.testing.assert_array_equal(tifffile.imread(io.BytesIO(out.stdout)), raw)
