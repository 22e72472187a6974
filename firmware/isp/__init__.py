"""The software ISP: raw Bayer to finished pictures, one module per libcamera tuning block."""

from ..frame import FrameInfo
from .pipeline import Pipeline, build_pipeline, build_preview_pipeline
from .stage import Format, Kind, Stage

__all__ = ["FrameInfo", "Format", "Kind", "Pipeline", "Stage", "build_pipeline", "build_preview_pipeline"]
