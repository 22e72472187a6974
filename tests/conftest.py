"""Shared fixtures: simulated time, small mock sensors, and the team's reference data when it is present."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

# colour-science warns at import that matplotlib is missing; plotting is not used.
warnings.filterwarnings("ignore", message=".*Matplotlib.*")

from firmware import paths  # noqa: E402
from firmware.clock import FakeClock  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clock():
    return FakeClock(start_ns=1_000_000_000)


@pytest.fixture
def mock_sensor(clock):
    """A factory for started mock sensors in simulated time: ``mock_sensor(scene=..., ct=..., mode=...)``."""
    from firmware.sensor.mock.sensor import MockSensor
    from firmware.sensor.mock.spectral import Lighting

    made = []

    def make(scene="colorchecker", ct=5000.0, lux=800.0, mode="1332x990", model="imx477", buffers=6,
             start=True, **kw):
        cam = MockSensor(model, scene=scene, lighting=Lighting(ct, kw.pop("illuminant", "auto"), lux),
                         clock=kw.pop("clk", clock), **kw)
        cam.configure(cam.info.mode(mode), buffers)
        if start:
            cam.start()
        made.append(cam)
        return cam

    yield make
    for cam in made:
        cam.close()


@pytest.fixture
def shared_reference() -> Path:
    ref = paths.shared_reference_dir()
    if ref is None:
        pytest.skip("../shared/reference is not beside this checkout")
    return ref


@pytest.fixture(autouse=True)
def _restore_logging():
    """CLI entry points configure the ``firmware`` logger; put it back so later tests' caplog sees records."""
    import logging

    log = logging.getLogger("firmware")
    saved = (list(log.handlers), log.level, log.propagate)
    yield
    log.handlers[:], log.level, log.propagate = saved[0], saved[1], saved[2]


@pytest.fixture(autouse=True)
def _no_backend_env(monkeypatch):
    """Tests choose backends explicitly; a developer's environment must not leak in."""
    for var in ("CAMERAD_SENSOR_BACKEND", "CAMERAD_GPIO_BACKEND"):
        monkeypatch.delenv(var, raising=False)
    if "CAMERAD_DATA_DIR" in os.environ:
        monkeypatch.delenv("CAMERAD_DATA_DIR")
