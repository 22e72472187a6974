"""Control methods an operator rehearses with: the shutter button's first stage, and the mock sensor's scene and light.

``half_press`` is the button's half-way stage (AE/AWB locked at the latest frame's values, one AF scan where
the lens has autofocus) - ``pressed`` false lets go of it, as lifting the finger does; ``shutter`` (in
``methods_camera``) is the full press. ``mock.scene`` puts another scene, colour temperature or brightness in
front of the mock sensor, so status, histogram, AWB and focus can be tried from a shell; a real camera answers
``unavailable``. (``mock.focus``, the mock's focus ring, is in ``methods_camera``.)
"""

from __future__ import annotations

import time

from .method import Context, Method
from .params import Param
from .protocol import RequestError

LIGHTS = ("auto", "daylight", "planckian", "fluorescent")


def _camera(ctx: Context):
    return ctx.camera


def _locked(camera) -> bool:
    return bool(camera.snapshot().engine.locked)


def half_press(ctx: Context, p: dict) -> dict:
    camera = _camera(ctx)
    camera.half_press(p["pressed"], time.monotonic_ns())
    return {"pressed": p["pressed"], "locked": _locked(camera)}


def mock_scene(ctx: Context, p: dict) -> dict:
    from ..sensor.mock.spectral import Lighting

    sensor = _camera(ctx).sensor
    if not sensor.is_mock:
        raise RequestError("unavailable", "mock.scene: the sensor is not the mock (a real scene is in front of it)")
    if p["scene"] is not None:
        try:
            sensor.set_scene(p["scene"])
        except (ValueError, KeyError) as exc:
            raise RequestError("out_of_range", f"mock.scene: {exc}") from None
    light = sensor.lighting
    if p["ct"] is not None or p["lux"] is not None or p["light"] is not None:
        light = Lighting(p["ct"] if p["ct"] is not None else light.ct, p["light"] or light.kind,
                         p["lux"] if p["lux"] is not None else light.lux)
        sensor.set_lighting(light)
    return {"scene": sensor.scene_name, "ct": light.ct, "light": light.kind, "lux": light.lux}


METHODS = [
    Method("half_press", half_press, {"pressed": Param(bool, default=True)},
           "the shutter's first stage: lock AE/AWB (pressed false lets go)", changes_state=True),
    Method("mock.scene", mock_scene, {"scene": Param(str, default=None, max_len=200),
                                      "ct": Param(float, default=None, lo=1800.0, hi=12000.0),
                                      "lux": Param(float, default=None, lo=0.1, hi=200000.0),
                                      "light": Param(str, default=None, choices=LIGHTS)},
           "the mock sensor's scene and light", changes_state=True),
]
