"""The ground floor's colour science: its constants against colour-science, and the arrows around it.

``firmware.colour`` imports no other firmware package; calibration (``firmware.tuning``) and the mock sensor
(``firmware.sensor.mock``) both stand on it and neither imports the other's side: ``tuning`` never imports
``sensor.mock``, and ``sensor.mock`` never imports ``calibrate``.
"""

import ast
from pathlib import Path

import colour
import numpy as np
import pytest

from firmware.colour import chart, spectra
from firmware.colour.matrices import ILLUMINANTS, SRGB_TO_XYZ, XYZ_TO_SRGB, bradford

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"


def _imports(package: Path) -> set[tuple[str, str]]:
    """(file, absolute module) for every import in ``package``, relative ones resolved."""
    out = set()
    for path in package.rglob("*.py"):
        pkg = list(path.relative_to(FIRMWARE.parent).parent.parts)  # the package a relative import starts in
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                out |= {(str(path), a.name) for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = pkg[:len(pkg) - node.level + 1] if node.level else []
                mod = ".".join(base + ([node.module] if node.module else []))
                out |= {(str(path), mod)} | {(str(path), f"{mod}.{a.name}") for a in node.names}
    return out


@pytest.mark.parametrize("package, forbidden", [
    ("colour", "firmware."),  # the ground floor stands on nothing of ours
    ("tuning", "firmware.sensor"),
    ("sensor/mock", "firmware.calibrate"),
])
def test_colour_floor_arrows_run_one_way(package, forbidden):
    bad = sorted(f"{Path(f).relative_to(FIRMWARE)} imports {m}" for f, m in _imports(FIRMWARE / package)
                 if m.startswith(forbidden) and not m.startswith("firmware.colour"))
    assert not bad, bad


def test_colour_floor_srgb_matrices_are_colour_sciences():
    srgb = colour.RGB_COLOURSPACES["sRGB"]
    np.testing.assert_allclose(SRGB_TO_XYZ, srgb.matrix_RGB_to_XYZ, atol=2e-4)
    np.testing.assert_allclose(XYZ_TO_SRGB @ SRGB_TO_XYZ, np.eye(3), atol=1e-12)
    a, d65 = ILLUMINANTS["A"][1], ILLUMINANTS["D65"][1]
    cat = colour.adaptation.matrix_chromatic_adaptation_VonKries(colour.xy_to_XYZ(a), colour.xy_to_XYZ(d65),
                                                                 transform="Bradford")
    np.testing.assert_allclose(bradford(a, d65), cat, atol=1e-3)


def test_colour_floor_chart_references():
    # Under D65 both references are the chart's D65 colours; under tungsten they part (the chart's pigments
    # are not colour constant), and only the adapted one keeps the neutral patches neutral.
    np.testing.assert_allclose(chart.reference_xyz(6500.0, "adapted"), chart.reference_xyz(6500.0, "d65"), atol=1e-9)
    lab_a = chart.xyz_to_lab(chart.reference_xyz(2850.0, "adapted"))
    lab_d = chart.xyz_to_lab(chart.reference_xyz(2850.0, "d65"))
    assert 1.0 < chart.delta_e(lab_a, lab_d).mean() < 4.0
    # White patch: L* about 96 (BabelColor's measured white is a little warm: b* 2.6), greys near a* = b* = 0.
    assert 94 < lab_d[18, 0] < 98 and np.abs(lab_d[18:24, 1:]).max() < 3.0
    # The light is scaled to 1 lux; the daylight series starts at 4000 K.
    assert spectra.KM * spectra.illuminant(5000.0, "daylight") @ spectra.luminous_efficiency() * spectra.STEP_NM \
        == pytest.approx(1.0)
    assert spectra.auto_source(3999.0) == "planckian" and spectra.auto_source(4000.0) == "daylight"
    with pytest.raises(ValueError, match="4000..25000 K"):
        spectra.illuminant(3000.0, "daylight")
