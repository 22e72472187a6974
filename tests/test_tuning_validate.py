"""The validator applies libcamera's rules and names the file, block and key of every problem."""

import json
from pathlib import Path

import pytest

from firmware.camtune.cli import main as camtune
from firmware.errors import TuningError
from firmware.tuning import TuningFile
from firmware.tuning.validate import TuningInvalid, check, validate

CORPUS = Path(__file__).parent / "data" / "tuning"
CASES = json.loads((CORPUS / "cases.json").read_text())


@pytest.mark.parametrize("name", sorted(CASES))
def test_tuning_broken_file_is_rejected_naming_block_and_key(name):
    case = CASES[name]
    tf = TuningFile.load(CORPUS / name)
    errors = [i for i in validate(tf, case["platform"]) if i.level == "error"]
    hits = [i for i in errors if i.block == case["block"] and i.key == case["key"] and case["message"] in i.message]
    assert hits, f"{name}: expected {case}, got {[str(e) for e in errors]}"
    text = str(hits[0])
    assert text.startswith(str(CORPUS / name) + ": ")
    assert (case["block"] + ": ") in text or not case["block"]
    with pytest.raises(TuningInvalid) as exc:
        check(tf, case["platform"])
    assert exc.value.issues and isinstance(exc.value, TuningError)


def test_tuning_corpus_base_file_is_valid():
    """Every broken file differs from a valid one by its one defect (target_mismatch is the base itself)."""
    tf = TuningFile.load(CORPUS / "target_mismatch.json")
    assert not [i for i in validate(tf, "vc4") if i.level == "error"]


def test_tuning_unknown_blocks_are_kept_and_reported_as_info():
    tf = TuningFile.from_dict({"version": 2.0, "target": "pisp", "algorithms": [
        {"rpi.black_level": {"black_level": 4096}}, {"vendor.magic": {"x": [1, 2]}},
        {"rpi.nn.awb": {"enabled": False, "whatever": "ok"}}, {"rpi.sharpen": {"strenght": 1.0}}]}, "f.json")
    issues = validate(tf, "pisp")
    assert not [i for i in issues if i.level == "error"]
    info = {(i.block, i.key) for i in issues if i.level == "info"}
    assert ("vendor.magic", "") in info and ("rpi.nn.awb", "enabled") in info
    assert ("rpi.sharpen", "strenght") in info  # a typo libcamera would silently ignore
    again = TuningFile.loads(tf.dumps())
    assert again.names() == tf.names() and again.block("vendor.magic") == {"x": [1, 2]}


def test_tuning_quoted_numbers_warn_legacy_informs():
    tf = TuningFile.from_dict({"rpi.black_level": {"black_level": "4096"}}, "old.json")
    issues = validate(tf)
    assert [(i.level, i.key) for i in issues if i.block == "rpi.black_level"] == [("warning", "black_level")]
    assert any(i.level == "info" and i.key == "version" for i in issues)
    # Saved as 2.0, which libcamera reads without the deprecation warning, and the same data.
    again = TuningFile.loads(tf.dumps())
    assert again.version == 2.0 and again.block("rpi.black_level") == {"black_level": "4096"}


def test_tuning_ccm_rows_not_summing_to_one_warn():
    tf = TuningFile.from_dict({"version": 2, "algorithms": [{"rpi.ccm": {"ccms": [
        {"ct": 5000, "ccm": [1.5, 0, 0, 0, 1, 0, 0, 0, 1]}]}}]})
    assert [i.key for i in validate(tf) if i.level == "warning"] == ["ccms[0].ccm"]


def test_camtune_validate_exit_status_and_messages(capsys):
    good = CORPUS / "target_mismatch.json"
    assert camtune(["validate", str(good)]) == 0
    assert "ok (vc4" in capsys.readouterr().out
    assert camtune(["validate", "--target", "pisp", str(good)]) == 1
    out = capsys.readouterr().out
    assert "error: " in out and "target: 'bcm2835' does not match the pisp platform" in out and "FAIL" in out
    bad = CORPUS / "alsc_table_191_values.json"
    assert camtune(["validate", "-q", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}: rpi.alsc: calibrations_Cr[1].table: has 191 values" in out
    assert str(good) not in out  # quiet: only failures
    assert camtune(["validate", str(CORPUS / "nope.json")]) == 2
    assert "tuning file not found" in capsys.readouterr().err
