"""DNG read back with LibRaw (rawpy) and tifffile; JPEG EXIF read back with Pillow."""

import io
import time

import numpy as np
import pytest
import rawpy
import tifffile
from PIL import Image

from firmware.develop import frame_facts
from firmware.formats.dng import colour_matrix, encode_dng
from firmware.formats.identity import CameraIdentity
from firmware.formats.jpeg import encode_jpeg, exif_bytes
from firmware.sensor.mock.tuning_default import default_tuning

from test_isp_colour import capture

TUNING = default_tuning("imx477")
ID = CameraIdentity(make="camerad", model="imx477 (mock)", focal_length_mm=6.0, f_number=1.2, lens_model="6mm")
WALL = 1_790_000_000_123_456_789


def facts(md, mode_factor=1.0):
    """The frame's facts as the capture writer derives them: 12-bit RGGB, noise from the tuning."""
    return frame_facts(md, cfa="RGGB", bit_depth=12, tuning=TUNING, mode_factor=mode_factor)


@pytest.fixture(scope="module")
def frame():
    raw, md, _, _ = capture("colorchecker", 4000)
    return raw, md


def test_dng_reads_back_with_libraw(tmp_path, frame):
    raw, md = frame
    path = tmp_path / "shot.dng"
    path.write_bytes(encode_dng(raw, md, facts(md, mode_factor=2), tuning=TUNING, identity=ID, wall_ns=WALL))
    with rawpy.imread(str(path)) as rp:
        assert rp.raw_image.shape == (1520, 2028)
        assert rp.color_desc == b"RGBG"
        assert rp.raw_pattern.tolist() == [[0, 1], [3, 2]]  # R G / G B
        assert list(rp.black_level_per_channel) == [256] * 4
        assert rp.white_level == 4095
        np.testing.assert_array_equal(rp.raw_image, raw)
        wb = rp.camera_whitebalance
        assert wb[0] / wb[1] == pytest.approx(md["ColourGains"][0], rel=1e-3)
        assert wb[2] / wb[1] == pytest.approx(md["ColourGains"][1], rel=1e-3)


def test_dng_tags(tmp_path, frame):
    raw, md = frame
    path = tmp_path / "shot.dng"
    path.write_bytes(encode_dng(raw, md, facts(md), tuning=TUNING, identity=ID, wall_ns=WALL))
    with tifffile.TiffFile(path) as tf:
        tags = {t.code: t.value for t in tf.pages[0].tags}
    assert bytes(tags[50706]) == bytes([1, 4, 0, 0])  # DNGVersion 1.4
    assert tags[271] == "camerad" and tags[272] == "imx477 (mock)"
    assert tags[50778] == 17 and tags[50779] == 21  # Standard light A, D65
    cm1 = np.array(tags[50721], dtype=float).reshape(9, 2)
    cm1 = (cm1[:, 0] / cm1[:, 1]).reshape(3, 3)
    np.testing.assert_allclose(cm1, colour_matrix(TUNING, "A"), atol=2e-4)
    assert not np.allclose(cm1, colour_matrix(TUNING, "D65"), atol=1e-2)
    s, o = tags[51041]
    assert 0 < o < s < 1e-2  # shot-noise term dominates the read-noise floor at gain
    exif = tf.pages[0].tags[34665].value  # the shot's facts are in the EXIF IFD, not IFD0 (EXIF 2.32)
    assert 33434 not in tags and 34855 not in tags
    assert exif["ExposureTime"] == (1, round(1e6 / md["ExposureTime"])) or exif["ExposureTime"][1] > 0
    assert exif["ISOSpeedRatings"] == round(md["AnalogueGain"] * 100)
    assert exif["SubsecTimeOriginal"] == "123"  # sub-second time


def test_dng_colour_matrix_maps_the_illuminant_white_to_the_curve_neutral():
    from firmware.colour.matrices import ILLUMINANTS, xy_to_xyz
    from firmware.tuning.blocks import Awb

    for name in ("A", "D65"):
        _, xy, ct = ILLUMINANTS[name]
        cam = colour_matrix(TUNING, name) @ xy_to_xyz(xy)
        r, b = Awb.read(TUNING).curve.rb(ct)
        np.testing.assert_allclose(cam / cam[1], [r, 1.0, b], rtol=1e-3)  # CCM rows rounded to 5 places


