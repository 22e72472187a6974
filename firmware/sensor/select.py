"""Choose and open the sensor backend: the one place that decides.

``sensor.backend`` in the configuration, overridden by the ``CAMERAD_SENSOR_BACKEND`` environment variable:

* ``picamera2`` - the Raspberry Pi stack (libcamera + the Pi's hardware ISP);
* ``libcamera`` - libcamera's own Python bindings, raw frames into our software ISP (Snapdragon kits);
* ``mock`` - the physically modelled sensor, on any host;
* ``auto`` - picamera2 on a Raspberry Pi, libcamera on other boards. ``auto`` never falls back to the mock: on
  a camera with no working sensor that is an error, because a camera that quietly photographs a simulated
  ColorChecker is worse than one that says it is broken.
"""

from __future__ import annotations

import os

from ..boards import SensorBackend, detect_board
from ..clock import Clock
from ..config import Config
from ..errors import ConfigError, SensorUnavailable
from .protocol import Sensor

ENV = "CAMERAD_SENSOR_BACKEND"


def choose_backend(config: Config, board: str | None = None) -> SensorBackend:
    name = os.environ.get(ENV) or config.sensor.backend
    if name not in tuple(SensorBackend):
        raise ConfigError(f"{ENV}={name!r}: must be one of {', '.join(SensorBackend)}")
    backend = SensorBackend(name)
    if backend is not SensorBackend.AUTO:
        return backend
    chosen = backend.for_board(board or detect_board())
    if chosen is not None:
        return chosen
    raise SensorUnavailable(
        "sensor.backend = \"auto\" found no camera board here (not a Raspberry Pi or a supported dev kit); "
        "run with --mock, or set sensor.backend = \"mock\" (or CAMERAD_SENSOR_BACKEND=mock) to use the mock sensor")


def open_sensor(config: Config, clock: Clock | None = None, board: str | None = None) -> Sensor:
    backend = choose_backend(config, board)
    if backend is SensorBackend.MOCK:
        from .mock import open_mock

        return open_mock(config, clock)
    # picamera2 and libcamera's bindings come from the board's packages (python3-picamera2,
    # python3-libcamera); on a host they are missing and the import inside open() fails.
    if backend is SensorBackend.PICAMERA2:
        from .picamera2_backend import Picamera2Sensor as backend_class
    else:
        from .libcamera_backend import LibcameraSensor as backend_class
    try:
        return backend_class.open(config, clock)
    except ImportError as exc:
        raise SensorUnavailable(f"{backend} backend unavailable: {exc} (install python3-{backend} from the "
                                f"board's packages, or run with --mock)") from exc
