"""The runtime seam: choice and override, the fake interpreter, and the classical fallback without a runtime."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest

import firmware.denoise as dn
from firmware.denoise import runtime, synthetic
from firmware.denoise.classical import ClassicalDenoiser
from firmware.denoise.model import TFLiteDenoiser, pack, read_meta, unpack
from firmware.frame import FrameInfo
from firmware.frame import NoiseProfile


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.delenv(runtime.ENV, raising=False)
    monkeypatch.setattr(dn, "_warned", False)


@pytest.fixture
def no_runtime(monkeypatch):
    """As on a device where none of the three runtimes is installed: every import of them fails."""
    for mod in ("ai_edge_litert", "ai_edge_litert.interpreter", "tflite_runtime", "tflite_runtime.interpreter",
                "tensorflow", "tensorflow.lite"):
        monkeypatch.setitem(sys.modules, mod, None)


def frame(noise=None, cfa="RGGB"):
    return FrameInfo(cfa=cfa, white_level=4095, black_levels=(256.0,) * 4, noise=noise)


def test_mode_and_threads_are_checked():
    assert dn.make_denoiser("off") is None
    with pytest.raises(ValueError, match="'ultra' is not one of off, fast, hq"):
        dn.make_denoiser("ultra")
    with pytest.raises(ValueError, match="threads"):
        dn.make_denoiser("hq", 0)


def test_litert_is_preferred_and_the_environment_can_force_a_runtime(monkeypatch):
    assert runtime.choose()[0] == "litert"
    monkeypatch.setenv(runtime.ENV, "none")
    with pytest.raises(runtime.RuntimeUnavailable, match="CAMERAD_TFLITE_RUNTIME=none"):
        runtime.choose()
    monkeypatch.setenv(runtime.ENV, "onnx")
    with pytest.raises(runtime.RuntimeUnavailable, match="'onnx' is not one of"):
        runtime.choose()


def test_without_any_runtime_both_modes_fall_back_to_nlm_with_one_warning(no_runtime, caplog):
    with pytest.raises(runtime.RuntimeUnavailable, match="ai_edge_litert.interpreter"):
        runtime.choose()
    with caplog.at_level(logging.WARNING, logger="firmware.denoise"):
        fast = dn.make_denoiser("fast")
        hq = dn.make_denoiser("hq")
    assert isinstance(fast, ClassicalDenoiser) and isinstance(hq, ClassicalDenoiser)
    assert fast.mode == "fast" and hq.mode == "hq"
    warnings = [r for r in caplog.records if "no TFLite runtime" in r.getMessage()]
    assert len(warnings) == 1 and "ai-edge-litert" in warnings[0].getMessage()


def test_the_fallback_denoises(no_runtime):
    crop = synthetic.test_crops()[6]  # dead leaves
    noisy, profile = synthetic.noisy_test_crop(crop, 16, 6)
    out = dn.make_denoiser("fast").denoise(noisy, frame(profile))
    assert out.shape == noisy.shape and out.dtype == np.float32
    gain = synthetic.psnr(crop.clean, out) - synthetic.psnr(crop.clean, noisy)
    assert gain > 1.5, gain


def test_fake_interpreter_plumbing_returns_the_input_when_the_model_adds_nothing():
    meta = read_meta(dn.NETWORKS["hq"])
    fake = runtime.FakeInterpreter(lambda x: np.zeros_like(x), (1, 1, 1, 4))
    den = TFLiteDenoiser("fake.tflite", meta, mode="hq", interpreter=fake, tile=(96, 96))
    rng = np.random.default_rng(0)
    bayer = rng.uniform(0.01, 0.99, (200, 300)).astype(np.float32)
    out = den.denoise(bayer, frame(NoiseProfile(1e-3, 4e-6)))
    np.testing.assert_allclose(out, bayer, atol=2e-5)  # forward then inverse transform, nothing else
    assert fake.invocations == len(den.tiling.plan(100, 150))


def test_missing_or_broken_model_files_are_named(tmp_path):
    meta = read_meta(dn.NETWORKS["hq"])
    with pytest.raises(runtime.ModelError, match="nothing.tflite: model file not found"):
        TFLiteDenoiser(tmp_path / "nothing.tflite", meta, mode="hq")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a flatbuffer")
    with pytest.raises(runtime.ModelError, match="junk.tflite"):
        TFLiteDenoiser(junk, meta, mode="hq")
    (tmp_path / "m.json").write_text('{"tile": [64, 64]}')
    with pytest.raises(runtime.ModelError, match="m.json: not a denoiser model description"):
        read_meta(tmp_path / "m.json")


@pytest.mark.parametrize("cfa", ["RGGB", "BGGR", "GRBG", "GBRG"])
def test_packing_puts_red_first_for_every_cfa_and_round_trips(cfa):
    bayer = np.zeros((4, 6), np.float32)
    site = {c: [] for c in "RGB"}
    for i, c in enumerate(cfa):
        site[c].append(i)
    values = {"R": 1.0, "G": 2.0, "B": 3.0}
    for i, c in enumerate(cfa):
        bayer[i // 2::2, i % 2::2] = values[c]
    packed = pack(bayer, cfa)
    assert packed[0, 0].tolist() == [1.0, 2.0, 2.0, 3.0]
    np.testing.assert_array_equal(unpack(packed, cfa), bayer)


def test_selftest_names_the_runtime_and_warns_on_the_fallback(monkeypatch):
    from types import SimpleNamespace

    from firmware.actions import DenoiseMode
    from firmware.camera.selftest import denoiser_check

    app = SimpleNamespace(status=SimpleNamespace(settings=SimpleNamespace(denoise=DenoiseMode.HQ)))  # a Subject
    check = denoiser_check(app)
    assert check["level"] == "ok" and "hq on litert" in check["detail"] and "fast on litert" in check["detail"]
    monkeypatch.setenv(runtime.ENV, "none")
    check = denoiser_check(app)
    assert check["level"] == "warn" and "fast, hq fall back to non-local means" in check["detail"]


def test_without_litert_the_next_runtime_in_order_serves(monkeypatch):
    """LiteRT missing → tflite-runtime; a tflite-runtime that imports but is broken (as under numpy 2, where its
    import fails beyond ImportError) → tensorflow.lite; the failures are named when none serves."""
    import types

    class Interp:
        pass

    def install(package: str, interpreter: type | None):
        """``package`` importable, its interpreter module with ``interpreter`` as its Interpreter (None: absent)."""
        module = types.ModuleType(package)
        if interpreter is not None:
            module.Interpreter = interpreter
        monkeypatch.setitem(sys.modules, package.split(".")[0], types.ModuleType(package.split(".")[0]))
        monkeypatch.setitem(sys.modules, package, module)

    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    install("tflite_runtime.interpreter", Interp)
    assert runtime.choose() == ("tflite-runtime", Interp)
    install("tflite_runtime.interpreter", None)  # the import "worked" but is unusable
    install("tensorflow.lite", Interp)
    assert runtime.choose() == ("tensorflow", Interp)
    monkeypatch.setitem(sys.modules, "tensorflow.lite", None)
    with pytest.raises(runtime.RuntimeUnavailable, match="tflite_runtime.interpreter: AttributeError"):
        runtime.choose()
