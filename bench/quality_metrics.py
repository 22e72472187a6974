"""Picture-quality measurements on the mock, shared by ``python -m bench quality`` and the ISP's tests.

The judges are outside our pipeline: LibRaw's AHD (through rawpy) demosaics the very mosaic ours does; the
mock's own noise-free signal and defect map say what the sensor saw. Everything renders small crops of the
pixel array at full resolution, so a test can afford it.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from firmware.develop import frame_facts
from firmware.formats.dng import encode_dng
from firmware.formats.identity import CameraIdentity
from firmware.isp import FrameInfo, Pipeline
from firmware.isp.black_level import BlackLevelStage
from firmware.isp.white_balance import WhiteBalanceStage
from firmware.sensor.mock import spectral, truth
from firmware.sensor.mock.models import sensor_model
from firmware.sensor.mock.render import Renderer, mode_levels
from firmware.sensor.mock.scenes import make_scene
from firmware.sensor.protocol import SensorMode
from firmware.tuning import TuningFile
from firmware.tuning.blocks import Awb, BlackLevel

MODEL = "imx477"


@dataclass
class Crop:
    """A full-resolution window of the mock's pixel array, rendered with and without its defects."""

    raw: np.ndarray  # uint16 mosaic, black level included, no defects
    defective: np.ndarray  # the same exposure and noise with the mock's hot pixels
    frame: FrameInfo
    defects: np.ndarray  # (n, 2) rows and columns of the hot sites in the crop
    clean: np.ndarray  # the noise-free mosaic (float32, same units as ``raw``, black included)


def crop_mode(size, centre) -> tuple:
    """The mock model and a full-resolution sensor mode reading ``size`` pixels around ``centre`` (fractions
    of the pixel array), starting on a CFA block."""
    model = sensor_model(MODEL)
    aw, ah = model.info.pixel_array_size
    w, h = size
    x0 = int(centre[0] * aw - w / 2) // 2 * 2
    y0 = int(centre[1] * ah - h / 2) // 2 * 2
    return model, SensorMode(size=(w, h), bit_depth=model.bit_depth, max_fps=10.0, crop=(x0, y0, w, h))


def render_crop(scene: str, size=(512, 512), centre=(0.5, 0.5), *, ct=5000.0, lux=800.0, gain=1.0,
                peak=0.7, seed=0, hot_pixels=3000, exposure_us: float | None = None) -> Crop:
    """Render ``size`` pixels around ``centre`` (fractions of the array) of ``scene`` at full resolution.

    Without ``exposure_us`` the exposure puts the brightest 0.5 % of photosites at ``peak`` of full scale.
    """
    model, mode = crop_mode(size, centre)
    light = spectral.Lighting(ct, "auto", lux)
    sc = make_scene(scene, model.info.pixel_array_size, seed)
    clean = Renderer(model, sc, seed, hot_pixels=0)
    lv = mode_levels(model, mode)
    signal = clean.signal(mode, light).mosaic
    if exposure_us is None:
        full_e = (lv.white - lv.black) / lv.dn_per_electron
        exposure_us = 10_000 * peak * full_e / float(np.percentile(signal, 99.5)) / gain
    stamp = 1_000_000_000 + seed
    raw = clean.render(mode, light, exposure_us, gain, stamp)
    defective = Renderer(model, sc, seed, hot_pixels=hot_pixels).render(mode, light, exposure_us, gain, stamp)
    noiseless = lv.black + signal * np.float32(exposure_us / 10_000 * lv.dn_per_electron * gain)
    r, b = truth.neutral_rb(ct)
    frame = FrameInfo(cfa=model.info.cfa, white_level=lv.white, black_levels=(float(lv.black),) * 4,
                      colour_gains=(1.0 / r, 1.0 / b), colour_temperature=ct, lux=lux, analogue_gain=gain,
                      exposure_us=int(exposure_us))
    return Crop(raw, defective, frame, np.argwhere(defective != raw), np.minimum(noiseless, lv.white))


