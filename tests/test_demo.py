"""The README's main job, end to end: camerad --mock --demo."""

import io

import rawpy
from PIL import Image

from firmware.daemon.cli import main as camerad_main


def test_demo_writes_dng_jpeg_and_sidecar_per_shot(tmp_path, capsys):
    out = tmp_path / "caps"
    assert camerad_main(["--mock", "--demo", "--shots", "2", "--captures", str(out)]) == 0
    text = capsys.readouterr().out
    assert "shot 1:" in text and "shot 2:" in text and "shutter lag 0 frames" in text
    dngs = sorted(out.glob("*.dng"))
    jpgs = sorted(out.glob("*.jpg"))
    assert len(dngs) == len(jpgs) == len(list(out.glob("*.json"))) == 2
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporaries left
    with rawpy.imread(str(dngs[0])) as rp:
        assert rp.raw_image.shape == (3040, 4056)
    im = Image.open(io.BytesIO(jpgs[0].read_bytes()))
    assert im.size == (4056, 3040)
    sub = im.getexif().get_ifd(0x8769)
    assert 33434 in sub and 34855 in sub and 37521 in sub


def test_demo_needs_the_mock(capsys):
    assert camerad_main(["--demo"]) == 2
    assert "--mock" in capsys.readouterr().err


def test_bad_arguments_are_rejected(capsys):
    import pytest

    with pytest.raises(SystemExit) as exc:
        camerad_main(["--mock", "--demo", "--shots", "0"])
    assert exc.value.code == 2
    assert "between 1 and 10000" in capsys.readouterr().err
