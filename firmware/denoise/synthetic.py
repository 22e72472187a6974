"""Training and test data for the raw denoiser, made here: no data set is downloaded.

Clean linear raw comes from pictures that scikit-image ships and from procedural dead-leaves images,
"unprocessed" as Brooks et al. (CVPR 2019) describe: inverse tone curve and gamma, inverse colour matrix and
white balance (the mock sensors' own tuning at a colour temperature), an exposure, and the Bayer mosaic. Noise
is drawn from real sensor profiles at analogue gain 1-22: Poisson shot noise plus Gaussian read noise,
quantised to the sensor's bit depth and clipped at black as the ISP's black-level stage does.

The held-out test set (``test_crops``) uses pictures training never sees and its own dead-leaves seed.
Needs the ``mock`` extra (scikit-image).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from firmware.frame import NoiseProfile

# Pictures in scikit-image's wheel. The test pictures, and motorcycle_right (the stereo twin of a test
# picture), never reach training.
TRAIN_COLOUR = ("astronaut", "chelsea", "hubble_deep_field", "ihc", "retina", "color")
TRAIN_GREY = ("brick", "camera", "grass", "gravel", "moon", "page", "text", "coins", "cell", "clock",
              "microaneurysms")
TEST_COLOUR = ("coffee", "rocket", "motorcycle_left")
TEST_DEAD_LEAVES_SEED = 990_001
TEST_CROP = 384  # Bayer pixels, square
TEST_CT = 5000.0
TEST_SENSOR = "imx477"


@dataclass(frozen=True)
class SensorNoise:
    """A sensor's noise against analogue gain, on the black-subtracted signal normalised to 0..1.

    Read-noise variance has three parts: before the amplifier (grows as gain²), libcamera's ``rpi.noise``
    form (std grows as sqrt(gain), so variance as gain), and after it (constant).
    """

    name: str
    bits: int
    shot: float
    read_pre: float = 0.0
    read_lin: float = 0.0
    read_post: float = 0.0

    def profile(self, gain: float) -> NoiseProfile:
        return NoiseProfile(self.shot * gain, self.read_pre * gain**2 + self.read_lin * gain + self.read_post)


def _span(bits: int) -> float:
    return float((1 << bits) - 1 - (4096 >> (16 - bits)))


def _physics(name: str, bits: int, dn_per_e: float, pre_dn: float, post_dn: float) -> SensorNoise:
    s = _span(bits)
    return SensorNoise(name, bits, dn_per_e / s, read_pre=(pre_dn / s) ** 2, read_post=(post_dn / s) ** 2)


def _rpi_noise(name: str, bits: int, constant: float, slope: float) -> SensorNoise:
    s16 = 65535.0 - 4096.0
    return SensorNoise(name, bits, slope**2 / s16, read_lin=(constant / s16) ** 2)


# Published photon-transfer figures (the mock's physics: IMX477 0.479 DN/e-, read 1.53 DN at gain 1 and 11.5
# at 16) and the rpi.noise values of libcamera's Raspberry Pi tuning files (vc4 and pisp) and of our mock
# tuning. Numbers only; the files themselves are not part of the project.
SENSORS = {
    "imx477": _physics("imx477", 12, 2.767**2 / 16, 0.715, 1.40),
    "imx708": _physics("imx708", 10, 2.5**2 / 64, 0.35, 0.9),
    "imx477-vc4": _rpi_noise("imx477-vc4", 12, 0.0, 2.767),
    "imx477-pisp": _rpi_noise("imx477-pisp", 12, 0.0, 3.9),
    "imx477-mock-tuning": _rpi_noise("imx477-mock-tuning", 12, 5.327, 2.7419),
    "imx708-vc4": _rpi_noise("imx708-vc4", 10, 0.0, 2.5),
    "imx708-pisp": _rpi_noise("imx708-pisp", 10, 0.0, 2.856),
}


def add_noise(clean: np.ndarray, profile: NoiseProfile, bits: int, rng: np.random.Generator) -> np.ndarray:
    """Poisson-Gaussian noise with ``profile`` on a clean normalised raw, quantised and clipped to 0..1."""
    s = max(profile.shot, 1e-12)
    noisy = rng.poisson(np.maximum(clean, 0.0) / s).astype(np.float32) * np.float32(s)
    noisy += rng.standard_normal(clean.shape, dtype=np.float32) * np.float32(np.sqrt(profile.read))
    span = _span(bits)
    return np.clip(np.round(noisy * span) / span, 0.0, 1.0).astype(np.float32)


# -- unprocessing -------------------------------------------------------------------------------------------

def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """Inverse of a smoothstep tone curve and of gamma 2.2, as in Brooks et al."""
    y = np.clip(srgb, 0.0, 1.0)
    x = 0.5 - np.sin(np.arcsin(np.clip(1.0 - 2.0 * y, -1.0, 1.0)) / 3.0)
    return np.maximum(x, 1e-8) ** 2.2


@lru_cache(maxsize=None)
def _colour(model: str):
    from firmware.sensor.mock.tuning_default import default_tuning
    from firmware.tuning.blocks import Awb, Ccm

    tuning = default_tuning(model)
    return Ccm.read(tuning), Awb.read(tuning).curve


def camera_colour(model: str, ct: float) -> tuple[np.ndarray, tuple[float, float]]:
    """(sRGB-linear → white-balanced camera matrix, (r, b) white-balance gains) of a mock sensor at ``ct``."""
    ccm, curve = _colour(model)
    return np.linalg.inv(ccm.at(ct)), curve.gains(ct)


def unprocess(linear_rgb: np.ndarray, rgb2cam: np.ndarray, gains: tuple[float, float],
              exposure: float) -> np.ndarray:
    """Linear sRGB (h, w, 3) → clean Bayer RGGB (h, w) raw in 0..1 with the given colour and exposure."""
    cam = linear_rgb @ rgb2cam.T.astype(np.float32)
    cam[..., 0] /= gains[0]
    cam[..., 2] /= gains[1]
    cam *= exposure
    h, w = cam.shape[0] // 2 * 2, cam.shape[1] // 2 * 2
    bayer = np.empty((h, w), np.float32)
    bayer[0::2, 0::2] = cam[0:h:2, 0:w:2, 0]
    bayer[0::2, 1::2] = cam[0:h:2, 1:w:2, 1]
    bayer[1::2, 0::2] = cam[1:h:2, 0:w:2, 1]
    bayer[1::2, 1::2] = cam[1:h:2, 1:w:2, 2]
    return np.clip(bayer, 0.0, 1.0)


def skimage_picture(name: str) -> np.ndarray:
    """A picture shipped with scikit-image as sRGB float32 (h, w, 3) in 0..1."""
    from skimage import data

    loaders = {"motorcycle_left": lambda: data.stereo_motorcycle()[0], "ihc": data.immunohistochemistry,
               "color": data.colorwheel}
    img = np.asarray(loaders.get(name, getattr(data, name, None))(), dtype=np.float32)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    img = img[..., :3]
    return img / (255.0 if img.max() > 1.0 else 1.0)


def dead_leaves(size: int, rng: np.random.Generator) -> np.ndarray:
    """A dead-leaves sRGB image (size, size, 3): occluding discs with power-law radii, some textured.

    Discs are painted back to front on a random background; radii follow r^-3 between 2 px and a quarter of
    the image, the statistics of natural images that make dead leaves a standard denoising test pattern.
    """
    img = np.empty((size, size, 3), np.float32)
    img[:] = rng.uniform(0.1, 0.9, 3)
    rmin, rmax = 2.0, size / 4
    discs = size * size // 24  # enough that the background is all but covered
    u = rng.uniform(size=discs)
    radii = (rmin**-2 - u * (rmin**-2 - rmax**-2)) ** -0.5
    for r, (cy, cx), col in zip(radii, rng.uniform(0, size, (discs, 2)), rng.uniform(0.02, 0.98, (discs, 3))):
        ri = int(np.ceil(r)) + 1
        y0, y1, x0, x1 = max(int(cy) - ri, 0), min(int(cy) + ri + 1, size), max(int(cx) - ri, 0), min(int(cx) + ri + 1, size)
        if y0 >= y1 or x0 >= x1:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.circle(mask, (int(cx) - x0, int(cy) - y0), int(round(r)), 1, -1)
        sel = mask.astype(bool)
        patch = img[y0:y1, x0:x1]
        if r > 12 and rng.uniform() < 0.3:  # a textured leaf: a sinusoidal grating
            f, ang = rng.uniform(0.05, 0.5), rng.uniform(0, np.pi)
            yy, xx = np.nonzero(sel)
            wave = 0.5 + 0.5 * np.sin(f * (np.cos(ang) * (xx + x0) + np.sin(ang) * (yy + y0)))
            patch[sel] = col * (0.6 + 0.4 * wave[:, None])
        else:
            patch[sel] = col
    return cv2.GaussianBlur(img, (0, 0), 0.6)


# -- the held-out test set ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TestCrop:
    name: str
    clean: np.ndarray  # (TEST_CROP, TEST_CROP) Bayer RGGB, 0..1
    gains: tuple[float, float]  # the white balance the crop was unprocessed with


def _exposed(raw: np.ndarray, level: float = 0.85) -> float:
    return level / max(float(np.percentile(raw, 98)), 1e-3)


def test_crops(count_per_picture: int = 2) -> list[TestCrop]:
    """The fixed held-out crops: IMX477 colour at 5000 K, exposed so the 98th percentile sits at 0.85."""
    rgb2cam, gains = camera_colour(TEST_SENSOR, TEST_CT)
    pictures = [(n, skimage_picture(n)) for n in TEST_COLOUR]
    pictures.append(("dead-leaves", dead_leaves(1024, np.random.default_rng(TEST_DEAD_LEAVES_SEED))))
    crops = []
    for name, srgb in pictures:
        lin = srgb_to_linear(srgb)
        raw = unprocess(lin, rgb2cam, gains, 1.0)
        raw = unprocess(lin, rgb2cam, gains, _exposed(raw))
        h, w = raw.shape
        rows = np.linspace(0, h - TEST_CROP, count_per_picture).astype(int) // 2 * 2
        cols = np.linspace(0, w - TEST_CROP, count_per_picture).astype(int) // 2 * 2
        for i, (y, x) in enumerate(zip(rows, cols[::-1])):
            crops.append(TestCrop(f"{name}-{i}", raw[y:y + TEST_CROP, x:x + TEST_CROP].copy(), gains))
    return crops


def noisy_test_crop(crop: TestCrop, gain: float, index: int) -> tuple[np.ndarray, NoiseProfile]:
    """The crop with IMX477 noise at ``gain``: the same pixels every time (seeded by gain and index)."""
    sensor = SENSORS[TEST_SENSOR]
    profile = sensor.profile(gain)
    rng = np.random.default_rng([int(gain * 100), index, 5])
    return add_noise(crop.clean, profile, sensor.bits, rng), profile


def psnr(reference: np.ndarray, estimate: np.ndarray, peak: float = 1.0) -> float:
    mse = float(np.mean((reference.astype(np.float64) - estimate.astype(np.float64)) ** 2))
    return float(10 * np.log10(peak * peak / max(mse, 1e-20)))