def lens_green(scene: str, size=(512, 512), centre=(0.5, 0.5), ct=5000.0) -> np.ndarray:
    """The noise-free green the lens puts on every pixel of the crop, no mosaic: what a perfect demosaic gives
    (up to scale; the mock's colour shading left out)."""
    from firmware.sensor.mock import optics

    model, mode = crop_mode(size, centre)
    sc = make_scene(scene, model.info.pixel_array_size)
    aw, ah = model.info.pixel_array_size
    x0, y0, w, h = mode.crop
    xs, ys = (x0 + np.arange(w) + 0.5) / aw, (y0 + np.arange(h) + 0.5) / ah
    green = spectral.responses(sc.reflectances(), spectral.Lighting(ct, "auto", 1000.0))[:, 1]
    return cv2.GaussianBlur(sc.plane(green, xs, ys), (0, 0), optics.blur_sigma(model, mode))


def white_balanced(tuning: TuningFile, raw: np.ndarray, frame: FrameInfo) -> np.ndarray:
    """The mosaic as the demosaic sees it: black level out, white balanced (16-bit linear)."""
    return Pipeline([BlackLevelStage(BlackLevel.read(tuning)), WhiteBalanceStage(Awb.read(tuning))]).run(raw, frame)


def libraw_rgb(mosaic: np.ndarray, cfa: str, tuning: TuningFile, algorithm: str = "AHD") -> np.ndarray:
    """LibRaw's demosaic of a white-balanced 16-bit mosaic: linear camera RGB, uint16 (rawpy, via a DNG)."""
    import rawpy

    md = {"SensorBlackLevels": (0, 0, 0, 0), "ColourGains": (1.0, 1.0)}
    data = encode_dng(mosaic, md, frame_facts(md, cfa=cfa, bit_depth=16, tuning=tuning), tuning=tuning,
                      identity=CameraIdentity(make="camerad", model=f"{MODEL} (mock)"), wall_ns=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mosaic.dng"
        path.write_bytes(data)
        with rawpy.imread(str(path)) as rp:
            return rp.postprocess(demosaic_algorithm=getattr(rawpy.DemosaicAlgorithm, algorithm),
                                  use_camera_wb=True, output_color=rawpy.ColorSpace.raw, gamma=(1, 1),
                                  no_auto_bright=True, output_bps=16, user_flip=0,
                                  highlight_mode=rawpy.HighlightMode.Ignore)


def encoded(rgb16: np.ndarray) -> np.ndarray:
    """Linear 16-bit RGB through the sRGB curve, as float 0..255 (where the eye judges colour fringes)."""
    x = np.clip(rgb16.astype(np.float32) / 65535.0, 0.0, 1.0)
    return 255.0 * np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def chroma(rgb16: np.ndarray) -> np.ndarray:
    """Per pixel: the spread of the encoded channels (0 on a neutral), levels of 255."""
    e = encoded(rgb16)
    return e.max(axis=-1) - e.min(axis=-1)


def edge_band(shape, width: float = 8.0, angle_deg: float = 5.0, centre=None) -> np.ndarray:
    """Pixels within ``width`` of the slanted edge through the crop's centre (the mock's edge is 5 degrees)."""
    h, w = shape[:2]
    cy, cx = centre if centre is not None else (h / 2, w / 2)
    yy, xx = np.mgrid[0:h, 0:w]
    a = np.radians(angle_deg)
    return np.abs((xx - cx + 0.5) * np.cos(a) - (yy - cy + 0.5) * np.sin(a)) <= width


def edge_profile(rgb: np.ndarray, reach: float = 8.0, angle_deg: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """The mean R, G, B across the slanted edge through the picture's centre, in half-pixel steps of distance
    (dark side first): noise averages out along the edge, what stays is the fringe and the ringing."""
    h, w = rgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    a = np.radians(angle_deg)
    d = (xx - w / 2 + 0.5) * np.cos(a) - (yy - h / 2 + 0.5) * np.sin(a)
    near = np.abs(d) <= reach
    bins = np.rint(d[near] * 2).astype(int)
    bins -= bins.min()
    counts = np.bincount(bins)
    prof = np.stack([np.bincount(bins, weights=rgb[..., c][near].astype(float)) / counts for c in range(3)], -1)
    return np.unique(np.rint(d[near] * 2)) / 2, prof


def false_colour(rgb16: np.ndarray, mask: np.ndarray | None = None, border: int = 4) -> float:
    """Mean chroma over ``mask`` (all of it by default), ``border`` pixels from the crop's edges left out."""
    c = chroma(rgb16)
    keep = np.zeros(c.shape, bool)
    keep[border:-border, border:-border] = True
    if mask is not None:
        keep &= mask
    return float(c[keep].mean())


def mtf50(gray: np.ndarray, oversample: int = 4) -> float:
    """MTF50 (cycles per pixel) of a near-vertical edge filling ``gray``, ISO 12233 slanted-edge style.

    The edge's position in each row is the centroid of the derivative in a window around its peak (the whole
    row's centroid is pulled to the middle by the flat sides' noise); a line fitted through them aligns the
    rows into an oversampled edge profile, whose derivative's spectrum is the MTF.
    """
    img = gray.astype(np.float64)
    h, w = img.shape
    d = np.abs(np.diff(img, axis=1))
    cols = np.arange(w - 1) + 0.5
    rows = np.arange(h)
    guess = np.argmax(d, axis=1).astype(float)
    for _ in range(3):
        if _:
            guess = np.polyval(fit, rows)
        lo = np.clip(np.rint(guess).astype(int) - 6, 0, w - 1)
        window = (cols[None, :] >= lo[:, None]) & (cols[None, :] <= lo[:, None] + 13)
        weights = d * window
        fit = np.polyfit(rows, (weights * cols).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9), 1)
    dist = np.arange(w)[None, :] - np.polyval(fit, rows)[:, None]
    bins = np.rint(dist * oversample).astype(int)
    bins -= bins.min()
    counts = np.bincount(bins.ravel())
    esf = np.bincount(bins.ravel(), weights=img.ravel())[counts > 0] / counts[counts > 0]
    lsf = np.diff(esf) * np.hamming(len(esf) - 1)
    mtf = np.abs(np.fft.rfft(lsf))
    mtf /= mtf[0]
    freq = np.fft.rfftfreq(len(lsf), d=1.0 / oversample)
    i = int(np.argmax(mtf < 0.5))
    return float(freq[i - 1] + (mtf[i - 1] - 0.5) / (mtf[i - 1] - mtf[i]) * (freq[i] - freq[i - 1]))


def defects_left(clean8: np.ndarray, defective8: np.ndarray, defects: np.ndarray, level: float = 6.0) -> int:
    """How many defects still show in a developed picture as a dot: at each, the 3x3 mean of the picture with
    defects minus the one without, in its most changed channel, beyond ``level`` and beyond four standard
    errors of the clean picture's own local noise. A corrected site differs by one noise sample, and a
    defect within three sigmas of its neighbours is one more noise sample: neither shows as a dot."""
    a, b = clean8.astype(np.float32), defective8.astype(np.float32)
    h, w = a.shape[:2]
    left = 0
    for y, x in defects:
        if not (6 <= y < h - 6 and 6 <= x < w - 6):
            continue
        bump = (b[y - 1:y + 2, x - 1:x + 2] - a[y - 1:y + 2, x - 1:x + 2]).reshape(-1, 3).mean(axis=0)
        noise = a[y - 6:y + 7, x - 6:x + 7].reshape(-1, 3).std(axis=0) / 3.0
        k = int(np.argmax(np.abs(bump)))
        left += abs(bump[k]) > max(level, 4.0 * noise[k])
    return left


def clipped_patches(rgb8: np.ndarray, patches) -> list[int]:
    """Indices of ColorChecker patches with a channel at white (mean >= 254.5 over the patch)."""
    out = []
    for p in patches:
        mean = rgb8[p.y:p.y + p.height, p.x:p.x + p.width].reshape(-1, 3).mean(axis=0)
        if mean.max() >= 254.5:
            out.append(p.index)
    return out


def snr_db(picture8: np.ndarray, reference8: np.ndarray) -> float:
    """Luma SNR of a picture against the same picture developed from the noise-free signal, in dB."""
    luma = cv2.cvtColor(picture8, cv2.COLOR_RGB2GRAY).astype(np.float64)
    ref = cv2.cvtColor(reference8, cv2.COLOR_RGB2GRAY).astype(np.float64)
    return float(20 * np.log10(max(ref.mean(), 1e-9) / max((luma - ref).std(), 1e-9)))
