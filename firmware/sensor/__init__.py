"""The sensor seam: one protocol, three backends (picamera2, libcamera, mock), chosen in ``select.py``."""

from .protocol import Sensor, SensorInfo, SensorMode
from .request import CompletedRequest

__all__ = ["CompletedRequest", "Sensor", "SensorInfo", "SensorMode"]