def test_jpeg_carries_exif(frame):
    _, md = frame
    rgb = np.zeros((64, 96, 3), np.uint8)
    data = encode_jpeg(rgb, exif_bytes(md, ID, WALL, size=(96, 64)), quality=90)
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG" and im.size == (96, 64)
    exif = im.getexif()
    assert exif[271] == "camerad" and exif[272] == "imx477 (mock)"
    sub = exif.get_ifd(0x8769)
    assert float(sub[33434]) == pytest.approx(md["ExposureTime"] / 1e6, rel=1e-4)  # ExposureTime
    assert sub[34855] == round(md["AnalogueGain"] * 100)  # ISO
    assert float(sub[33437]) == 1.2 and float(sub[37386]) == 6.0  # FNumber, FocalLength
    lt = time.localtime(WALL // 1_000_000_000)
    assert sub[36867] == time.strftime("%Y:%m:%d %H:%M:%S", lt)  # DateTimeOriginal
    assert sub[37521] == "123"  # SubSecTimeOriginal
    assert sub[36881][0] in "+-"  # OffsetTimeOriginal


def test_encoders_reject_wrong_arrays():
    with pytest.raises(ValueError, match="uint16"):
        encode_dng(np.zeros((4, 4), np.uint8), {}, facts({}), tuning=TUNING, identity=ID, wall_ns=0)
    with pytest.raises(ValueError, match="uint8 RGB"):
        encode_jpeg(np.zeros((4, 4), np.uint8))


def test_jpeg_embeds_the_srgb_icc_profile_and_orientation(frame):
    from PIL import ImageCms

    from firmware.formats.jpeg import srgb_icc_profile

    _, md = frame
    data = encode_jpeg(np.zeros((16, 16, 3), np.uint8), exif_bytes(md, ID, WALL, orientation=6))
    im = Image.open(io.BytesIO(data))
    assert im.info["icc_profile"] == srgb_icc_profile()
    profile = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
    assert "sRGB" in ImageCms.getProfileDescription(profile)
    assert im.getexif()[274] == 6
    assert "icc_profile" not in Image.open(io.BytesIO(encode_jpeg(np.zeros((8, 8, 3), np.uint8),
                                                                  icc_profile=None))).info


def test_tiff16_round_trip_with_icc():
    from firmware.formats.jpeg import srgb_icc_profile
    from firmware.formats.tiff import encode_tiff16

    rgb = (np.arange(4 * 6 * 3, dtype=np.uint16) * 1000).reshape(4, 6, 3)
    data = encode_tiff16(rgb, make="camerad", model="imx477 (mock)")
    with tifffile.TiffFile(io.BytesIO(data)) as tf:
        np.testing.assert_array_equal(tf.asarray(), rgb)
        tags = tf.pages[0].tags
        assert bytes(tags[34675].value) == srgb_icc_profile()
        assert tags[271].value == "camerad" and tags[258].value == (16, 16, 16)
    with pytest.raises(ValueError, match="uint16"):
        encode_tiff16(rgb.astype(np.uint8))


def test_dng_reads_back_for_developing(tmp_path, frame):
    from firmware.formats.dng_read import read_dng

    raw, md = frame
    md = dict(md, SensorBlackLevels=(4096, 4000, 4032, 4160))  # per-site levels survive
    path = tmp_path / "shot.dng"
    path.write_bytes(encode_dng(raw, md, facts(md, mode_factor=2), tuning=TUNING, identity=ID, wall_ns=WALL,
                                orientation=8))
    dng = read_dng(path)
    np.testing.assert_array_equal(dng.raw, raw)
    assert dng.cfa == "RGGB" and dng.white_level == 4095
    assert dng.black_levels == (256, 250, 252, 260)
    assert dng.colour_gains == pytest.approx(md["ColourGains"], rel=1e-3)
    assert dng.noise_profile.shot > dng.noise_profile.read > 0
    assert (dng.make, dng.model, dng.orientation) == ("camerad", "imx477 (mock)", 8)
    assert dng.exposure_us == pytest.approx(md["ExposureTime"], rel=1e-3)
    assert dng.iso == round(md["AnalogueGain"] * 100)
    assert dng.datetime[1] == "123"
    frame_info = dng.frame_info(lux=500)
    assert frame_info.colour_gains == dng.colour_gains and frame_info.lux == 500


def test_dng_reader_names_the_problem(tmp_path):
    from firmware.formats.dng_read import DngError, read_dng

    with pytest.raises(DngError, match="no such file"):
        read_dng(tmp_path / "missing.dng")
    (tmp_path / "junk.dng").write_bytes(b"not a tiff at all")
    with pytest.raises(DngError, match="junk.dng: not a readable"):
        read_dng(tmp_path / "junk.dng")
    tifffile.imwrite(tmp_path / "plain.tif", np.zeros((4, 4), np.uint16))
    with pytest.raises(DngError, match="not a DNG"):
        read_dng(tmp_path / "plain.tif")
