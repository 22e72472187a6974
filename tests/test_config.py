import dataclasses
import math
import tomllib
from pathlib import Path

import pytest

from firmware.config import Config, load, loads, parse
from firmware.daemon.cli import main as camerad_main
from firmware.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "firmware" / "config" / "camerad.example.toml"


def test_config_defaults_are_frozen():
    cfg = Config()
    assert cfg.sensor.backend == "auto"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.sensor.backend = "mock"


def test_config_example_is_valid_and_documents_every_key():
    cfg = load(EXAMPLE)
    assert cfg == Config()  # the example shows the defaults
    data = tomllib.loads(EXAMPLE.read_text())
    for section in dataclasses.fields(Config):
        if section.metadata.get("internal"):
            continue
        keys = {f.name for f in dataclasses.fields(getattr(Config(), section.name))}
        assert set(data[section.name]) == keys, section.name


@pytest.mark.parametrize("text, where, reason", [
    ('[sensor]\nbackend = "foo"\n', "[sensor] backend", "must be one of"),
    ('[sensor]\nbackedn = "mock"\n', "[sensor] backedn", "unknown key"),
    ('[nope]\nx = 1\n', "[nope]", "unknown key"),
    ('[capture]\njpeg_quality = 101\n', "[capture] jpeg_quality", "out of range"),
    ('[capture]\njpeg_quality = "high"\n', "[capture] jpeg_quality", "expected an integer"),
    ('[capture]\nraw = 1\n', "[capture] raw", "expected true or false"),
    ('[sensor]\nframe_timeout = nan\n', "[sensor] frame_timeout", "finite"),
    ('[sensor]\nframe_timeout = 0.0\n', "[sensor] frame_timeout", "out of range"),
    ('[sensor]\nmode = "big"\n', "[sensor] mode", "WIDTHxHEIGHT"),
    ('[sensor]\ncamera = true\n', "[sensor] camera", "expected an integer"),
    ('sensor = 3\n', "[sensor]", "expected a table"),
    ('[mock]\nmodel = "imx999"\n', "[mock] model", "must be one of"),
])
def test_config_rejects_bad_values_naming_file_key_and_reason(text, where, reason):
    with pytest.raises(ConfigError) as exc:
        loads(text, source="cam.toml")
    msg = str(exc.value)
    assert msg.startswith("cam.toml: ")
    assert where in msg and reason in msg


def test_config_syntax_error_names_the_file_and_line(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text("[capture\n")
    with pytest.raises(ConfigError, match=r"broken.toml: TOML syntax error.*line 1"):
        load(p)


def test_config_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load(tmp_path / "absent.toml")


def test_config_float_accepts_integers_and_keeps_source():
    cfg = parse({"mock": {"lux": 1000}}, source="x.toml")
    assert cfg.mock.lux == 1000.0 and isinstance(cfg.mock.lux, float)
    assert cfg.source == "x.toml"
    assert not math.isnan(cfg.sensor.frame_timeout)


def test_check_config_cli_exit_codes(tmp_path, capsys):
    assert camerad_main(["--check-config", str(EXAMPLE)]) == 0
    assert "OK" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('[gpio]\nbackend = "spi"\n')
    assert camerad_main(["--check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: [gpio] backend: must be one of" in err
