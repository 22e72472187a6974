"""The reference calibration fits to: the ColorChecker's colours, from the ground floor's colour science.

The chart, the lights and the observer are ``firmware.colour`` (colour-science's data on one 10 nm grid), the
same data the mock renders from, so calibrating the mock is judged against exactly the chart it shows.
``camtune calibrate --reference`` chooses between the two references ``firmware.colour.chart`` describes:
``adapted`` (default: the chart under the capture's own light, Bradford-adapted to D65) and ``d65`` (the chart
under D65 at every colour temperature, the Raspberry Pi tool's convention).
"""

from __future__ import annotations

import numpy as np

from ..colour.chart import REFERENCES, delta_e, reference_xyz, xyz_to_lab
from ..colour.matrices import SRGB_TO_XYZ

__all__ = ["REFERENCES", "SRGB_TO_XYZ", "delta_e", "reference_lab", "reference_xyz", "xyz_to_lab"]


def reference_lab(ct: float, reference: str = "adapted") -> np.ndarray:
    """CIE Lab (D65) of the chart's reference for a capture at ``ct``."""
    return xyz_to_lab(reference_xyz(ct, reference))
