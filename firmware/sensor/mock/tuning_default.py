"""The tuning file the mock's IPA loops run on.

The project keeps a calibrated file per mock sensor in ``tuning/mock/<model>.json`` (made by camtune from mock
captures). Without it - a fresh calibration run - the mock starts from an uncalibrated file like libcamera's
``uncalibrated.json``: grey-world AWB, default AGC, a single identity CCM and the sRGB curve.
"""

from __future__ import annotations

import logging

from ... import paths
from ...tuning import TuningFile
from ...tuning.curves import srgb_gamma_curve

log = logging.getLogger(__name__)


def mock_tuning_path(model: str):
    return paths.tuning_dir() / "mock" / f"{model}.json"


def default_tuning(model: str) -> TuningFile:
    path = mock_tuning_path(model)
    if path.exists():
        return TuningFile.load(path)
    log.warning("no calibrated tuning for mock %s at %s; using an uncalibrated one", model, path)
    return uncalibrated(model)


def uncalibrated(model: str) -> TuningFile:
    algos = [
        ("rpi.black_level", {"black_level": 4096}),
        ("rpi.awb", {"use_derivatives": 0, "bayes": 0}),
        ("rpi.agc", {"metering_modes": {"centre-weighted": {"weights": [4, 4, 4, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0]}},
                     "exposure_modes": {"normal": {"shutter": [100, 10000, 30000, 60000, 120000],
                                                   "gain": [1.0, 2.0, 4.0, 6.0, 6.0]}},
                     "constraint_modes": {"normal": []},
                     "y_target": [1000, 0.16, 10000, 0.16]}),
        ("rpi.contrast", {"ce_enable": 0, "gamma_curve": [round(v) for v in srgb_gamma_curve().flat()]}),
        ("rpi.ccm", {"ccms": [{"ct": 4000, "ccm": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]}]}),
    ]
    return TuningFile(version=2.0, target="bcm2835", algorithms=algos, source=f"<uncalibrated {model}>")
