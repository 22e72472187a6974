"""The physically modelled mock sensor."""

from __future__ import annotations

from ...clock import Clock
from ...config import Config
from ...tuning import TuningFile


def open_mock(config: Config, clock: Clock | None = None):
    """A ``MockSensor`` set up from the ``[mock]`` and ``[sensor]`` configuration tables.

    With ``[mock] like`` set, the mock is the sensor that stock tuning file describes (``like.py``), and the file
    is its tuning unless ``[sensor] tuning`` names another.
    """
    from .sensor import MockSensor
    from .spectral import Lighting

    m = config.mock
    tuning = TuningFile.load(config.sensor.tuning) if config.sensor.tuning else None
    model = m.model
    if m.like:
        from .like import like

        spec = like(m.like)
        model, tuning = spec.model, tuning or spec.tuning
    return MockSensor(model, scene=m.scene, lighting=Lighting(m.colour_temperature, m.illuminant, m.lux),
                      tuning=tuning, seed=m.seed, hot_pixels=m.hot_pixels, clock=clock)
