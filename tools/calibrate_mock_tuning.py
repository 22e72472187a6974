#!/usr/bin/env python3
"""Regenerate the mock sensors' committed tuning files by calibrating them, as on a real camera.

For each mock sensor this renders a calibration set with ``camtune mock`` at full resolution - flat fields at
six colour temperatures, a ColorChecker at twelve, two dark frames, all named as the Raspberry Pi tuning tool
expects - and runs ``camtune calibrate`` on it for each target:

    tuning/mock/<model>.json        vc4 (what the mock's IPA, the ISP and the DNG writer load)
    tuning/mock/pisp/<model>.json   pisp (for ``camtune build --mock --target pisp``)

Everything is deterministic (the mock renders from fixed seeds), so rerunning gives the same files.

    .venv/bin/python tools/calibrate_mock_tuning.py                  # both sensors, both targets (~4 min)
    .venv/bin/python tools/calibrate_mock_tuning.py --model imx477 --keep /tmp/cal --reports /tmp/reports

``tools/make_mock_tuning.py`` writes the ideal file straight from the physics: the oracle tests compare these
calibrated files against.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from firmware.camtune.cli import main as camtune  # noqa: E402

ALSC_CTS = (2300, 2850, 4000, 5000, 6500, 9000)
CHART_CTS = (2300, 2600, 2850, 3200, 3600, 4000, 4500, 5000, 5500, 6500, 7500, 9000)
LUX = 1000
# Analogue gain 1 (or the sensor's minimum): the noise profile's reference.
MIN_GAIN = {"imx477": 1.0, "imx708": 1.12}


def _run(argv: list[str]) -> None:
    if camtune(argv) != 0:
        raise SystemExit(f"camtune {' '.join(argv)} failed")


def _white_fraction(dng: Path) -> float:
    """The chart's white patch level as a fraction of the raw range (to keep it clear of clipping)."""
    from firmware.calibrate.chart import patch_means
    from firmware.calibrate.images import read_capture

    cap = read_capture(dng, "macbeth", None, None)
    return float(patch_means(cap, cap.patches)[18].max() / (cap.white - max(cap.black)))


def capture_set(model: str, out: Path) -> None:
    gain = str(MIN_GAIN[model])
    common = ["--model", model, "--gain", gain]
    for ct in ALSC_CTS:
        _run(["mock", "flat", "--ct", str(ct), "--lux", str(LUX), "--exposure", "6000", *common,
              "-o", str(out / f"alsc_{ct}k_0.dng")])
    for ct in CHART_CTS:
        exposure = 20000
        while True:
            dng = out / f"cc_{ct}k_{LUX}l.dng"
            _run(["mock", "colorchecker", "--ct", str(ct), "--lux", str(LUX), "--exposure", str(exposure), *common,
                  "-o", str(dng)])
            if _white_fraction(dng) < 0.8:
                break
            exposure = int(exposure * 0.7)
    for n in range(2):
        _run(["mock", "flat", "--ct", "5000", "--lux", "0.0001", "--exposure", "1000", "--seed", str(n), *common,
              "-o", str(out / f"dark_{n}.dng")])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", choices=["imx477", "imx708"], help="sensor (default: both)")
    ap.add_argument("--target", action="append", choices=["vc4", "pisp"], help="target (default: both)")
    ap.add_argument("--keep", type=Path, help="keep the captures in this directory")
    ap.add_argument("--reports", type=Path, help="write calibration reports (PNG) into this directory")
    ap.add_argument("--out", type=Path, default=ROOT / "tuning" / "mock", help="where the tuning files go")
    args = ap.parse_args(argv)
    for model in args.model or ["imx477", "imx708"]:
        with tempfile.TemporaryDirectory(prefix=f"cal-{model}-") as tmp:
            caps = (args.keep / model) if args.keep else Path(tmp)
            caps.mkdir(parents=True, exist_ok=True)
            capture_set(model, caps)
            for target in args.target or ["vc4", "pisp"]:
                out = args.out / f"{model}.json" if target == "vc4" else args.out / target / f"{model}.json"
                out.parent.mkdir(parents=True, exist_ok=True)
                from firmware.sensor.mock.models import sensor_model

                # The AGC's exposure modes end at the sensor's largest analogue gain: low light goes that far.
                cmd = ["calibrate", str(caps), "--target", target, "-o", str(out),
                       "--max-gain", str(sensor_model(model).gain_range[1])]
                if args.reports:
                    args.reports.mkdir(parents=True, exist_ok=True)
                    cmd += ["--report", str(args.reports / f"{model}_{target}.png")]
                else:
                    cmd += ["--no-report"]
                _run(cmd)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
