"""Scenes that move: hand shake of the whole camera and objects crossing the scene, deterministic from the seed.

A scene name with ``+`` options wraps any scene: ``night-street+shake``, ``hdr-window+shake=5+objects=3``,
``dead-leaves+objects``.

* ``shake[=PX]``: the camera wanders like a hand - a band-limited random walk (random-phase sinusoids from 0.5
  to 8 Hz with a 1/f amplitude spectrum, so it drifts like a random walk over a burst yet stays bounded) whose
  frame-to-frame displacement 100 ms apart has an RMS of PX pixel-array pixels (default 3), with a small
  rotation about the array centre (about 0.02 degrees per PX).
* ``objects[=N]``: N (default 2) discs and boxes of random colour crossing the scene at 0.15-0.45 array
  widths per second, wrapping around.

Everything is a pure function of (seed, timestamp): frames rendered in any order, twice, or from a ZSL ring
seconds later are the same, and ``truth_dn`` / ``moving_mask`` give the noise-free picture a merge is
measured against. Each frame shows the scene at its timestamp (no motion blur within the exposure). The
static view (``plane``) without objects feeds the IPA's statistics, as the scene's average would.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from . import optics, spectral
from .scenes import Scene

DEFAULT_SHAKE_PX = 3.0
DEFAULT_OBJECTS = 2
_ROTATION_PER_PX = math.radians(0.02)


@dataclass(frozen=True)
class Shake:
    """The camera's pose over time: translation (dx, dy) in pixel-array pixels and rotation in radians."""

    step_px: float
    seed: int = 0

    def _terms(self):
        rng = np.random.default_rng([self.seed, 0x5A4E])
        f = np.exp(rng.uniform(np.log(0.5), np.log(8.0), size=(3, 6)))
        amp = 1.0 / f
        phase = rng.uniform(0, 2 * np.pi, size=(3, 6))
        # Scale each axis so that the RMS change over 100 ms is step/sqrt(2) (step in 2-D), rotation likewise.
        spread = np.sqrt(np.sum(amp**2 * 2.0 * np.sin(np.pi * f * 0.1) ** 2, axis=1))
        target = np.array([self.step_px / math.sqrt(2)] * 2 + [self.step_px * _ROTATION_PER_PX])
        return f, amp * (target / spread)[:, None], phase

    def pose(self, t_s: float) -> tuple[float, float, float]:
        f, amp, phase = self._cached_terms
        v = np.sum(amp * np.sin(2 * np.pi * f * t_s + phase), axis=1)
        return float(v[0]), float(v[1]), float(v[2])

    @property
    def bound(self) -> tuple[float, float]:
        """Largest |translation| (pixels) and |rotation| (radians) the pose can ever reach."""
        _, amp, _ = self._cached_terms
        s = amp.sum(axis=1)
        return float(max(s[0], s[1])), float(s[2])

    @property
    def _cached_terms(self):
        terms = self.__dict__.get("_t")
        if terms is None:
            terms = self._terms()
            object.__setattr__(self, "_t", terms)
        return terms


@dataclass(frozen=True)
class MovingObject:
    box: bool  # a box, else a disc
    x0: float  # centre at t = 0, array fractions
    y0: float
    vx: float  # array widths per second
    vy: float
    rx: float  # half width, array widths; half height is ``ry`` array widths too (shapes are not stretched)
    ry: float
    colour: int  # row of the object reflectances

    def centre(self, t_s: float) -> tuple[float, float]:
        span = 1.0 + 4 * max(self.rx, self.ry)  # leave the frame fully before coming back in
        x = (self.x0 + self.vx * t_s + 2 * self.rx) % span - 2 * self.rx
        return x, self.y0 + self.vy * math.sin(0.7 * t_s)


def _objects(n: int, seed: int) -> tuple[list[MovingObject], np.ndarray]:
    rng = np.random.default_rng([seed, 0x0B7])
    objs = []
    for i in range(n):
        r = rng.uniform(0.04, 0.08)
        objs.append(MovingObject(box=bool(i % 2), x0=rng.uniform(0, 1), y0=rng.uniform(0.25, 0.75),
                                 vx=rng.choice([-1, 1]) * rng.uniform(0.15, 0.45), vy=rng.uniform(-0.02, 0.02),
                                 rx=r, ry=r * rng.uniform(0.6, 1.4), colour=i))
    srgb = rng.uniform(0.15, 0.9, size=(max(n, 1), 3)) ** 2.2
    return objs, np.clip(srgb @ spectral.srgb_basis(), 0.0, 1.0)


