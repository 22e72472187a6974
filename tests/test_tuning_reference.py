"""Every real libcamera tuning file validates, round-trips, and builds with every look."""

import json

import numpy as np
import pytest

from firmware.tuning import TuningFile
from firmware.tuning.build import stock_dirs
from firmware.tuning.looks import apply_look, list_looks, load_look
from firmware.tuning.validate import check, validate


def _reference_files(shared_reference):
    files = sorted((shared_reference / "libcamera-tuning").glob("*/*.json"))
    assert len(files) >= 12
    return files


def test_reference_files_validate_for_their_platform(shared_reference):
    for path in _reference_files(shared_reference):
        tf = TuningFile.load(path)
        assert path.parent.name == tf.platform
        errors = [str(i) for i in validate(tf, path.parent.name) if i.level == "error"]
        assert not errors, errors
        # ... and the same file is refused for the other platform.
        other = "pisp" if tf.platform == "vc4" else "vc4"
        assert any(i.key == "target" for i in validate(tf, other) if i.level == "error")


def test_reference_files_round_trip_with_block_order(shared_reference, tmp_path):
    for path in _reference_files(shared_reference):
        tf = TuningFile.load(path)
        out = tmp_path / path.name
        tf.save(out)
        json.loads(out.read_text())  # strict JSON, whatever the original's trailing commas and tabs
        again = TuningFile.load(out)
        assert again.names() == tf.names()
        assert again.to_dict() == tf.to_dict()


def test_reference_files_build_with_every_look(shared_reference):
    looks = list_looks()
    assert {"neutral", "leica-authentic", "leica-vibrant", "leica-monochrome"} <= set(looks)
    for path in _reference_files(shared_reference):
        base = TuningFile.load(path)
        for name in looks:
            out = apply_look(base, name)
            check(out, base.platform)
            TuningFile.loads(out.dumps())
            _assert_colour_rule(base, out, load_look(name).monochrome)


def _assert_colour_rule(base, out, monochrome):
    before = [np.reshape(e["ccm"], (3, 3)) for e in base.block("rpi.ccm")["ccms"]]
    after = [np.reshape(e["ccm"], (3, 3)) for e in out.block("rpi.ccm")["ccms"]]
    assert len(before) == len(after)
    for b, a in zip(before, after):
        # Greys stay as grey as the calibration had them: the look preserves each matrix's row sums.
        if monochrome:
            assert np.ptp(a, axis=0).max() == 0.0  # three identical rows: every colour is achromatic
        else:
            np.testing.assert_allclose(a.sum(axis=1), b.sum(axis=1), atol=2e-5)


def test_debian_stock_files_validate_when_present():
    files = [p for d in stock_dirs("vc4") for p in sorted(d.glob("*.json"))]
    if not files:
        pytest.skip("no stock libcamera files (install.sh unpacks Debian's libcamera-ipa where apt exists)")
    for path in files:
        tf = TuningFile.load(path)
        assert not [str(i) for i in validate(tf, "vc4") if i.level == "error"]
        for name in list_looks():
            out = apply_look(tf, name)
            check(out, "vc4")
            if tf.block("rpi.ccm") is None:  # a monochrome sensor: tone and sharpening only
                assert out.block("rpi.ccm") is None and out.block("rpi.contrast") is not None
