"""libcamera tuning files: reading, checking, the blocks the firmware uses, looks, building and calibration.

``file`` (TuningFile), ``blocks/`` (one module per libcamera block: typed view, reading and rules, and the
``REGISTRY`` of them), ``validate`` (a whole file by those rules), ``checked`` (``load_checked``: the one way a
file gets into the daemon and the tools), ``interp`` and ``resample`` (colour-temperature interpolation, ALSC
tables to a crop), ``looks``/``tone`` (looks), ``build`` (base + look), ``softisp`` (soft-ISP YAML), ``diff``,
``defaults``, and ``calibrate/`` (camtune calibrate, one module per step).
"""

from .checked import inspect, load_checked
from .file import TuningFile
from .pwl import Pwl

__all__ = ["TuningFile", "Pwl", "inspect", "load_checked"]
