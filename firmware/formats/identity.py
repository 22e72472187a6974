"""Who took the picture: the names and lens figures that go into EXIF and DNG tags."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CameraIdentity:
    make: str = "camerad"
    model: str = "camerad prototype"
    software: str = "camerad"
    focal_length_mm: float | None = None
    f_number: float | None = None  # the aperture the shot was taken at (EXIF FNumber)
    max_f_number: float | None = None  # the lens's widest aperture (EXIF MaxApertureValue); None: f_number
    lens_model: str | None = None
    serial: str | None = None
