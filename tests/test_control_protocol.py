"""The control protocol without a daemon: request parsing, parameter checking, responses, the client's errors."""

import json

import pytest
from hypothesis import given, settings, strategies as st

from firmware.control import protocol
from firmware.control.params import Param, check_params
from firmware.control.protocol import RequestError, parse_request


def code_of(line: bytes) -> str:
    with pytest.raises(RequestError) as e:
        parse_request(line)
    return e.value.code


def test_a_request_parses_with_id_method_params_and_version():
    req = parse_request(b'{"id": "a1", "method": "status", "params": {"x": 1}, "v": 1}')
    assert (req.id, req.method, req.params) == ("a1", "status", {"x": 1})
    assert parse_request(b'{"id": 3, "method": "hello"}').params == {}


@pytest.mark.parametrize("line, code", [
    (b"{not json", "parse_error"),
    (b'\xff\xfe{"id": 1}', "parse_error"),
    (b'{"id": 1, "method": "status", "params": {"x": NaN}}', "parse_error"),
    (b"[1, 2]", "invalid_request"),
    (b'"status"', "invalid_request"),
    (b'{"id": true, "method": "status"}', "invalid_request"),
    (b'{"id": 1.5, "method": "status"}', "invalid_request"),
    (b'{"id": 1}', "invalid_request"),
    (b'{"id": 1, "method": ""}', "invalid_request"),
    (b'{"id": 1, "method": 7}', "invalid_request"),
    (b'{"id": 1, "method": "status", "params": [1]}', "invalid_request"),
    (b'{"id": 1, "method": "status", "extra": 1}', "invalid_request"),
    (b'{"id": 1, "method": "status", "v": 2}', "unsupported_version"),
    (b'{"id": 1, "method": "status", "v": "1"}', "invalid_request"),
])
def test_malformed_requests_get_precise_codes(line, code):
    assert code_of(line) == code


def test_errors_keep_the_request_id_when_it_was_readable():
    with pytest.raises(RequestError) as e:
        parse_request(b'{"id": 42, "method": "status", "v": 9}')
    assert e.value.request_id == 42 and "version 9" in e.value.message


SPEC = {"count": Param(int, default=1, lo=1, hi=10), "look": Param(str, default=None, max_len=5),
        "evs": Param(list, default=None, item=float, lo=-2.0, hi=2.0, max_items=3), "on": Param(bool, default=False),
        "name": Param(str)}


@pytest.mark.parametrize("params, code, words", [
    ({"name": "a", "bogus": 1}, "invalid_params", "unknown parameter(s) bogus"),
    ({}, "invalid_params", "name is required"),
    ({"name": "a", "count": "3"}, "invalid_params", "count: expected an integer, got '3'"),
    ({"name": "a", "count": True}, "invalid_params", "expected an integer"),
    ({"name": "a", "count": 11}, "out_of_range", "count: 11 is out of range [1, 10]"),
    ({"name": "a", "count": 2.5}, "invalid_params", "expected an integer"),
    ({"name": "a", "look": "toolong"}, "out_of_range", "longer than 5"),
    ({"name": "a", "evs": [0, 3]}, "out_of_range", "evs[1]: 3.0 is out of range [-2, 2]"),
    ({"name": "a", "evs": [0, 0, 0, 0]}, "out_of_range", "at most 3 items"),
    ({"name": "a", "evs": ["x"]}, "invalid_params", "evs[0]: expected a number"),
    ({"name": "a", "on": 1}, "invalid_params", "on: expected true or false"),
])
def test_parameters_are_checked_by_type_and_range(params, code, words):
    with pytest.raises(RequestError) as e:
        check_params("m", SPEC, params)
    assert e.value.code == code and words in e.value.message


def test_parameters_get_defaults_and_whole_floats_pass_as_integers():
    assert check_params("m", SPEC, {"name": "x", "count": 4.0}) == {"count": 4, "look": None, "evs": None,
                                                                    "on": False, "name": "x"}


def test_responses_are_single_json_lines_without_nan():
    line = protocol.result(7, {"x": float("nan"), "y": (1, 2)})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {"id": 7, "result": {"x": None, "y": [1, 2]}}
    assert json.loads(protocol.error(None, "busy", "too many")) == {"id": None, "error": {"code": "busy",
                                                                                        "message": "too many"}}
    with pytest.raises(ValueError):
        protocol.error(1, "no-such-code", "x")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_parse_or_give_a_protocol_error(data):
    try:
        parse_request(data)
    except RequestError as exc:
        assert exc.code in protocol.ERRORS


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                        max_size=3), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "method", "params", "v", "x"]), json_values, max_size=5))
def test_any_json_object_parses_or_gives_a_protocol_error(doc):
    try:
        req = parse_request(json.dumps(doc).encode())
    except RequestError as exc:
        assert exc.code in protocol.ERRORS
    else:
        assert isinstance(req.method, str) and isinstance(req.params, dict)
