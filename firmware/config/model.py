"""The configuration schema: frozen dataclasses, one per TOML table.

Each field's metadata carries its valid range (``min``/``max``) or choices; ``load.py`` checks every value
against it and rejects unknown keys, so a typo in the file is an error, not a silently ignored setting.
The commented example ``camerad.example.toml`` documents every key; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


def rng(default, lo=None, hi=None):
    """A field with an inclusive valid range."""
    return field(default=default, metadata={"min": lo, "max": hi})


@dataclass(frozen=True)
class DaemonConfig:
    log_level: Literal["debug", "info", "warning", "error"] = "info"


@dataclass(frozen=True)
class SensorConfig:
    backend: Literal["auto", "picamera2", "libcamera", "mock"] = "auto"
    camera: int = rng(0, 0, 15)
    # Sensor mode as "WIDTHxHEIGHT"; empty picks the full-resolution mode.
    mode: str = field(default="", metadata={"pattern": r"(\d+x\d+)?", "format": "WIDTHxHEIGHT, e.g. 2028x1520"})
    # Tuning file; empty picks the one for the sensor and platform (see README, "Tuning").
    tuning: str = ""
    frame_timeout: float = rng(2.0, 0.1, 60.0)
    buffer_count: int = rng(6, 2, 64)


@dataclass(frozen=True)
class MockConfig:
    model: Literal["imx477", "imx708"] = "imx477"
    scene: str = "colorchecker"
    colour_temperature: float = rng(5000.0, 1800.0, 12000.0)
    illuminant: Literal["auto", "daylight", "planckian", "fluorescent"] = "auto"
    lux: float = rng(800.0, 0.1, 200000.0)
    seed: int = rng(0, 0, 2**31 - 1)
    hot_pixels: int = rng(16, 0, 10000)


@dataclass(frozen=True)
class CaptureConfig:
    directory: str = "/var/lib/camerad/captures"
    raw: bool = True
    jpeg_quality: int = rng(93, 1, 100)
    sidecar: bool = True
    zsl: bool = True


@dataclass(frozen=True)
class GpioConfig:
    backend: Literal["auto", "gpiozero", "gpiod", "mock"] = "auto"
    # Board profile name from hw/ ("rpi4", "rpi5", "qcom-rb5", …); "auto" detects it.
    board: str = "auto"


@dataclass(frozen=True)
class DenoiseConfig:
    # Raw denoising of stills: "off", "fast" (int8 model) or "hq" (float16 model); see firmware.denoise.
    mode: Literal["off", "fast", "hq"] = "hq"
    threads: int = rng(2, 1, 64)


@dataclass(frozen=True)
class Config:
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    sensor: SensorConfig = field(default_factory=SensorConfig)
    mock: MockConfig = field(default_factory=MockConfig)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    gpio: GpioConfig = field(default_factory=GpioConfig)
    denoise: DenoiseConfig = field(default_factory=DenoiseConfig)
    # Where the configuration came from, for messages; not a TOML key.
    source: str = field(default="<defaults>", compare=False, metadata={"internal": True})
