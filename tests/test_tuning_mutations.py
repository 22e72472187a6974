"""Every broken variant of the stock imx477 file is refused in one line naming the block, or loads and develops.

The corpus (``tuning_mutations.py``) is built from the stock file in ``../shared``; these tests skip without it.
``load_checked`` is the one check ``camtune validate``, the daemon's start and its SIGHUP reload share.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from firmware import paths
from firmware.camtune.cli import main as camtune
from firmware.errors import TuningError
from firmware.isp import FrameInfo, build_pipeline
from firmware.tuning import load_checked

from tuning_mutations import mutations


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    ref = paths.shared_reference_dir()
    if ref is None:
        pytest.skip("../shared/reference is not beside this checkout")
    base = json.loads((ref / "libcamera-tuning" / "vc4" / "imx477.json").read_text())
    out = tmp_path_factory.mktemp("mutations")
    cases = []
    for m in mutations(base):
        path = out / f"{m.name}.json"
        path.write_text(m.text)
        cases.append((m, path))
    return cases


def _raw() -> tuple[np.ndarray, FrameInfo]:
    """A small 12-bit RGGB frame of coloured patches, without gains: AWB, ALSC and CCM all have work to do."""
    rng = np.random.default_rng(3)
    raw = np.empty((96, 128), np.uint16)
    patches = rng.uniform(300, 3000, (6, 8, 3))
    for c, (dy, dx) in ((0, (0, 0)), (1, (0, 1)), (1, (1, 0)), (2, (1, 1))):
        plane = np.kron(patches[..., c], np.ones((8, 8)))
        raw[dy::2, dx::2] = 256 + plane
    return raw, FrameInfo(cfa="RGGB", white_level=4095, black_levels=(256.0,) * 4, lux=300.0)


def test_tuning_corpus_has_at_least_40_broken_files(corpus):
    assert sum(not m.valid for m, _ in corpus) >= 40


def test_tuning_every_mutation_is_refused_naming_its_block_or_develops(corpus):
    raw, frame = _raw()
    for m, path in corpus:
        if m.valid:
            tf = load_checked(path, "vc4")
            rgb = build_pipeline(tf, demosaic="fast").run(raw, frame)
            assert rgb.dtype == np.uint8 and rgb.shape == (96, 128, 3) and 0 < rgb.mean() < 255, m.name
            continue
        with pytest.raises(TuningError) as exc:
            load_checked(path, "vc4")
        text = str(exc.value)
        assert "\n" not in text and len(text) < 400, (m.name, text)
        assert text.startswith(str(path)), (m.name, text)
        assert f": {m.block}" in text if m.block else m.key in text, (m.name, text)


def test_camtune_validate_refuses_every_mutation_without_a_traceback(corpus, capsys):
    for m, path in corpus:
        rc = camtune(["validate", "-q", str(path)])
        out = capsys.readouterr()
        assert "Traceback" not in out.out + out.err
        assert rc == (0 if m.valid else rc) and (rc in (1, 2)) != m.valid, (m.name, rc, out)


def test_camtune_develop_with_a_broken_lux_block_refuses_in_one_line(corpus, tmp_path, capsys):
    dng = tmp_path / "cc.dng"
    assert camtune(["mock", "colorchecker", "--ct", "5000", "--lux", "800", "--mode", "1332x990", "--exposure",
                    "10000", "--gain", "1", "-o", str(dng)]) == 0
    capsys.readouterr()
    for m, path in corpus:
        if not m.name.startswith("lux_") or m.valid:
            continue
        assert camtune(["develop", "--tuning", str(path), "--denoise", "off", str(dng), "-o",
                        str(tmp_path / "out.jpg")]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "Traceback" not in err and "rpi.lux" in err, err


def test_tuning_huge_valid_file_leaves_no_memory_behind(shared_reference, tmp_path):
    """A valid 100 MB file (the stock file and a large block libcamera ignores) loads, and afterwards the
    process's resident memory is back near where it was: what libcamera ignores is not kept, and the parser's
    garbage is handed back to the system."""
    text = (shared_reference / "libcamera-tuning" / "vc4" / "imx477.json").read_text()
    row = "[" + ",".join(["0.12345678901234567"] * 1000) + "]"
    padding = '{"x.vendor.notes": {"padding": [' + ",".join([row] * 5200) + "]}}"
    path = tmp_path / "huge.json"
    path.write_text(text[:text.rindex("]")] + "," + padding + "]}")
    assert path.stat().st_size > 100e6
    script = textwrap.dedent(f"""
        import sys
        from firmware.tuning import load_checked, TuningFile
        def rss():
            with open("/proc/self/status") as fh:
                return next(int(line.split()[1]) // 1024 for line in fh if line.startswith("VmRSS"))
        before = rss()
        tf = load_checked({str(path)!r}, "vc4")
        assert tf.block("rpi.ccm") is not None and tf.block("x.vendor.notes") is None
        print(before, rss())
    """)
    env = dict(os.environ, PYTHONPATH=str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    before, after = map(int, out.stdout.split())
    assert after - before < 60, (before, after)
