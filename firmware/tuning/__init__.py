"""libcamera tuning files: reading, checking, the blocks the firmware uses, looks, building and calibration.

``file`` (TuningFile), ``validate``/``rules`` (libcamera's rules), ``blocks`` (typed readers), ``interp`` and
``resample`` (colour-temperature interpolation, ALSC tables to a crop), ``looks``/``tone`` (looks),
``build`` (base + look), ``softisp`` (soft-ISP YAML), ``diff``, ``defaults``, and ``calibrate/`` (camtune
calibrate, one module per step).
"""

from .file import TuningFile
from .pwl import Pwl

__all__ = ["TuningFile", "Pwl"]
