"""Config-file fuzz: random TOML documents and mutations of the example config are each accepted or refused in
one line naming the file and the key (or the line), never with a traceback; through ``camerad --check-config``
and at start, arrays nested 10 000 deep and a 5,000-digit integer are refused the same way.

``CAMERAD_FUZZ_EXAMPLES`` sets the examples per fuzz test (default 300; bench/RESULTS.md has a long run)."""

import dataclasses
import json
import math
import os
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon_support import ROOT
from firmware.config import Config, loads
from firmware.errors import ConfigError

EXAMPLES = int(os.environ.get("CAMERAD_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXAMPLE = (ROOT / "firmware" / "config" / "camerad.example.toml").read_text()
TABLES = {f.name: [g.name for g in dataclasses.fields(f.default_factory)]
          for f in dataclasses.fields(Config) if not f.metadata.get("internal")}
KEYS = sorted({k for keys in TABLES.values() for k in keys})
NAMED = re.compile(r"fuzz\.toml: (\[[^\]]+\]|line \d+: \S|TOML syntax error)")


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_doc(doc: dict) -> str:
    out = []
    for table, keys in doc.items():
        if isinstance(keys, dict):
            out.append(f"[{json.dumps(table)}]")
            out += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in keys.items()]
        else:
            out.insert(0, f"{json.dumps(table)} = {toml_value(keys)}")
    return "\n".join(out) + "\n"


scalars = (st.integers() | st.integers(-10**40, 10**40) | st.floats() | st.booleans() | st.text(max_size=30)
           | st.sampled_from(["mock", "auto", "1332x990", "single", "", "sos", "hq", "/tmp/caps"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(min_size=1, max_size=6), inner, max_size=3), max_leaves=12)
names = st.sampled_from(KEYS) | st.text(min_size=1, max_size=8)
tables = st.dictionaries(st.sampled_from(sorted(TABLES)) | st.text(min_size=1, max_size=8),
                         st.dictionaries(names, values, max_size=6) | values, max_size=4)


def judge(text: str) -> str:
    """Load ``text``: a Config, or a one-line ConfigError that names where; anything else fails the test."""
    try:
        cfg = loads(text, source="fuzz.toml")
    except ConfigError as exc:
        msg = str(exc)
        assert "\n" not in msg and len(msg) < 500, msg
        assert NAMED.match(msg), msg
        return "refused"
    assert isinstance(cfg, Config)
    return "accepted"


@FUZZ
@given(tables)
def test_random_documents_are_accepted_or_refused_in_one_named_line(doc):
    judge(toml_doc(doc))


def mutate(data, text: str) -> str:
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["value", "delete", "insert", "duplicate", "nest", "digits"]))
        i = data.draw(st.integers(0, len(lines) - 1))
        if op == "value" and "=" in lines[i] and not lines[i].startswith("#"):
            lines[i] = lines[i].split("=", 1)[0] + "= " + toml_value(data.draw(values))
        elif op == "delete":
            del lines[i:i + data.draw(st.integers(1, 5))]
        elif op == "insert":
            lines.insert(i, data.draw(st.text(max_size=40)))
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "nest" and "=" in lines[i]:
            n = data.draw(st.integers(100, 20_000))
            lines[i] = lines[i].split("=", 1)[0] + "= " + "[" * n + "]" * n
        elif op == "digits" and "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + "= " + "7" * data.draw(st.integers(100, 9000))
        if not lines:
            lines = [""]
    return "\n".join(lines) + "\n"


@FUZZ
@given(st.data())
def test_mutations_of_the_example_config_are_accepted_or_refused_in_one_named_line(data):
    judge(mutate(data, EXAMPLE))


@pytest.mark.parametrize("value, named", [
    ("[" * 10_000 + "]" * 10_000, "line 4: [capture] queue_size: arrays or inline tables nested too deep"),
    ("9" * 5000, "line 4: [capture] queue_size: an integer of 5000 digits"),
    ('"a\\u0000b"', "[capture] queue_size: expected an integer"),
])
def test_check_config_and_start_refuse_in_one_line(tmp_path, value, named):
    cfg = tmp_path / "camerad.toml"
    cfg.write_text(f'[sensor]\nbackend = "mock"\n[capture]\nqueue_size = {value}\n')
    for args in (["--check-config", str(cfg)], ["--mock", "--config", str(cfg)]):
        r = subprocess.run([sys.executable, "-m", "firmware.daemon.cli", *args], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 2 and r.stdout == "", r.stderr
        assert r.stderr.startswith(f"camerad: {cfg}: {named}"), r.stderr
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_a_control_character_in_a_path_is_refused():
    with pytest.raises(ConfigError, match=r"\[capture\] directory: 'a\\x00b' contains a control character"):
        loads('[capture]\ndirectory = "a\\u0000b"\n', source="c.toml")
