"""Fixed colour constants the device needs (the DNG writer): sRGB/XYZ, Bradford, DNG illuminants.

Published values, so no library is needed on the device; tools and tests use colour-science for the rest.

>>> import numpy as np
>>> bool(np.allclose(SRGB_TO_XYZ @ np.ones(3), xy_to_xyz(ILLUMINANTS["D65"][1]), atol=1e-3))
True
"""

from __future__ import annotations

import numpy as np

# IEC 61966-2-1 linear sRGB (D65) to CIE XYZ, and its inverse.
SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
XYZ_TO_SRGB = np.linalg.inv(SRGB_TO_XYZ)
BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])

# DNG CalibrationIlluminant codes (EXIF LightSource) and their chromaticities and colour temperatures.
ILLUMINANTS = {
    "A": (17, (0.44757, 0.40745), 2856.0),
    "D50": (23, (0.34567, 0.35850), 5003.0),
    "D65": (21, (0.31271, 0.32902), 6504.0),
}


def xy_to_xyz(xy) -> np.ndarray:
    """XYZ with Y = 1 of a chromaticity (x, y)."""
    x, y = xy
    return np.array([x / y, 1.0, (1.0 - x - y) / y])


def bradford(src_xy, dst_xy) -> np.ndarray:
    """Chromatic adaptation matrix taking XYZ seen under ``src`` white to XYZ under ``dst`` white."""
    s = BRADFORD @ xy_to_xyz(src_xy)
    d = BRADFORD @ xy_to_xyz(dst_xy)
    return np.linalg.inv(BRADFORD) @ np.diag(d / s) @ BRADFORD
