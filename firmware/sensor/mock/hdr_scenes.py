"""Scenes beyond one exposure: a room with a sunlit window, and a street at night - each with a step wedge.

Both are built for measuring multi-frame merges (``firmware/merge``) against the truth:

* ``hdr-window``: a dim room (dead-leaves texture whose light falls off six stops from the window into the far
  corner) with a window onto a bright sky, clouds and the sun, and a transmission step wedge on a light box
  (like a Stouffer T4110): 40 steps of half a stop, from 2^6 down to 2^-13.5 times the room's white - 20 stops,
  more than any single exposure holds. The scene spans more than 20 stops (sun and sky to the darkest
  leaf in the far corner).
* ``night-street``: dead-leaves texture lit by the scene's ``lux`` (0.5-5 lux is a street at night), a dark
  sky, street lamps and lit windows far brighter than the street, and a reflective grey chart of 16 half-stop
  steps (0.9 down to 0.005 reflectance).

Emitters are the perfect white's response times a gain, so their brightness is relative to the scene's light:
the dynamic range of each scene is the same at any ``lux``. ``patches`` gives the wedge's steps (central 60 %
of each) in a mode's pixels and ``step_luminance`` their luminance relative to a perfect white in the room.
"""

from __future__ import annotations

import functools

import numpy as np

from .scenes import DeadLeaves, Patch, Scene

WHITE, DARK = 48, 49  # label indices after dead-leaves' 48 colours: a perfect white (emitters) and dark paint


