"""Whether a mock scene renders, found out in milliseconds: for start-up checks and status reports.

A camera that starts on a scene it cannot render fails on every frame (the natural scenes once asked the
sensor's Poisson draw for negative light); this renders a coarse grid of the frame and a few windows at the
array's own pixel pitch, and says in one line which scene and why.

>>> check_scene("natural:coffee")          # doctest: +SKIP
>>> check_scene("natural:teapot")          # doctest: +SKIP
Traceback (most recent call last):
SceneError: mock scene 'natural:teapot' cannot render: natural image 'teapot' is not known (images: ...)
"""

from __future__ import annotations

import numpy as np

from ...errors import CameradError
from . import spectral
from .scenes import make_scene


class SceneError(CameradError, ValueError):
    """A mock scene that cannot be built or rendered; the message names the scene and why, on one line."""


def check_scene(name: str, array_size: tuple[int, int] = (4056, 3040), samples: tuple[int, int] = (64, 48)) -> None:
    """Build scene ``name`` and render a coarse grid of it (a few ms); raise ``SceneError`` if it cannot render.

    What a sensor that starts on this scene would meet on its first frame: an unknown name, a picture
    missing from scikit-image, or light that is negative or not a number anywhere in the frame.
    """
    try:
        scene = make_scene(name, array_size)
        resp = spectral.responses(scene.reflectances(), spectral.Lighting(5000.0, "auto", 1000.0))
        # The whole frame coarsely, and windows at the array's own pixel pitch across its middle (where
        # enlarging a picture or drawing fine detail shows what a coarse grid would miss).
        grids = [((np.arange(samples[0]) + 0.5) / samples[0], (np.arange(samples[1]) + 0.5) / samples[1])]
        for fx, fy in ((0.25, 0.5), (0.5, 0.5), (0.75, 0.5), (0.5, 0.25), (0.5, 0.75)):
            x0, y0 = int(fx * array_size[0]), int(fy * array_size[1])
            grids.append(((x0 + np.arange(samples[0]) + 0.5) / array_size[0],
                          (y0 + np.arange(samples[1]) + 0.5) / array_size[1]))
        planes = [scene.plane(resp[:, c], xs, ys) for xs, ys in grids for c in range(3)]
    except Exception as exc:  # noqa: BLE001 - any failure to render is reported as this scene's
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SceneError(f"mock scene {name!r} cannot render: {detail}") from exc
    for i, plane in enumerate(planes):
        if plane.shape != (samples[1], samples[0]) or not np.all(np.isfinite(plane)) or plane.min() < 0:
            raise SceneError(f"mock scene {name!r} cannot render: channel {'RGB'[i % 3]} has negative or "
                             f"non-finite light (min {np.nanmin(plane):.3g})")
