"""Looks are libcamera blocks composed on a calibrated file: greys stay grey, monochrome is achromatic."""

import json

import numpy as np
import pytest

from firmware.errors import TuningError
from firmware.sensor.mock import spectral, truth
from firmware.sensor.mock.tuning_default import default_tuning, uncalibrated
from firmware.tuning.blocks import Awb, Ccm, Contrast
from firmware.tuning.curves import srgb_gamma_curve
from firmware.tuning.defaults import default_tuning as defaults_for
from firmware.tuning.figures import look_figures
from firmware.tuning.hardware import PISP
from firmware.tuning.looks import apply_look, list_looks, load_look, parse_look
from firmware.tuning.validate import check

BASE = default_tuning("imx477")
REQUIRED = ("neutral", "leica-authentic", "leica-vibrant", "leica-monochrome")


def test_looks_shipped_and_described():
    assert set(REQUIRED) <= set(list_looks())
    for name in list_looks():
        look = load_look(name)
        assert look.name == name and len(look.summary) > 20 and len(look.description) > 100


def test_neutral_look_is_the_calibration_on_the_srgb_curve():
    before = BASE.dumps()
    out = apply_look(BASE, "neutral")
    assert BASE.dumps() == before  # the base is never modified
    check(out, "vc4")
    assert out.block("rpi.ccm")["ccms"] == BASE.block("rpi.ccm")["ccms"]
    assert "saturation" not in out.block("rpi.ccm")
    assert out.block("rpi.contrast") == {"ce_enable": 0, "gamma_curve": [int(v) for v in srgb_gamma_curve().flat()]}
    assert out.block("rpi.alsc")["luminance_strength"] == 1.0
    assert out.names() == BASE.names()  # no block added, none moved


@pytest.mark.parametrize("name", ["leica-authentic", "leica-vibrant"])
def test_colour_looks_keep_greys_neutral(name):
    out = apply_look(BASE, name)
    ccm = Ccm.read(out)
    sat = ccm.saturation.eval(1000.0) if ccm.saturation else 1.0
    for ct in (2300, 2850, 4000, 6500, 9000):
        m = ccm.at(ct, sat)
        np.testing.assert_allclose(m @ np.ones(3), np.ones(3), atol=3e-3)  # BT.601 saturation: 3-digit matrices


def test_monochrome_look_makes_every_patch_achromatic():
    out = apply_look(BASE, "leica-monochrome")
    ccm, awb = Ccm.read(out), Awb.read(out)
    assert ccm.saturation is None
    for ct in (2850, 4000, 6500):
        cam = truth.colorchecker_camera(spectral.Lighting(ct, "auto", 1000))
        wb = cam * np.array([*awb.curve.gains(ct)[:1], 1.0, awb.curve.gains(ct)[1]])
        for sat in (1.0, 1.8):  # libcamera's Saturation control cannot bring colour back
            rgb = wb @ ccm.at(ct, sat).T
            assert np.ptp(rgb, axis=1).max() < 1e-9 * rgb.max()
    assert out.block("rpi.contrast")["gamma_curve"] != BASE.block("rpi.contrast")["gamma_curve"]


def test_look_figures_say_what_the_words_say():
    neutral, authentic = look_figures("neutral"), look_figures("leica-authentic")
    vibrant, mono = look_figures("leica-vibrant"), look_figures("leica-monochrome")
    assert neutral["delta_e_from_neutral"] == 0.0 and neutral["chroma_ratio"] == 1.0
    assert neutral["mid_grey_8bit"] == pytest.approx(255 * 0.4613, abs=0.5)  # the sRGB curve
    # authentic: natural colour, deeper tonal contrast, fall-off kept
    assert 1.0 <= authentic["chroma_ratio"] < 1.12
    assert authentic["shadow_8bit"] < neutral["shadow_8bit"] - 5
    assert authentic["highlight_8bit"] > neutral["highlight_8bit"]
    assert authentic["falloff_kept"] >= 0.3
    # vibrant: richer colour, brighter midtones
    assert vibrant["chroma_ratio"] > 1.15
    assert vibrant["mid_grey_8bit"] > neutral["mid_grey_8bit"] + 5
    # monochrome
    assert mono["max_chroma"] < 0.5 and mono["delta_e_from_neutral"] > 5


@pytest.mark.parametrize("name", REQUIRED)
def test_look_tone_curves_are_valid_for_each_target(name):
    for platform in ("vc4", "pisp"):
        out = apply_look(defaults_for(PISP) if platform == "pisp" else BASE, name)
        check(out, platform)
        curve = Contrast.read(out).gamma
        assert curve.domain == (0.0, 65535.0) and curve.y[0] == 0 and curve.y[-1] == 65535
        assert (np.diff(curve.y) >= 0).all()
        assert len(curve.x) <= (64 if platform == "pisp" else 33)


def test_look_inserts_blocks_an_uncalibrated_base_lacks():
    base = uncalibrated("imx477")
    assert base.block("rpi.sharpen") is None
    out = apply_look(base, "leica-monochrome")
    check(out, "vc4")
    names = out.names()
    assert names.index("rpi.sharpen") == names.index("rpi.ccm") + 1
    assert out.block("rpi.sharpen")["strength"] == pytest.approx(1.3)


@pytest.mark.parametrize("doc, message", [
    ({"name": "x", "colour": {}, "grain": 1}, "grain: unknown key"),
    ({"name": "x", "colour": {"matrix": [[1.1, 0, 0], [0, 1, 0], [0, 0, 1]]}}, "rows must sum to 1"),
    ({"name": "x", "colour": {"monochrome": [0.5, 0.5, 0.5]}}, "colour.monochrome"),
    ({"name": "x", "tone": {"contrast": 9}}, "tone: contrast"),
    ({"name": "x", "saturation": [0, 1, 0, 2]}, "saturation"),
    ({"name": "x", "luminance_strength": 1.5}, "luminance_strength"),
    ({"colour": {}}, "name: missing"),
])
def test_bad_look_files_are_refused_naming_the_key(doc, message):
    with pytest.raises(TuningError, match=message) as exc:
        parse_look(doc, "mine.json")
    assert str(exc.value).startswith("mine.json: ")


def test_look_from_a_file_path(tmp_path):
    p = tmp_path / "warm.json"
    p.write_text(json.dumps({"name": "warm", "tone": {"contrast": 1.1}, "sharpen_scale": {"limit": 0.5}}))
    out = apply_look(BASE, str(p))
    assert out.block("rpi.sharpen")["limit"] == pytest.approx(BASE.block("rpi.sharpen")["limit"] * 0.5)
    with pytest.raises(TuningError, match="no such look"):
        load_look("sepia")
