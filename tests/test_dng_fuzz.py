"""Malformed DNGs: every one developed or refused in one line naming the file, in bounded memory; a batch goes on.

Cases are made here: truncations of a picamera2 DNG at every length, the header's IFD0 offset and tag types
broken, a 0x0 image, a small deflate file claiming 24000x24000 pixels, and the seeded fuzz loop of
``bench/dngfuzz.py`` (300 cases here; ``python -m bench dngfuzz`` runs 2000).
"""

import struct
import tracemalloc
import zlib

import numpy as np
import pytest
import tifffile

from bench.dngfuzz import fuzz
from dng_writers import dng_tags, picamera2_dng, tiff_dng
from firmware.camtune.cli import main
from firmware.formats import dng_decode
from firmware.formats.dng_decode import DngError
from firmware.formats.dng_read import read_dng
from firmware.sensor.mock.tuning_default import mock_tuning_path


@pytest.fixture(scope="module")
def pi_dng(tmp_path_factory):
    raw = np.random.default_rng(5).integers(64, 1023, (64, 96), dtype=np.uint16)
    md = {"ColourGains": (2.0, 1.6), "SensorBlackLevels": (4096,) * 4, "ExposureTime": 10000, "AnalogueGain": 1.0,
          "ColourCorrectionMatrix": (1.5, -0.3, -0.2, -0.3, 1.5, -0.2, -0.1, -0.4, 1.5)}
    return picamera2_dng(tmp_path_factory.mktemp("pi") / "pi.dng", raw, md, 10).read_bytes()


def refusal(path) -> str:
    with pytest.raises(DngError) as err:
        read_dng(path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg
    return msg


def test_every_truncation_is_refused_in_one_line(tmp_path, pi_dng):
    path = tmp_path / "cut.dng"
    for end in sorted(set(np.linspace(0, len(pi_dng) - 1, 60).astype(int)) | {1, 7, 8, 9, 200}):
        path.write_bytes(pi_dng[:end])
        refusal(path)


def test_broken_structure_is_refused_naming_what(tmp_path, pi_dng):
    path = tmp_path / "bad.dng"
    bent = bytearray(pi_dng)
    struct.pack_into("<I", bent, 4, len(pi_dng) + 100)  # IFD0 past the end of the file
    path.write_bytes(bytes(bent))
    assert "IFD" in refusal(path)
    raw = np.zeros((32, 32), np.uint16)
    tiff_dng(path, raw, dng_tags(white=None), extra=[(50717, "s", 0, "bright", True)])  # WhiteLevel as text
    assert "WhiteLevel holds str 'bright', not numbers" in refusal(path)
    tiff_dng(path, raw, dng_tags(), extra=[(50829, "I", 4, (0, 0, 99, 99), True)])  # ActiveArea off the image
    assert "ActiveArea (0, 0, 99, 99) is not inside the 32x32 image" in refusal(path)
    tiff_dng(path, raw, dng_tags(), extra=[(50829, "I", 4, (8, 8, 8, 8), True)])  # an empty active area
    assert "ActiveArea" in refusal(path)


def test_a_0x0_image_is_refused_before_the_isp(tmp_path, capsys):
    path = tiff_dng(tmp_path / "empty.dng", np.zeros((2, 2), np.uint16), dng_tags())
    with tifffile.TiffFile(path) as tif:
        entries = {tag.code: tag.valueoffset for tag in tif.pages[0].tags}
    data = bytearray(path.read_bytes())
    for code in (256, 257):  # ImageWidth, ImageLength: values held in the entries themselves
        struct.pack_into("<H", data, entries[code], 0)
    path.write_bytes(bytes(data))
    assert main(["develop", str(path), "--tuning", str(mock_tuning_path("imx477"))]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("the raw image is 0x0 pixels (ImageWidth/ImageLength)") and "\n" not in err


def _deflate_bomb(path, side=24000, tile=512):
    """A ~1.2 MB DNG whose deflate tiles claim side x side pixels (1.15 GB decoded)."""
    zero_tile = zlib.compress(bytes(tile * tile * 2), 9)
    count = (-(-side // tile)) ** 2
    tifffile.imwrite(path, iter([zero_tile] * count), shape=(side, side), dtype="uint16", tile=(tile, tile),
                     compression=8, photometric=32803, extratags=dng_tags())
    return path


def test_a_huge_image_is_refused_before_decoding(tmp_path, monkeypatch):
    path = _deflate_bomb(tmp_path / "bomb.dng")
    assert path.stat().st_size < 2_000_000

    def never(*a, **k):
        raise AssertionError("decoding started")

    monkeypatch.setattr(tifffile.TiffPage, "asarray", never)
    monkeypatch.setattr(dng_decode, "available_memory", lambda: 4 << 30)  # a 4 GB Raspberry Pi
    tracemalloc.start()
    try:
        msg = refusal(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "a 24000x24000 raw image (576 MP) needs more memory than this machine has free (at most 107 MP" in msg
    assert peak < 16 << 20
    # Whatever the machine: no memory holds the pixels 200000x200000 claims.
    monkeypatch.undo()
    big = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        at = {tag.code: tag.valueoffset for tag in tif.pages[0].tags}
    struct.pack_into("<HHII", big, at[256] - 8, 256, 4, 1, 200000)
    struct.pack_into("<HHII", big, at[257] - 8, 257, 4, 1, 200000)
    path.write_bytes(bytes(big))
    assert "200000x200000 raw image" in refusal(path)


def test_a_batch_goes_on_past_bad_files(tmp_path, pi_dng, capsys):
    good = tmp_path / "good.dng"
    good.write_bytes(pi_dng)
    cut = tmp_path / "cut.dng"
    cut.write_bytes(pi_dng[:len(pi_dng) // 2])
    bent = tmp_path / "bent.dng"
    bent.write_bytes(pi_dng[:4] + struct.pack("<I", 3) + pi_dng[8:])
    out = tmp_path / "out"
    args = ["develop", str(cut), str(good), str(bent), str(good), "-o", str(out)]
    assert main(args + ["--tuning", str(mock_tuning_path("imx477"))]) == 1
    captured = capsys.readouterr()
    assert "developed 2 of 4 files" in captured.out and "(2 failed)" in captured.out
    failures = [line for line in captured.err.splitlines() if line.startswith("camtune develop: ")]
    assert len(failures) == 2 and "Traceback" not in captured.err


def test_seeded_fuzz_never_ends_in_a_traceback():
    result = fuzz(300, seed=1)
    counts = result["counts"]
    assert counts["traceback"] == 0, result["failures"][:3]
    assert counts["developed"] > 50 and counts["refused"] > 100  # the mutations reach both outcomes
