"""Reading tuning files the way libcamera does (the full validator arrives with the tuning issue)."""

import json

import numpy as np
import pytest

from firmware.errors import TuningError
from firmware.tuning import Pwl, TuningFile
from firmware.tuning.interp import interpolate_ct


def test_tuning_accepts_trailing_commas_and_tabs_like_libcamera():
    text = '{\n\t"version": 2.0,\n\t"target": "pisp",\n\t"algorithms": [ { "rpi.black_level": { "black_level": 4096, } }, ]\n}'
    tf = TuningFile.loads(text, "x.json")
    assert tf.target == "pisp" and tf.platform == "pisp"
    assert tf.block("rpi.black_level") == {"black_level": 4096}
    json.loads(tf.dumps())  # written back as strict JSON


def test_tuning_legacy_v1_is_a_flat_object():
    tf = TuningFile.loads('{"rpi.black_level": {"black_level": 1024}, "rpi.dpc": {}}')
    assert tf.version == 1.0 and tf.names() == ["rpi.black_level", "rpi.dpc"]


def test_tuning_disabled_blocks_are_skipped():
    tf = TuningFile.from_dict({"version": 2.0, "algorithms": [{"rpi.nn.awb": {"enabled": False}}]})
    assert tf.block("rpi.nn.awb") is None
    assert tf.block("rpi.nn.awb", enabled_only=False) == {"enabled": False}


@pytest.mark.parametrize("text, message", [
    ('{"version": 2.0, "algorithms": {}}', "must be a list"),
    ('{"version": 2.0, "algorithms": [{"a": {}, "b": {}}]}', r"algorithms\[0\] must be an object with exactly one key"),
    ('{"version": "two"}', "version: must be a finite number"),
    ('[1, 2]', "top level must be an object"),
    ('{"version": 2.0, "algorithms": [{"rpi.ccm": 3}]}', "rpi.ccm: must be an object"),
    ('{"version": 2.0, "algorithms": [', "not valid JSON or YAML"),
])
def test_tuning_structure_errors_name_the_file(text, message):
    with pytest.raises(TuningError, match=message) as exc:
        TuningFile.loads(text, "broken.json")
    assert str(exc.value).startswith("broken.json: ")


def test_real_libcamera_files_load(shared_reference):
    files = sorted((shared_reference / "libcamera-tuning").glob("*/*.json"))
    assert len(files) >= 10
    for path in files:
        tf = TuningFile.load(path)
        assert tf.version == 2.0 and tf.target in ("bcm2835", "pisp")
        assert TuningFile.loads(tf.dumps()).to_dict() == tf.to_dict()


def test_pwl_and_ct_interpolation_match_libcamera():
    p = Pwl([0, 0, 100, 10, 200, 40])
    assert p.eval(50) == 5.0 and p.eval(150) == 25.0
    assert p.eval(300) == 70.0  # libcamera extends the end segments; callers clamp
    with pytest.raises(ValueError, match="strictly increasing"):
        Pwl([0, 0, 0, 1])
    a, b = np.eye(3), 2 * np.eye(3)
    np.testing.assert_allclose(interpolate_ct([3000, 6000], [a, b], 2000), a)  # clamped
    np.testing.assert_allclose(interpolate_ct([3000, 6000], [a, b], 9000), b)
    np.testing.assert_allclose(interpolate_ct([3000, 6000], [a, b], 4000), a * 2 / 3 + b / 3)  # kelvin, not mired