class _Composite(Scene):
    """A scene whose pixels show one reflectance each, times a brightness gain (light fall-off, emitters)."""

    def __init__(self, array_size: tuple[int, int], seed: int):
        self.aw, self.ah = array_size
        self.aspect = self.aw / self.ah
        self._leaves = DeadLeaves(array_size, seed)
        refl = self._leaves.reflectances()
        self._refl = np.vstack([refl, np.ones((1, refl.shape[1])), np.full((1, refl.shape[1]), 0.035)])
        self.steps: list[tuple[tuple[float, float, float, float], float]] = []  # (x0, y0, x1, y1), luminance

    def reflectances(self):
        return self._refl

    @property
    def step_luminance(self) -> np.ndarray:
        return np.array([lum for _, lum in self.steps])

    def layout(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Labels (h, w) uint8 and gains (h, w) float32 on the grid."""
        raise NotImplementedError

    @functools.lru_cache(maxsize=4)
    def _layout_cached(self, xb: bytes, yb: bytes):
        return self.layout(np.frombuffer(xb), np.frombuffer(yb))

    def plane(self, response, xs, ys):
        labels, gain = self._layout_cached(np.ascontiguousarray(xs).tobytes(), np.ascontiguousarray(ys).tobytes())
        out = np.asarray(response, dtype=np.float32)[labels]
        out *= gain
        return out

    def _wedge(self, box, cols: int, rows: int, lum) -> None:
        """Lay out ``cols x rows`` steps in ``box`` (x0, y0, x1, y1), row by row, with luminances ``lum``."""
        x0, y0, x1, y1 = box
        cw, ch = (x1 - x0) / cols, (y1 - y0) / rows
        for k, value in enumerate(lum):
            r, c = divmod(k, cols)
            gx, gy = 0.08 * cw, 0.08 * ch  # a dark gap between steps
            self.steps.append(((x0 + c * cw + gx, y0 + r * ch + gy, x0 + (c + 1) * cw - gx,
                                y0 + (r + 1) * ch - gy), float(value)))

    def _paint_steps(self, labels, gain, xs, ys, label: int, scale: float) -> None:
        for (x0, y0, x1, y1), lum in self.steps:
            cols = (xs >= x0) & (xs < x1)
            rows = (ys >= y0) & (ys < y1)
            sel = np.ix_(rows, cols)
            labels[sel] = label
            gain[sel] = lum / scale

    def patches(self, xs, ys):
        out = []
        for i, ((x0, y0, x1, y1), lum) in enumerate(self.steps):
            mx, my = 0.2 * (x1 - x0), 0.2 * (y1 - y0)  # central 60 %, away from the blurred edges
            cols = np.nonzero((xs >= x0 + mx) & (xs <= x1 - mx))[0]
            rows = np.nonzero((ys >= y0 + my) & (ys <= y1 - my))[0]
            if len(cols) < 2 or len(rows) < 2:
                continue
            out.append(Patch(i, f"step {i} ({np.log2(lum):+.1f} EV)", int(cols[0]), int(rows[0]),
                             int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)))
        return out


def _inside(xs, ys, box):
    x0, y0, x1, y1 = box
    return ((ys >= y0) & (ys < y1))[:, None] & ((xs >= x0) & (xs < x1))[None, :]


def _disc(xs, ys, cx, cy, r, aspect):
    return ((xs[None, :] - cx) ** 2 + ((ys[:, None] - cy) / aspect) ** 2) < r * r


class HdrWindow(_Composite):
    name = "hdr-window"
    WINDOW = (0.06, 0.08, 0.40, 0.50)
    WEDGE = (0.47, 0.55, 0.96, 0.93)
    WEDGE_TOP_EV = 6.0  # the light box seen through the clearest step, in stops above the room's white

    def __init__(self, array_size, seed: int = 0):
        super().__init__(array_size, seed)
        self._wedge(self.WEDGE, 10, 4, 2.0 ** (self.WEDGE_TOP_EV - 0.5 * np.arange(40)))

    def layout(self, xs, ys):
        labels = self._leaves.labels(xs, ys).astype(np.uint8)
        wx0, wy0, wx1, wy1 = self.WINDOW
        cx, cy = (wx0 + wx1) / 2, (wy0 + wy1) / 2
        # Light from the window falls off into the room: six stops down at the far corner.
        d = np.hypot(xs[None, :] - cx, (ys[:, None] - cy) / self.aspect)
        gain = np.exp2(-6.0 * np.clip(d / 1.0, 0.0, 1.0)).astype(np.float32)
        window = _inside(xs, ys, self.WINDOW)
        labels[window] = WHITE
        # Sky: 2^6 at the top of the window to 2^5 at its bottom, brighter clouds, and the sun.
        sky = np.exp2(6.0 - (ys[:, None] - wy0) / (wy1 - wy0)) * np.ones_like(xs)[None, :]
        for (px, py, r) in ((0.14, 0.18, 0.05), (0.30, 0.26, 0.06), (0.22, 0.40, 0.04)):
            blob = np.exp(-(((xs[None, :] - px) / r) ** 2 + ((ys[:, None] - py) / (r * self.aspect)) ** 2))
            sky *= 1.0 + 0.8 * blob
        sky[_disc(xs, ys, 0.33, 0.15, 0.015, self.aspect)] = 2.0**14
        gain = np.where(window, sky, gain).astype(np.float32)
        # Window frame and glazing bars: dark paint lit by the room.
        bar = 0.012
        frame = window & ~_inside(xs, ys, (wx0 + bar, wy0 + bar * self.aspect, wx1 - bar, wy1 - bar * self.aspect))
        frame |= _inside(xs, ys, (cx - bar / 2, wy0, cx + bar / 2, wy1))
        frame |= _inside(xs, ys, (wx0, cy - bar * self.aspect / 2, wx1, cy + bar * self.aspect / 2))
        labels[frame] = DARK
        gain[frame] = 0.5
        # The light box: dark surround, then the steps (the box's white seen through each step).
        labels[_inside(xs, ys, self.WEDGE)] = DARK
        gain[_inside(xs, ys, self.WEDGE)] = 0.3
        self._paint_steps(labels, gain, xs, ys, WHITE, 1.0)
        return labels, gain


class NightStreet(_Composite):
    name = "night-street"
    CHART = (0.50, 0.62, 0.95, 0.92)

    def __init__(self, array_size, seed: int = 0):
        super().__init__(array_size, seed)
        self._wedge(self.CHART, 8, 2, 0.9 * 2.0 ** (-0.5 * np.arange(16)))

    def layout(self, xs, ys):
        labels = self._leaves.labels(xs, ys).astype(np.uint8)
        gain = np.ones((len(ys), len(xs)), np.float32)
        sky = (ys < 0.18)[:, None] & np.ones(len(xs), bool)[None, :]
        labels[sky] = WHITE
        gain[sky] = 0.02
        for k, x in enumerate((0.08, 0.27, 0.46)):  # lit windows of a house front
            win = _inside(xs, ys, (x, 0.24, x + 0.09, 0.36))
            labels[win] = WHITE
            gain[win] = 2.0 ** (4 + k)
        for x, y in ((0.12, 0.10), (0.62, 0.08), (0.88, 0.14)):  # street lamps, far brighter than the street
            lamp = _disc(xs, ys, x, y, 0.012, self.aspect)
            labels[lamp] = WHITE
            gain[lamp] = 2.0**10
        labels[_inside(xs, ys, self.CHART)] = DARK
        self._paint_steps(labels, gain, xs, ys, WHITE, 1.0)
        return labels, gain


HDR_SCENES = {"hdr-window": HdrWindow, "night-street": NightStreet}


def make_hdr_scene(name: str, array_size: tuple[int, int], seed: int = 0) -> Scene:
    return HDR_SCENES[name](array_size, seed)
