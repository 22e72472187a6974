"""The benchmark harness on a loaded machine: refusals and timeouts are counted and reported, never a crash, and
every run says the load it ran under. (The benchmarks themselves run outside CI; see bench/RESULTS.md.)"""

import concurrent.futures
import types

import pytest

import bench.__main__ as bench_main
from bench.soak import slope_per_minute
from bench.timing import load_note, outcomes
from firmware.errors import CaptureError, CaptureRefused


def done(result=None, exc=None):
    f = concurrent.futures.Future()
    if exc is not None:
        f.set_exception(exc)
    else:
        f.set_result(result)
    return f


def test_outcomes_count_refusals_timeouts_and_failures():
    futures = [done(1), done(exc=CaptureRefused("capture queue is full: 8 of 8")), concurrent.futures.Future(),
               done(exc=CaptureError("sensor fault before the frame was taken")), done(2)]
    results, tally = outcomes(futures, timeout=0.01)
    assert results == [1, 2] and tally == {"refused": 1, "timed_out": 1, "failed": 1}


def test_a_benchmark_stopped_by_a_refusal_ends_in_one_line_with_the_load(monkeypatch, capsys):
    def run(quick):
        raise CaptureRefused("capture queue is full: 8 of 8 captures are still being written")

    monkeypatch.setattr(bench_main.importlib, "import_module", lambda name: types.SimpleNamespace(run=run))
    assert bench_main.main(["controls", "--quick"]) == 1
    out, err = capsys.readouterr()
    assert "load before:" in out and "cores" in out
    assert err.startswith("controls: stopped: capture queue is full") and "(load " in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_figures_are_printed_with_the_load_after(monkeypatch, capsys):
    monkeypatch.setattr(bench_main.importlib, "import_module",
                        lambda name: types.SimpleNamespace(run=lambda quick: {"presses_refused": 3, "p50_ms": 0.25}))
    assert bench_main.main(["controls"]) == 0
    out = capsys.readouterr().out
    assert "presses_refused: 3\np50_ms: 0.25\nload after:" in out


def test_minutes_only_for_the_soak(capsys):
    with pytest.raises(SystemExit):
        bench_main.main(["controls", "--minutes", "5"])
    assert "runs for as long as its repetitions take" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench_main.main(["soak", "--minutes", "0"])


def test_load_note_and_slope():
    assert load_note().endswith("cores")
    assert slope_per_minute([(0, 100.0), (60, 101.0), (120, 102.0)]) == pytest.approx(1.0)
    assert slope_per_minute([(0, 5.0), (600, 5.0)]) == 0
