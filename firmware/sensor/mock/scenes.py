"""What the mock camera looks at: spectral scenes laid out on the sensor's pixel array.

A scene turns a column of camera responses (one per reflectance it uses, for one colour channel) into an image
plane sampled at a mode's pixel centres. Coordinates are fractions of the pixel array (X across, Y down), so
every mode - full, binned, cropped - sees the same scene through its own window.

Scenes: ``colorchecker`` (X-Rite layout, 24 measured reflectances), ``flat`` (a uniform diffuser for lens
shading), ``slanted-edge`` (5 degrees, for MTF), ``dead-leaves`` (occluding disks, a texture with natural
statistics), ``zone-plate`` (concentric rings sweeping up to the pixel Nyquist frequency, for demosaic
aliasing), ``high-contrast`` (a dark room with a window, a lamp and a chart: highlights and shadows at once)
and ``natural[:NAME]`` (a photograph shipped with scikit-image, lifted to spectra). ``scene_check.py`` says
whether a name is a scene that renders, cheaply, for start-up checks.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from . import spectral

NATURAL_IMAGES = ("coffee", "astronaut", "chelsea", "rocket", "motorcycle_left", "retina")


@dataclass(frozen=True)
class Patch:
    """A ColorChecker patch's sampling rectangle in a mode's pixel coordinates (inside the patch's border)."""

    index: int
    name: str
    x: int
    y: int
    width: int
    height: int

    def as_dict(self) -> dict:
        return {"index": self.index, "name": self.name, "x": self.x, "y": self.y,
                "width": self.width, "height": self.height}


class Scene:
    name = "scene"

    def reflectances(self) -> np.ndarray:
        """The (K, N) reflectances this scene is made of."""
        raise NotImplementedError

    def plane(self, response: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """One channel's image, (len(ys), len(xs)) float32, from per-reflectance responses (K,)."""
        raise NotImplementedError

    def patches(self, xs: np.ndarray, ys: np.ndarray) -> list[Patch] | None:
        return None


class _Labelled(Scene):
    """A scene whose every pixel shows exactly one of its reflectances."""

    def labels(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def plane(self, response, xs, ys):
        return np.asarray(response, dtype=np.float32)[self._labels_cached(xs.tobytes(), ys.tobytes())]

    @functools.lru_cache(maxsize=4)
    def _labels_cached(self, xb: bytes, yb: bytes) -> np.ndarray:
        return self.labels(np.frombuffer(xb), np.frombuffer(yb))


def _flat(value: float) -> np.ndarray:
    return np.full(len(spectral.WAVELENGTHS), value)


class ColorChecker(_Labelled):
    """The 24-patch chart (6 x 4) in front of a neutral grey wall.

    Patch side s, gap s/4, chart border s/2; the chart spans 62 % of the array width, centred.
    """

    name = "colorchecker"
    WALL = 0.18
    FRAME = 0.035

    def __init__(self, aspect: float):
        self.aspect = aspect  # array width / height, so patches are square on the sensor
        self.names, refl = spectral.colorchecker_reflectances()
        self._refl = np.vstack([refl, _flat(self.FRAME), _flat(self.WALL)])
        s = 0.62 / 8.25
        self.side_x, self.side_y = s, s * aspect
        self.x0 = 0.5 - 4.125 * self.side_x  # chart is 8.25 sides wide and 5.75 high
        self.y0 = 0.5 - 2.875 * self.side_y

    def reflectances(self):
        return self._refl

    def _axis(self, coords, origin, side, count):
        t = (coords - origin - 0.5 * side) / (1.25 * side)
        cell = np.floor(t).astype(np.int64)
        frac = t - cell
        inside = (cell >= 0) & (cell < count) & (frac < 0.8)
        in_chart = (coords >= origin) & (coords <= origin + (1.25 * count + 0.75) * side)
        return cell, inside, in_chart

    def labels(self, xs, ys):
        col, in_x, chart_x = self._axis(xs, self.x0, self.side_x, 6)
        row, in_y, chart_y = self._axis(ys, self.y0, self.side_y, 4)
        lab = np.full((len(ys), len(xs)), 25, dtype=np.uint8)
        lab[np.ix_(chart_y, chart_x)] = 24
        patch = (row[:, None] * 6 + col[None, :]).astype(np.uint8)
        mask = in_y[:, None] & in_x[None, :]
        lab[mask] = patch[mask]
        return lab

    def patches(self, xs, ys):
        out = []
        for i, name in enumerate(self.names):
            r, c = divmod(i, 6)
            # Central 60 % of the patch: away from its edges, which the lens blurs.
            px0 = self.x0 + self.side_x * (0.5 + 1.25 * c + 0.2)
            py0 = self.y0 + self.side_y * (0.5 + 1.25 * r + 0.2)
            cols = np.nonzero((xs >= px0) & (xs <= px0 + 0.6 * self.side_x))[0]
            rows = np.nonzero((ys >= py0) & (ys <= py0 + 0.6 * self.side_y))[0]
            if len(cols) < 2 or len(rows) < 2:
                continue  # outside this mode's crop
            out.append(Patch(i, name, int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1),
                             int(rows[-1] - rows[0] + 1)))
        return out


class Flat(_Labelled):
    """A uniformly lit diffuser: what a tuning engineer holds over the lens to measure shading."""

    name = "flat"

    def reflectances(self):
        return _flat(0.9)[None, :]

    def labels(self, xs, ys):
        return np.zeros((len(ys), len(xs)), dtype=np.uint8)


class SlantedEdge(Scene):
    """A dark/light edge 5 degrees off vertical through the centre (ISO 12233), anti-aliased analytically."""

    name = "slanted-edge"
    ANGLE = math.radians(5.0)

    def __init__(self, array_size: tuple[int, int]):
        self.aw, self.ah = array_size

    def reflectances(self):
        return np.vstack([_flat(0.08), _flat(0.72)])

    def plane(self, response, xs, ys):
        # Signed distance from the edge in the mode's pixels; coverage of a pixel-wide box across the edge.
        px = xs[1] - xs[0] if len(xs) > 1 else 1.0 / self.aw
        k = math.cos(self.ANGLE) / (px * self.aw)
        across = ((xs - 0.5) * self.aw * k).astype(np.float32)
        down = (math.tan(self.ANGLE) * (ys - 0.5) * self.ah * k - 0.5).astype(np.float32)
        a = np.subtract(across[None, :], down[:, None])
        np.clip(a, 0.0, 1.0, out=a)
        lo, hi = np.float32(response[0]), np.float32(response[1])
        a *= hi - lo
        a += lo
        return a


class DeadLeaves(_Labelled):
    """Occluding disks with radii drawn from a 1/r^3 law: scale-invariant texture, like natural images."""

    name = "dead-leaves"
    COLOURS = 48

    def __init__(self, array_size: tuple[int, int], seed: int = 0):
        self.aw, self.ah = array_size
        rng = np.random.default_rng([seed, 0xDEAD])
        srgb = rng.uniform(0.03, 0.95, size=(self.COLOURS, 3)) ** 2.2
        self._refl = np.clip(srgb @ spectral.srgb_basis(), 0.0, 1.0)
        n = 6000
        rmin, rmax = 0.004, 0.12  # fractions of the array width
        u = rng.uniform(size=n)
        # Inverse CDF of p(r) ~ r^-3 on [rmin, rmax].
        self.radii = 1.0 / np.sqrt(1.0 / rmin**2 - u * (1.0 / rmin**2 - 1.0 / rmax**2))
        self.centres = rng.uniform(-0.1, 1.1, size=(n, 2))
        self.colours = rng.integers(0, self.COLOURS, size=n)

    def reflectances(self):
        return self._refl

    def labels(self, xs, ys):
        w, h = len(xs), len(ys)
        # The mode's window onto the array, in array fractions, to map disks into its pixels.
        sx = (w - 1) / (xs[-1] - xs[0]) if w > 1 else 1.0
        sy = (h - 1) / (ys[-1] - ys[0]) if h > 1 else 1.0
        lab = np.zeros((h, w), dtype=np.uint8)
        aspect = self.aw / self.ah
        for (cx, cy), r, c in zip(self.centres, self.radii, self.colours):
            x = (cx - xs[0]) * sx
            y = (cy - ys[0]) * sy
            rad = r * sx
            if x + rad < 0 or y + rad * aspect < 0 or x - rad > w or y - rad * aspect > h:
                continue
            cv2.ellipse(lab, (int(round(x)), int(round(y))), (max(1, int(round(rad))), max(1, int(round(r * aspect * sy)))),
                        0, 0, 360, int(c), -1, lineType=cv2.LINE_8)
        return lab


class Natural(Scene):
    """A photograph from scikit-image's bundled data, lifted to reflectance spectra.

    sRGB is linearised and each pixel becomes ``r*B0 + g*B1 + b*B2`` with the Mallett-Yuksel basis, which
    reproduces the pixel's colour under D65 and gives smooth, physically bounded spectra.
    """

    def __init__(self, image: str, array_size: tuple[int, int]):
        if image not in NATURAL_IMAGES:
            raise ValueError(f"natural image {image!r} is not known (images: {', '.join(NATURAL_IMAGES)})")
        self.name = f"natural:{image}"
        self.image = image
        self.aw, self.ah = array_size

    def reflectances(self):
        return spectral.srgb_basis()

    @functools.cached_property
    def _linear(self) -> np.ndarray:
        import skimage

        path = Path(skimage.__file__).parent / "data" / f"{self.image}.png"
        if not path.exists():
            path = path.with_suffix(".jpg")
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError(f"scikit-image does not ship {path.name} here")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        # Centre-crop the photo to the pixel array's aspect ratio.
        h, w = lin.shape[:2]
        target = self.aw / self.ah
        if w / h > target:
            cw = int(round(h * target))
            lin = lin[:, (w - cw) // 2:(w - cw) // 2 + cw]
        else:
            ch = int(round(w / target))
            lin = lin[(h - ch) // 2:(h - ch) // 2 + ch]
        return np.ascontiguousarray(lin, dtype=np.float32)

    def plane(self, response, xs, ys):
        lin = self._linear
        h0, w0 = lin.shape[:2]
        img = lin @ np.asarray(response, dtype=np.float32)
        # The mode's pixel centres are evenly spaced in the photo, so one affine warp samples them all.
        x0, y0 = xs[0] * w0 - 0.5, ys[0] * h0 - 0.5
        dx = (xs[-1] - xs[0]) * w0 / max(len(xs) - 1, 1)
        dy = (ys[-1] - ys[0]) * h0 / max(len(ys) - 1, 1)
        m = np.array([[dx, 0.0, x0], [0.0, dy, y0]])
        out = cv2.warpAffine(img, m, (len(xs), len(ys)), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REFLECT)
        # Cubic interpolation rings below zero beside dark edges when it enlarges the photo; light cannot be
        # negative (and the sensor's Poisson draw refuses it), so the rings are cut off at black.
        return np.maximum(out, 0.0, out=out)


class ZonePlate(Scene):
    """Concentric rings whose frequency rises linearly from the centre to 0.5 cycles per pixel-array pixel.

    The rings are drawn as the pixels see them: each ring's contrast is cut by the pixel aperture's response
    at its frequency (a mode's own pitch), and rings a mode's pixels cannot resolve fade to the mean, so the
    pattern is free of aliasing from the scene itself; what aliasing shows is the mosaic's and the demosaic's.
    """

    name = "zone-plate"
    RADIUS = 0.48  # of the array height: where the frequency reaches 0.5 cycles per array pixel

    def __init__(self, array_size: tuple[int, int]):
        self.aw, self.ah = array_size

    def reflectances(self):
        return np.vstack([_flat(0.06), _flat(0.72)])

    def plane(self, response, xs, ys):
        pitch = (xs[1] - xs[0]) * self.aw if len(xs) > 1 else self.aw  # array pixels per mode pixel
        x = ((xs - 0.5) * self.aw).astype(np.float32)
        y = ((ys - 0.5) * self.ah).astype(np.float32)
        r2 = x[None, :] ** 2 + y[:, None] ** 2
        radius = np.float32(self.RADIUS * self.ah)
        freq = np.sqrt(r2) * np.float32(0.5 / radius)  # cycles per array pixel
        cycles = freq * np.float32(pitch)  # cycles per mode pixel
        # A box aperture's response ~ a Gaussian of its standard deviation (pitch / sqrt 12); past the mode's
        # Nyquist frequency the rings fade out over a tenth of a cycle per pixel.
        gain = np.exp(np.float32(-2 * math.pi**2 / 12) * cycles**2)
        gain *= np.clip((np.float32(0.6) - cycles) * 10, 0, 1)
        gain[r2 > radius**2] = 0
        wave = np.cos(np.float32(math.pi * 0.5) / radius * r2)
        lo, hi = np.float32(response[0]), np.float32(response[1])
        wave *= gain * np.float32(0.5) * (hi - lo)
        wave += np.float32(0.5) * (hi + lo)
        return wave


def _srgb_reflectance(rgb, scale: float = 1.0) -> np.ndarray:
    """A smooth spectrum with this linear-sRGB colour under D65, times ``scale`` (above 1: a light source)."""
    return np.asarray(rgb, dtype=float) @ spectral.srgb_basis() * scale


class HighContrast(_Labelled):
    """A dim room with a window onto a bright sky and a sunlit cloud, a warm lamp and a small chart.

    Luminance spans about 9 stops: the cloud sits 3.7 stops above a white wall, so it clips in every channel;
    the sky and the lamp are bright and coloured, so one channel clips before the others (the lamp's red,
    the sky's blue) - the cases highlight reconstruction must turn neither magenta nor salmon. The chart
    (white, grey, black, red, green, blue, skin) and a shadowed floor carry the shadows and the colour.
    """

    name = "high-contrast"
    # Label: (linear sRGB colour, scale).
    PARTS = (((0.05, 0.045, 0.04), 1.0),  # 0 the room's wall, in shade
             ((0.02, 0.018, 0.016), 1.0),  # 1 the floor, darker
             ((0.30, 0.42, 0.80), 3.5),  # 2 the sky through the window
             ((0.9, 0.9, 0.9), 12.0),  # 3 a sunlit cloud
             ((0.03, 0.03, 0.03), 1.0),  # 4 the window's frame and mullions
             ((0.95, 0.55, 0.18), 4.0),  # 5 the lamp's shade, lit from inside
             ((0.90, 0.90, 0.90), 1.0),  # 6.. the chart: white, grey, black, red, green, blue, skin
             ((0.18, 0.18, 0.18), 1.0), ((0.03, 0.03, 0.03), 1.0), ((0.45, 0.05, 0.05), 1.0),
             ((0.07, 0.30, 0.08), 1.0), ((0.05, 0.07, 0.35), 1.0), ((0.45, 0.25, 0.17), 1.0))

    def __init__(self, array_size: tuple[int, int]):
        self.aw, self.ah = array_size
        self._refl = np.clip(np.vstack([_srgb_reflectance(c, k) for c, k in self.PARTS]), 0.0, None)

    def reflectances(self):
        return self._refl

    def labels(self, xs, ys):
        x, y = xs[None, :], ys[:, None]
        lab = np.zeros((len(ys), len(xs)), np.uint8)
        lab[np.broadcast_to(y > 0.72, lab.shape)] = 1

        def box(x0, y0, x1, y1):
            return (x >= x0) & (x < x1) & (y >= y0) & (y < y1)

        lab[box(0.06, 0.08, 0.42, 0.58)] = 4
        lab[box(0.08, 0.11, 0.40, 0.55)] = 2
        lab[((x - 0.17) / 0.07) ** 2 + ((y - 0.25) / 0.06) ** 2 < 1] = 3  # the cloud, an ellipse
        lab[box(0.235, 0.11, 0.245, 0.55) | box(0.08, 0.325, 0.40, 0.335)] = 4
        lx, ly = (x - 0.72) * self.aw, (y - 0.33) * self.ah
        lab[lx**2 + ly**2 < (0.06 * self.aw) ** 2] = 5
        for i in range(7):  # the chart on the floor: seven patches in a row
            lab[box(0.50 + i * 0.065, 0.78, 0.555 + i * 0.065, 0.86)] = 6 + i
        return lab


SCENES = ("colorchecker", "flat", "slanted-edge", "dead-leaves", "zone-plate", "high-contrast", "natural", "hdr-window",
          "night-street")


def make_scene(name: str, array_size: tuple[int, int], seed: int = 0) -> Scene:
    """Build a scene by name: one of ``SCENES``, natural with ``:IMAGE``; ``+shake[=PX]`` / ``+objects[=N]``
    make any of them move."""
    if "+" in name:  # BASE+shake[=PX]+objects[=N]: a scene that moves (motion.py)
        from .motion import make_dynamic
        return make_dynamic(name, array_size, seed, make_scene)
    aspect = array_size[0] / array_size[1]
    base, _, arg = name.partition(":")
    if base == "colorchecker":
        return ColorChecker(aspect)
    if base == "flat":
        return Flat()
    if base == "slanted-edge":
        return SlantedEdge(array_size)
    if base == "dead-leaves":
        return DeadLeaves(array_size, seed)
    if base == "zone-plate":
        return ZonePlate(array_size)
    if base == "high-contrast":
        return HighContrast(array_size)
    if base == "natural":
        return Natural(arg or "coffee", array_size)
    if base in ("hdr-window", "night-street"):  # multi-frame merge scenes with step wedges (hdr_scenes.py)
        from .hdr_scenes import make_hdr_scene
        return make_hdr_scene(base, array_size, seed)
    raise ValueError(f"unknown scene {name!r} (scenes: {', '.join(SCENES)}; natural:IMAGE with IMAGE one of "
                     f"{', '.join(NATURAL_IMAGES)}; +shake[=PX] and +objects[=N] add motion)")
