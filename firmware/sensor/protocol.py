"""The sensor seam, shaped after libcamera and picamera2.

Every backend (picamera2 on the Pi, libcamera's bindings on other boards, the mock on any host) implements
``Sensor``. Controls and metadata use libcamera's names (``ExposureTime``, ``AnalogueGain``, ``ColourGains``,
``SensorTimestamp`` …) so code and operators can read libcamera's documentation for their meaning.

Like gpiozero's pin factories, a backend declares what its callers need to know about it - its name, whether
it is the mock, the tuning it runs on, its mode, what a request costs in memory, and its lens's focus where
software can turn it - so no caller has to guess from the object's type or probe for attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

from ..boards import SensorBackend
from ..tuning import TuningFile
from .request import CompletedRequest


@dataclass(frozen=True)
class SensorMode:
    """One readout mode of the sensor, as ``Picamera2.sensor_modes`` lists them."""

    size: tuple[int, int]
    bit_depth: int
    max_fps: float
    # Region of the pixel array read out, (x, y, width, height), before binning.
    crop: tuple[int, int, int, int]
    binning: int = 1

    @property
    def min_frame_duration_us(self) -> int:
        return int(round(1e6 / self.max_fps))

    @property
    def name(self) -> str:
        return f"{self.size[0]}x{self.size[1]}"

    def format(self, cfa: str) -> str:
        """libcamera's unpacked raw format name, e.g. ``SRGGB12``."""
        return f"S{cfa}{self.bit_depth}"


@dataclass(frozen=True)
class SensorInfo:
    """What the camera reports about itself (``Picamera2.camera_properties`` + ``sensor_modes``)."""

    model: str
    pixel_array_size: tuple[int, int]
    # Colour filter order of the top-left 2x2 block, as libcamera names it: RGGB, BGGR, GRBG, GBRG.
    cfa: str
    modes: tuple[SensorMode, ...]
    # Black level on libcamera's 16-bit scale (4096 = 256 in 12 bits), as SensorBlackLevels reports it.
    black_level_16: int
    unit_cell_size_nm: tuple[int, int] = (1550, 1550)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def mode(self, name: str = "") -> SensorMode:
        """The mode called ``WIDTHxHEIGHT``; an empty name gives the largest mode."""
        if not name:
            return max(self.modes, key=lambda m: m.size[0] * m.size[1])
        for m in self.modes:
            if m.name == name:
                return m
        known = ", ".join(m.name for m in self.modes)
        raise ValueError(f"sensor {self.model} has no mode {name!r} (modes: {known})")


class FocusRing(Protocol):
    """A lens whose focus software turns (the mock's simulated manual-focus ring)."""

    focus_position: float  # where the ring is, 0 .. 1
    focus_sharp: float  # where the subject is sharp
    defocus_px: float  # the blur the ring adds now (Gaussian sigma, pixel-array pixels)

    def set_focus(self, position: float) -> None: ...


class Sensor(Protocol):
    """What the camera needs from a sensor backend."""

    backend: SensorBackend  # which backend this is (never AUTO)
    is_mock: bool  # frames come from the physical model, not a camera
    tuning: TuningFile  # the tuning file the sensor (and our ISP) runs on
    lens: FocusRing | None  # the focus a control can turn; None: the lens is focused by hand (or by AF controls)

    @property
    def info(self) -> SensorInfo: ...

    @property
    def mode(self) -> SensorMode | None:
        """The mode ``configure`` set (None before)."""
        ...

    def request_bytes(self, mode: SensorMode) -> int:
        """Memory one request (one buffer of every stream) holds in ``mode``: what the ZSL ring's budget counts."""
        ...

    @property
    def camera_controls(self) -> Mapping[str, tuple[Any, Any, Any]]:
        """Control name -> (min, max, default), as ``Picamera2.camera_controls``."""
        ...

    @property
    def is_streaming(self) -> bool: ...

    def configure(self, mode: SensorMode, buffer_count: int = 4) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...

    def set_controls(self, controls: Mapping[str, Any]) -> None:
        """Queue controls for the next frames; raises ``ControlError`` naming the bad control."""
        ...

    def next_request(self, timeout: float | None = None) -> CompletedRequest:
        """Block for the next completed request. The caller owns one reference and must ``release()`` it.

        Raises ``SensorTimeout`` when no frame arrives in ``timeout`` seconds and ``SensorDisconnected``
        when the camera has gone away.
        """
        ...