class Dynamic(Scene):
    """``base`` seen by a shaking camera, with objects moving in front of it."""

    def __init__(self, base: Scene, array_size: tuple[int, int], seed: int = 0, shake_px: float = 0.0,
                 objects: int = 0):
        self.base = base
        self.aw, self.ah = array_size
        self.shake = Shake(shake_px, seed)
        self.objects, self._obj_refl = _objects(objects, seed)
        self.name = base.name + (f"+shake={shake_px:g}" if shake_px else "") + (f"+objects={objects}" if objects else "")
        self._k = len(base.reflectances())
        self._cache: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    def reflectances(self):
        return np.vstack([self.base.reflectances(), self._obj_refl])

    def plane(self, response, xs, ys):
        return self.base.plane(np.asarray(response)[:self._k], xs, ys)

    def patches(self, xs, ys):
        return self.base.patches(xs, ys)

    def __getattr__(self, name):  # measurement helpers of the base (``step_luminance`` ...)
        if name.startswith("_") or name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)

    # -- rendering --------------------------------------------------------------------------------------------
    def _planes(self, model, mode, lighting):
        """Each channel's blurred, unshaded scene on the mode's grid padded by a margin, and the site shading."""
        key = (model, mode, lighting)  # models compare by identity
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                return hit
            w, h = mode.size
            cx, cy, cw, ch = mode.crop
            px = cw / w  # array pixels per mode pixel
            tb, rb = self.shake.bound
            margin = int(math.ceil((tb + rb * math.hypot(self.aw, self.ah) / 2) / px)) + 4
            xs = (cx + (np.arange(-margin, w + margin) + 0.5) * px) / self.aw
            ys = (cy + (np.arange(-margin, h + margin) + 0.5) * ch / h) / self.ah
            resp = model.camera.responses(self.reflectances(), lighting) * model.white_electrons_1000lux_10ms
            sigma = optics.blur_sigma(model, mode)
            planes = []
            for c in range(3):
                p = self.plane(resp[:, c], xs, ys)
                planes.append(cv2.GaussianBlur(p, (0, 0), sigma) if sigma > 0.05 else p)
            shading = {(sy, sx): [optics.shading_plane(model, mode, lighting, c)[sy::2, sx::2] for c in range(3)]
                       for sy in (0, 1) for sx in (0, 1)}
            if len(self._cache) >= 3:
                self._cache.pop(next(iter(self._cache)))
            hit = self._cache[key] = (planes, shading, margin, resp[self._k:].astype(np.float32), sigma)
            return hit

    def _to_scene(self, mode, t_s: float, sy: int, sx: int) -> np.ndarray:
        """3x3 affine: a pixel (col, row) of one CFA site's grid -> the scene point it sees, in array pixels."""
        w, h = mode.size
        cx, cy, cw, ch = mode.crop
        site = np.array([[2.0, 0, sx + 0.5], [0, 2.0, sy + 0.5], [0, 0, 1]])
        to_array = np.array([[cw / w, 0, cx], [0, ch / h, cy], [0, 0, 1]])
        dx, dy, th = self.shake.pose(t_s)
        c, s = math.cos(-th), math.sin(-th)
        ox, oy = self.aw / 2, self.ah / 2
        unpose = (np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]]) @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
                  @ np.array([[1, 0, -ox - dx], [0, 1, -oy - dy], [0, 0, 1]]))
        return unpose @ to_array @ site

    def plane_shift(self, mode, reference_ns: int, timestamp_ns: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Where the scene point at Bayer-plane pixel (ys, xs) of the frame at ``reference_ns`` appears in the
        frame at ``timestamp_ns``, as a displacement (n, 2) = (dy, dx) in plane pixels: the true alignment."""
        ref = self._to_scene(mode, reference_ns / 1e9, 0, 0)
        other = self._to_scene(mode, timestamp_ns / 1e9, 0, 0)
        pts = np.stack([np.asarray(xs, float), np.asarray(ys, float), np.ones(len(xs))])
        q = np.linalg.inv(other) @ ref @ pts
        return np.stack([q[1] - pts[1], q[0] - pts[0]], axis=1)

    def mosaic_at(self, model, mode, lighting, timestamp_ns: int, objects_ns: int | None = None) -> np.ndarray:
        """Electrons per photosite in 10 ms at gain 1 (as ``Signal.mosaic``) at ``timestamp_ns``'s pose, with
        the objects where they are at ``objects_ns`` (default the same time)."""
        planes, shading, margin, obj_resp, sigma = self._planes(model, mode, lighting)
        w, h = mode.size
        cx, cy, cw, ch = mode.crop
        from_array = np.array([[w / cw, 0, -cx * w / cw - 0.5 + margin], [0, h / ch, -cy * h / ch - 0.5 + margin],
                               [0, 0, 1]])
        t_s = timestamp_ns / 1e9
        to = t_s if objects_ns is None else objects_ns / 1e9
        cfa = _cfa_channels(model.info.cfa)
        out = np.empty((h, w), np.float32)
        for (sy, sx), chan in cfa.items():
            m = self._to_scene(mode, t_s, sy, sx)
            site = cv2.warpAffine(planes[chan], (from_array @ m)[:2], (w // 2, h // 2),
                                  flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
            np.maximum(site, 0.0, out=site)  # cubic interpolation rings below zero at hard edges
            self._paint_objects(site, m, to, obj_resp[:, chan], sigma * cw / w)
            site *= shading[(sy, sx)][chan]
            out[sy::2, sx::2] = site
        out *= mode.binning**2
        return out

    def _paint_objects(self, site: np.ndarray, m: np.ndarray, t_s: float, resp: np.ndarray, blur_px: float):
        if not self.objects:
            return
        hh, ww = site.shape
        cols, rows = np.arange(ww, dtype=np.float64), np.arange(hh, dtype=np.float64)
        inv = np.linalg.inv(m)
        soft = max(blur_px, 0.5)
        for obj in self.objects:
            ox, oy = obj.centre(t_s)
            ox, oy, rx, ry = ox * self.aw, oy * self.ah, obj.rx * self.aw, obj.ry * self.aw
            # The object's bounding box on this site grid (the pose barely rotates, so a margin covers it).
            corners = inv @ np.array([[ox - rx, ox + rx, ox - rx, ox + rx], [oy - ry, oy - ry, oy + ry, oy + ry],
                                      [1, 1, 1, 1]])
            c0, c1 = int(max(corners[0].min() - 3, 0)), int(min(corners[0].max() + 4, ww))
            r0, r1 = int(max(corners[1].min() - 3, 0)), int(min(corners[1].max() + 4, hh))
            if c0 >= c1 or r0 >= r1:
                continue
            gx, gy = np.meshgrid(cols[c0:c1], rows[r0:r1])
            px = m[0, 0] * gx + m[0, 1] * gy + m[0, 2] - ox
            py = m[1, 0] * gx + m[1, 1] * gy + m[1, 2] - oy
            if obj.box:
                dist = np.maximum(np.abs(px) - rx, np.abs(py) - ry)
            else:
                dist = (np.hypot(px / rx, py / ry) - 1.0) * min(rx, ry)
            cover = np.clip(0.5 - dist / (2 * soft), 0.0, 1.0).astype(np.float32)
            patch = site[r0:r1, c0:c1]
            patch += cover * (np.float32(resp[obj.colour]) - patch)


def _cfa_channels(cfa: str) -> dict[tuple[int, int], int]:
    index = {"R": 0, "G": 1, "B": 2}
    return {divmod(i, 2): index[ch] for i, ch in enumerate(cfa)}


def make_dynamic(spec: str, array_size: tuple[int, int], seed: int, make_base) -> Dynamic:
    """``BASE+shake[=PX]+objects[=N]`` -> a ``Dynamic`` scene around ``make_base(BASE, ...)``."""
    base, *options = spec.split("+")
    shake, objects = 0.0, 0
    for opt in options:
        key, _, value = opt.partition("=")
        try:
            if key == "shake":
                shake = float(value) if value else DEFAULT_SHAKE_PX
                if not 0 < shake <= 100:
                    raise ValueError
            elif key == "objects":
                objects = int(value) if value else DEFAULT_OBJECTS
                if not 0 < objects <= 16:
                    raise ValueError
            else:
                raise KeyError(key)
        except KeyError:
            raise ValueError(f"scene {spec!r}: unknown option {opt!r} (options: shake[=PX], objects[=N])") from None
        except ValueError:
            raise ValueError(f"scene {spec!r}: {opt!r} needs shake=0..100 pixels or objects=1..16") from None
    return Dynamic(make_base(base, array_size, seed), array_size, seed, shake, objects)


def truth_dn(renderer, mode, lighting, exposure_us: float, gain: float, timestamp_ns: int,
             objects_ns: int | None = None) -> np.ndarray:
    """The noise-free frame (h, w) float32 in DN above black, clipped at full well and at white: what the
    sensor would read out without shot, read or hot-pixel noise and without quantisation."""
    from .render import SIGNAL_EXPOSURE_US, mode_levels

    scene = renderer.scene
    if isinstance(scene, Dynamic):
        mosaic = scene.mosaic_at(renderer.model, mode, lighting, timestamp_ns, objects_ns)
    else:
        mosaic = renderer.signal(mode, lighting).mosaic
    lv = mode_levels(renderer.model, mode)
    e = np.minimum(mosaic * np.float32(exposure_us / SIGNAL_EXPOSURE_US), np.float32(lv.full_well_e))
    dn = e * np.float32(lv.dn_per_electron * gain)
    return np.minimum(dn, np.float32(lv.white - lv.black))


def moving_mask(renderer, mode, lighting, timestamps_ns, reference_ns: int, threshold: float = 0.02) -> np.ndarray:
    """Where objects move during a burst, in the reference frame's view (h, w) bool: the pixels whose truth at
    the reference's pose changes by more than ``threshold`` (relative) with the objects at any frame's time."""
    scene = renderer.scene
    if not isinstance(scene, Dynamic) or not scene.objects:
        return np.zeros(mode.size[::-1], bool)
    ref = scene.mosaic_at(renderer.model, mode, lighting, reference_ns)
    mask = np.zeros(ref.shape, bool)
    for t in timestamps_ns:
        other = scene.mosaic_at(renderer.model, mode, lighting, reference_ns, objects_ns=t)
        mask |= np.abs(other - ref) > threshold * np.maximum(ref, 1e-3 * float(ref.max()))
    return cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
