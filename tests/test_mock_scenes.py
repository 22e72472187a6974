"""Every documented mock scene renders, and ``check_scene`` says which cannot before a camera starts on it."""

import numpy as np
import pytest

from firmware.clock import FakeClock
from firmware.errors import CameradError
from firmware.sensor.mock import scenes
from firmware.sensor.mock.scene_check import SceneError, check_scene
from firmware.sensor.mock.scenes import NATURAL_IMAGES, SCENES, make_scene
from firmware.sensor.mock.sensor import MockSensor
from firmware.sensor.mock.spectral import Lighting

DOCUMENTED = [s for s in SCENES if s != "natural"] + ["natural"] + [f"natural:{n}" for n in NATURAL_IMAGES]


@pytest.mark.parametrize("name", DOCUMENTED)
def test_every_documented_scene_renders_a_frame(name):
    """Through the whole mock - optics, mosaic, noise - in its smallest mode: no "lam < 0" from Poisson."""
    cam = MockSensor("imx477", name, Lighting(5000, "auto", 800), clock=FakeClock(), hot_pixels=0)
    cam.configure(cam.info.mode("1332x990"), 4)
    cam.start()
    try:
        for _ in range(3):
            cam.next_request(5.0).release()
        with cam.next_request(5.0) as req:
            raw = req.make_array("raw")
    finally:
        cam.close()
    assert raw.shape == (990, 1332) and raw.dtype == np.uint16
    assert raw.max() <= 4095 and np.ptp(raw) > 50  # a picture, not a flat field of black
    check_scene(name)


def test_natural_pictures_hold_no_negative_light_at_full_resolution():
    """Enlarging a 512-pixel photograph to the 4056-pixel array rang below zero beside dark edges (cubic
    interpolation), and the sensor's Poisson draw refused every frame of every natural scene."""
    from firmware.sensor.mock import spectral

    for image in NATURAL_IMAGES:
        scene = make_scene(f"natural:{image}", (4056, 3040))
        resp = spectral.responses(scene.reflectances(), Lighting(5000, "auto", 800))
        xs = (np.arange(1600, 2400) + 0.5) / 4056
        ys = (np.arange(1100, 1900) + 0.5) / 3040
        for c in range(3):
            assert scene.plane(resp[:, c], xs, ys).min() >= 0, image


def test_check_scene_names_what_cannot_render():
    for name in ("nope", "natural:nope"):
        with pytest.raises(SceneError, match=f"mock scene '{name}' cannot render") as exc:
            check_scene(name)
        assert "\n" not in str(exc.value) and isinstance(exc.value, CameradError) and isinstance(exc.value, ValueError)


def test_check_scene_catches_a_scene_that_goes_negative(monkeypatch):
    """What the natural scenes did before they were fixed: it must be reported, not passed."""
    original = scenes.Natural.plane
    monkeypatch.setattr(scenes.Natural, "plane", lambda self, *a: original(self, *a) - 1.0)
    with pytest.raises(SceneError, match="negative or non-finite light"):
        check_scene("natural:coffee")


def test_new_scenes_are_deterministic_and_drawn_as_the_pixels_see_them():
    from firmware.sensor.mock import spectral

    resp = np.array([0.1, 0.9])
    zone = make_scene("zone-plate", (4056, 3040))
    xs = (np.arange(2028, 2028 + 900) + 0.5) / 4056  # from the centre outwards, along a row
    ys = np.array([1520.5 / 3040])
    row = zone.plane(resp, xs, ys)[0]
    assert np.array_equal(row, make_scene("zone-plate", (4056, 3040)).plane(resp, xs, ys)[0])
    # Rings as fine as the pixel grid allows: 0.5 cycles per pixel at 0.48 of the height; contrast that fades
    # with the pixel aperture, and none past the grid's Nyquist frequency (a binned mode sees 1 cycle/pixel).
    assert np.ptp(row[:100]) > 0.75 and 0.3 < np.ptp(row[800:900]) < np.ptp(row[:100])
    binned = zone.plane(resp, xs[::2], ys)[0]
    assert np.ptp(binned[-20:]) < 0.05
    room = make_scene("high-contrast", (4056, 3040))
    light = spectral.responses(room.reflectances(), Lighting(5000, "auto", 1000))[:, 1]
    grid = (np.arange(64) + 0.5) / 64, (np.arange(48) + 0.5) / 48
    plane = room.plane(light, *grid)
    assert plane.max() / np.percentile(plane, 5) > 200  # more than 7.5 stops from the floor to the cloud
    assert np.array_equal(plane, make_scene("high-contrast", (4056, 3040)).plane(light, *grid))
