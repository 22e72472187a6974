"""The physically modelled mock sensor."""

from __future__ import annotations

from ...clock import Clock
from ...config import Config
from ...tuning import TuningFile


def open_mock(config: Config, clock: Clock | None = None):
    """A ``MockSensor`` set up from the ``[mock]`` and ``[sensor]`` configuration tables."""
    from .sensor import MockSensor
    from .spectral import Lighting

    m = config.mock
    tuning = TuningFile.load(config.sensor.tuning) if config.sensor.tuning else None
    return MockSensor(m.model, scene=m.scene, lighting=Lighting(m.colour_temperature, m.illuminant, m.lux),
                      tuning=tuning, seed=m.seed, hot_pixels=m.hot_pixels, clock=clock)
