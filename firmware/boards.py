"""Which board we are running on, from the device tree, and the names of the libraries that drive its
sensor and its GPIO lines (the one place that decides both).

The backends are named here, on the ground floor, because the configuration names them and the board
resolves ``auto``: picamera2 and gpiozero on a Raspberry Pi, libcamera's bindings and libgpiod elsewhere.

>>> SensorBackend.AUTO.for_board("rpi5"), GpioBackend("mock").is_mock
(<SensorBackend.PICAMERA2: 'picamera2'>, True)
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

DEVICE_TREE_MODEL = Path("/proc/device-tree/model")


class SensorBackend(StrEnum):
    """Who drives the sensor (``[sensor] backend``, env ``CAMERAD_SENSOR_BACKEND``)."""

    AUTO = "auto"
    PICAMERA2 = "picamera2"  # the Raspberry Pi stack: libcamera and the Pi's hardware ISP
    LIBCAMERA = "libcamera"  # libcamera's own bindings, raw frames into our ISP (other boards)
    MOCK = "mock"  # the physically modelled sensor, any host

    def for_board(self, board: str) -> "SensorBackend | None":
        """This backend with ``auto`` resolved for ``board`` (None: no camera stack for that board)."""
        if self is not SensorBackend.AUTO:
            return self
        if board.startswith("rpi"):
            return SensorBackend.PICAMERA2
        if board == "qcom":
            return SensorBackend.LIBCAMERA
        return None


class GpioBackend(StrEnum):
    """Who drives the GPIO lines (``[gpio] backend``, env ``CAMERAD_GPIO_BACKEND``; a profile's ``[gpio]``)."""

    AUTO = "auto"  # the board profile's backend
    GPIOZERO = "gpiozero"
    GPIOD = "gpiod"
    MOCK = "mock"  # gpiozero's MockFactory

    @property
    def is_mock(self) -> bool:
        return self is GpioBackend.MOCK


def read_model(path: Path = DEVICE_TREE_MODEL) -> str:
    try:
        return path.read_bytes().rstrip(b"\0").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def detect_board(model: str | None = None) -> str:
    """``rpi5``, ``rpi4``, ``rpi`` (another Pi), ``qcom`` (a Qualcomm dev kit) or ``host``."""
    model = read_model() if model is None else model
    if model.startswith("Raspberry Pi 5") or model.startswith("Raspberry Pi Compute Module 5"):
        return "rpi5"
    if model.startswith("Raspberry Pi 4") or model.startswith("Raspberry Pi Compute Module 4"):
        return "rpi4"
    if model.startswith("Raspberry Pi"):
        return "rpi"
    if "Qualcomm" in model or "Robotics RB" in model or "qcs" in model.lower():
        return "qcom"
    return "host"


def detect_profile(model: str | None = None) -> str | None:
    """The hw/ profile for this board (``rpi5``, ``rpi4``, ``qcom-rb5``), or None when there is none."""
    model = read_model() if model is None else model
    board = detect_board(model)
    if board in ("rpi4", "rpi5"):
        return board
    if board == "qcom" and "RB5" in model:
        return "qcom-rb5"
    return None
