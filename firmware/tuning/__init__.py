"""libcamera tuning files: reading, the blocks the firmware uses, and colour-temperature interpolation."""

from .file import TuningFile
from .pwl import Pwl

__all__ = ["TuningFile", "Pwl"]
