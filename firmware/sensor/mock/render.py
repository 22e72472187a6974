"""Turn a scene, a light and a set of exposure controls into the raw Bayer frame the sensor would read out.

The expensive, exposure-independent part - spectra to camera response, lens shading and blur, mosaicking -
is computed once per (mode, lighting) and cached as the *signal*: electrons each photosite collects in 10 ms
at gain 1. A frame is then that signal scaled by its exposure, with shot noise (Poisson), read noise
(Gaussian, growing with analogue gain), hot pixels, black level, quantisation and clipping. The noise is
drawn from a generator seeded with (seed, SensorTimestamp), so a frame is a pure function of its inputs:
rendering the same timestamp twice gives the same pixels.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from ..protocol import SensorMode
from . import optics, spectral
from .models import SensorModel
from .scenes import Scene

# Channel (0 R, 1 G, 2 B) at the four sites of the 2x2 CFA block: (0,0), (0,1), (1,0), (1,1).
CFA_SITES = {"RGGB": (0, 1, 1, 2), "BGGR": (2, 1, 1, 0), "GRBG": (1, 0, 2, 1), "GBRG": (1, 2, 0, 1)}
ZONES = (16, 12)  # statistics grid, as the VC4 ISP's AWB regions
SIGNAL_EXPOSURE_US = 10_000
# Below this many electrons the Gaussian approximation of Poisson noise is visibly wrong; draw exactly.
_POISSON_EXACT_BELOW = 30.0


@dataclass(frozen=True)
class Levels:
    """How electrons become numbers in one mode."""

    bit_depth: int
    black: int
    white: int
    dn_per_electron: float  # at analogue gain 1
    read_pre_dn: float
    read_post_dn: float
    full_well_e: float

    def read_noise_dn(self, gain: float) -> float:
        return float(np.hypot(self.read_pre_dn * gain, self.read_post_dn))

    def variance_dn(self, signal_dn, gain: float):
        """Expected variance of a pixel with mean ``signal_dn`` above black (the model tests check against)."""
        return self.dn_per_electron * gain * np.asarray(signal_dn) + self.read_noise_dn(gain) ** 2


def mode_levels(model: SensorModel, mode: SensorMode) -> Levels:
    scale = 2.0 ** (mode.bit_depth - model.bit_depth)
    # Binned modes average n photosites: n times the charge per output pixel, 1/n the conversion gain,
    # and read noise averaged down by sqrt(n).
    n = mode.binning**2
    nz = model.noise
    return Levels(
        bit_depth=mode.bit_depth,
        black=model.info.black_level_16 >> (16 - mode.bit_depth),
        white=(1 << mode.bit_depth) - 1,
        dn_per_electron=nz.dn_per_electron * scale / n,
        read_pre_dn=nz.read_pre_dn * scale / np.sqrt(n),
        read_post_dn=nz.read_post_dn * scale / np.sqrt(n),
        full_well_e=nz.full_well_e * n,
    )


@dataclass(frozen=True)
class Signal:
    """Noise-free electrons per photosite in ``SIGNAL_EXPOSURE_US`` at gain 1, and its zone statistics."""

    mosaic: np.ndarray  # (h, w) float32, read-only
    zones: np.ndarray  # (12, 16, 3) mean electrons per zone and channel
    green_mean: float  # mean green electrons over the frame (what rpi.lux meters)


class Renderer:
    def __init__(self, model: SensorModel, scene: Scene, seed: int = 0, hot_pixels: int = 16):
        self.model = model
        self.scene = scene
        self.seed = seed
        self._hot = self._hot_pixel_table(hot_pixels)
        self._cache: dict[tuple, Signal] = {}
        self._lock = threading.Lock()

    def _hot_pixel_table(self, count: int):
        rng = np.random.default_rng([self.seed, 0x407])
        aw, ah = self.model.info.pixel_array_size
        xy = np.stack([rng.integers(0, aw, count), rng.integers(0, ah, count)], axis=1)
        # Dark-current rate in DN per second at gain 1 (sensor bit depth): tens to hundreds of DN per 10 ms.
        rate = rng.uniform(2_000.0, 40_000.0, count)
        return xy, rate

    def sample_grid(self, mode: SensorMode) -> tuple[np.ndarray, np.ndarray]:
        """Pixel centres of ``mode`` as fractions of the pixel array (X per column, Y per row)."""
        aw, ah = self.model.info.pixel_array_size
        cx, cy, cw, ch = mode.crop
        w, h = mode.size
        return (cx + (np.arange(w) + 0.5) * cw / w) / aw, (cy + (np.arange(h) + 0.5) * ch / h) / ah

    def signal(self, mode: SensorMode, lighting: spectral.Lighting) -> Signal:
        key = (mode, lighting)
        with self._lock:
            sig = self._cache.get(key)
            if sig is None:
                sig = self._compute_signal(mode, lighting)
                # Two entries: the current light and the one before (a calibration run flips between them).
                if len(self._cache) >= 2:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = sig
            return sig

    def cached_bytes(self) -> int:
        """Memory held by the cached noise-free signals: the mock's own, which a real sensor does not have."""
        with self._lock:
            return sum(sig.mosaic.nbytes for sig in self._cache.values())

    def _compute_signal(self, mode: SensorMode, lighting: spectral.Lighting) -> Signal:
        xs, ys = self.sample_grid(mode)
        w, h = mode.size
        resp = self.model.camera.responses(self.scene.reflectances(), lighting) * self.model.white_electrons_1000lux_10ms
        sites = CFA_SITES[self.model.info.cfa]
        sigma = optics.blur_sigma(self.model, mode)
        mosaic = np.empty((h, w), dtype=np.float32)
        zones = np.empty((ZONES[1], ZONES[0], 3))
        for c in range(3):
            plane = self.scene.plane(resp[:, c], xs, ys)
            plane *= optics.shading_plane(self.model, mode, lighting, c)
            if sigma > 0.05:
                plane = cv2.GaussianBlur(plane, (0, 0), sigma)
            zones[:, :, c] = cv2.resize(plane, ZONES, interpolation=cv2.INTER_AREA)
            for i, site in enumerate(sites):
                if site == c:
                    dy, dx = divmod(i, 2)
                    mosaic[dy::2, dx::2] = plane[dy::2, dx::2]
        mosaic *= mode.binning**2
        zones *= mode.binning**2
        mosaic.flags.writeable = False
        return Signal(mosaic=mosaic, zones=zones, green_mean=float(zones[:, :, 1].mean()))

    def render(self, mode: SensorMode, lighting: spectral.Lighting, exposure_us: float, gain: float,
               timestamp_ns: int) -> np.ndarray:
        """The raw frame (h, w) uint16 in the mode's bit depth, black level included."""
        lv = mode_levels(self.model, mode)
        sig = self.signal(mode, lighting)
        # A moving scene (motion.py: hand shake, moving objects) renders each timestamp's own view.
        moving = getattr(self.scene, "mosaic_at", None)
        mosaic = sig.mosaic if moving is None else moving(self.model, mode, lighting, timestamp_ns)
        e = mosaic * np.float32(exposure_us / SIGNAL_EXPOSURE_US)
        np.minimum(e, np.float32(lv.full_well_e), out=e)
        rng = np.random.default_rng([self.seed, timestamp_ns & 0xFFFFFFFF, timestamp_ns >> 32])
        noise = rng.standard_normal(e.shape, dtype=np.float32)
        k = np.float32(lv.dn_per_electron * gain)
        read = np.float32(lv.read_noise_dn(gain))
        # Shot and read noise together as one Gaussian with the summed variance where Poisson is near-normal.
        std = e * (k * k)
        std += read * read
        np.sqrt(std, out=std)
        noise *= std
        dn = e * k
        dn += noise
        low = e < _POISSON_EXACT_BELOW
        if low.any():
            n_low = noise[low] / std[low] * read
            dn[low] = rng.poisson(e[low]).astype(np.float32) * k + n_low
        self._add_hot_pixels(dn, mode, exposure_us, gain, lv)
        dn += np.float32(lv.black)
        np.clip(dn, 0, lv.white, out=dn)
        np.rint(dn, out=dn)
        return dn.astype(np.uint16)

    def _add_hot_pixels(self, dn: np.ndarray, mode: SensorMode, exposure_us: float, gain: float, lv: Levels):
        xy, rate = self._hot
        if not len(rate):
            return
        cx, cy, cw, ch = mode.crop
        inside = (xy[:, 0] >= cx) & (xy[:, 0] < cx + cw) & (xy[:, 1] >= cy) & (xy[:, 1] < cy + ch)
        px = ((xy[inside, 0] - cx) * mode.size[0]) // cw
        py = ((xy[inside, 1] - cy) * mode.size[1]) // ch
        scale = 2.0 ** (mode.bit_depth - self.model.bit_depth)
        dn[py, px] += (rate[inside] * exposure_us * 1e-6 * gain * scale).astype(np.float32)

    def patches(self, mode: SensorMode):
        xs, ys = self.sample_grid(mode)
        return self.scene.patches(xs, ys)
