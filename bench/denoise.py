"""Raw denoising: quality against BM3D and non-local means on the held-out set, and speed on a full frame.

Quality: the held-out crops of ``firmware.denoise.synthetic`` (pictures and dead leaves training never saw)
with IMX477 noise at analogue gain 8 and 16. Every method denoises the same noisy crops: raw PSNR of its
output, and sRGB PSNR with it in the ISP's hook after the whole ISP (``build_pipeline`` with
``tuning/mock/imx477.json``) against the same ISP on the clean raw. The ISP runs defective-pixel correction
before the hook, which changes the noise the denoisers see; raw PSNR after DPC and the denoiser in the ISP is
reported too. BM3D (the ``bm3d`` package) runs in the stabilised domain with unit
noise on an orthonormal luma/chroma transform of the four Bayer planes (block matching on luma), then the
exact unbiased inverse; NLM is ``firmware.denoise.classical`` (the fallback).

Each mode's int8 range banks are also compared with the float model they were quantised from ("hq float",
"fast float"): the int8 loss.

Speed: ``make_denoiser`` on a 4056x3040 frame with tiling, 2 threads, at gain 8; "tiles alone" is the model's
share (the tiles' invocations, without packing, conditioning and unpacking). The reference in the same
invocation is BM3D's time per megapixel on the crops, so "BM3D ÷ hq" is the speed-up that should hold on any
machine. The machine's load average is printed beside the times: other work on the same cores slows them.
"""

from __future__ import annotations

import os
import time

import numpy as np

from bench.timing import best_of, peak_rss_mb
from firmware.denoise import MODELS_DIR, NETWORKS, conditioning, make_denoiser, synthetic
from firmware.denoise.classical import ClassicalDenoiser
from firmware.denoise.model import TFLiteDenoiser, pack, read_meta, unpack
from firmware.frame import FrameInfo

FULL = (3040, 4056)
SPAN, BLACK = 4095 - 256, 256
# Orthonormal: white unit noise stays white unit noise; row 0 (luma) leads BM3D's block matching.
LUMA_CHROMA = 0.5 * np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], np.float32)


class Bm3dDenoiser:
    """BM3D as a ``Denoiser`` for side-by-side runs (far too slow for the camera: ~26 s per megapixel)."""

    mode = "bm3d"

    def denoise(self, bayer, frame):
        import bm3d

        packed = pack(bayer, frame.cfa)
        z = conditioning.forward(packed, frame.noise) / conditioning.INPUT_SCALE
        est = bm3d.bm3d(z @ LUMA_CHROMA.T, 1.0) @ LUMA_CHROMA
        return unpack(conditioning.inverse_unbiased(est * conditioning.INPUT_SCALE, frame.noise), frame.cfa)


def _to_raw(x: np.ndarray) -> np.ndarray:
    return np.rint(x * SPAN + BLACK).astype(np.uint16)


def quality(methods: dict, crops, gains) -> dict[str, float]:
    from firmware.isp import build_pipeline
    from firmware.sensor.mock.tuning_default import default_tuning

    tuning = default_tuning("imx477")
    plain = build_pipeline(tuning)
    pipes = {name: build_pipeline(tuning, denoiser=d) for name, d in methods.items() if d is not None}
    out: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for gain in gains:
        scores = {name: ([], [], []) for name in methods}
        for i, crop in enumerate(crops):
            noisy, profile = synthetic.noisy_test_crop(crop, gain, i)
            frame = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(float(BLACK),) * 4,
                              colour_gains=crop.gains, colour_temperature=synthetic.TEST_CT, noise=profile)
            ref = plain.run(_to_raw(crop.clean), frame).astype(np.float32)
            for name, method in methods.items():
                if method is None:
                    raw = noisy
                    rgb, steps = plain.run(_to_raw(noisy), frame, save_intermediates=True)
                    in_isp = steps["rpi.dpc" if "rpi.dpc" in steps else "rpi.black_level"]
                else:
                    t = time.perf_counter()
                    raw = method.denoise(noisy, frame)
                    seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t
                    rgb, steps = pipes[name].run(_to_raw(noisy), frame, save_intermediates=True)
                    in_isp = steps["denoise"]
                scores[name][0].append(synthetic.psnr(crop.clean, raw))
                scores[name][1].append(synthetic.psnr(ref, rgb.astype(np.float32), 255.0))
                # The ISP carries raw as 16-bit, and defective-pixel correction runs before the denoiser.
                scores[name][2].append(synthetic.psnr(crop.clean, in_isp / np.float32(65535.0)))
        for name, (raw_db, srgb_db, isp_db) in scores.items():
            out[f"gain {gain:g} raw PSNR {name} (dB)"] = float(np.mean(raw_db))
            out[f"gain {gain:g} sRGB PSNR {name} (dB)"] = float(np.mean(srgb_db))
            out[f"gain {gain:g} raw PSNR {name} in the ISP, after rpi.dpc (dB)"] = float(np.mean(isp_db))
    mp = len(crops) * len(gains) * crops[0].clean.size / 1e6
    for name, s in seconds.items():
        out[f"{name} ms per MP on crops"] = s / mp * 1e3
    return out


def speed(quick: bool) -> dict[str, float | str]:
    rng = np.random.default_rng(1)
    frame_raw = rng.uniform(0.05, 0.6, FULL).astype(np.float32)
    gain = 8.0
    profile = synthetic.SENSORS["imx477"].profile(gain)
    frame = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(float(BLACK),) * 4, noise=profile)
    mp = frame_raw.size / 1e6
    out: dict[str, float | str] = {"load average at start (1 min)": os.getloadavg()[0]}
    for mode in ("hq", "fast"):
        rss0 = peak_rss_mb()
        t = time.perf_counter()
        den = make_denoiser(mode, 2)  # every bank's interpreter, the first one allocated
        out[f"{mode} model load (ms)"] = (time.perf_counter() - t) * 1e3
        t = time.perf_counter()
        net = den.net_for(profile)  # frees that bank and allocates the one gain 8 needs
        out[f"{mode} switch to another bank (ms)"] = (time.perf_counter() - t) * 1e3
        out[f"{mode} bank at gain 8"] = net.path.name
        out[f"{mode} model size, that bank (KB)"] = net.path.stat().st_size / 1024
        out[f"{mode} model size, all banks (KB)"] = sum(n.path.stat().st_size for _, n in den.banks) / 1024
        out[f"{mode} tiles per 12.3 MP frame"] = len(den.tiling.plan(FULL[0] // 2, FULL[1] // 2))
        out[f"{mode} tile redundancy"] = den.tiling.redundancy(FULL[0] // 2, FULL[1] // 2)
        s = best_of(lambda: den.denoise(frame_raw, frame), 3 if quick else 7)
        out[f"{mode} 12.3 MP frame (ms)"] = s * 1e3
        out[f"{mode} ms per MP"] = s * 1e3 / mp
        out[f"{mode} peak RSS growth (MB)"] = peak_rss_mb() - rss0
        z = conditioning.forward(pack(frame_raw, "RGGB"), profile)
        tiles = best_of(lambda: den.tiling.run(z, net.invoke, lambda *_: None), 3 if quick else 7)
        out[f"{mode} ms per MP, tiles alone"] = tiles * 1e3 / mp
    out["load average at end (1 min)"] = os.getloadavg()[0]
    return out


def float_twin(mode: str) -> TFLiteDenoiser:
    """The float model a mode's int8 banks were quantised from."""
    meta = read_meta(NETWORKS[mode])
    return TFLiteDenoiser(MODELS_DIR / meta["float"], meta, mode=f"{mode} float", threads=2)


def run(quick: bool = False) -> dict[str, float | str]:
    out: dict[str, float | str] = {}
    out.update(speed(quick))
    crops = synthetic.test_crops()
    if quick:
        crops = crops[::4]
    methods = {"none": None, "hq": make_denoiser("hq", 2), "hq float": float_twin("hq"),
               "fast": make_denoiser("fast", 2), "fast float": float_twin("fast"),
               "bm3d": Bm3dDenoiser(), "nlm": ClassicalDenoiser("nlm")}
    q = quality(methods, crops, (8, 16))
    out.update(q)
    for gain in (8, 16):
        for kind in ("raw", "sRGB"):
            hq = q[f"gain {gain} {kind} PSNR hq (dB)"]
            out[f"gain {gain} {kind} hq - bm3d (dB)"] = hq - q[f"gain {gain} {kind} PSNR bm3d (dB)"]
        for mode in ("hq", "fast"):
            out[f"gain {gain} {mode} int8 loss vs float, raw (dB)"] = \
                q[f"gain {gain} raw PSNR {mode} float (dB)"] - q[f"gain {gain} raw PSNR {mode} (dB)"]
    out["bm3d ms per MP ÷ hq ms per MP (full frame)"] = q["bm3d ms per MP on crops"] / out["hq ms per MP"]
    out["held-out crops"] = f"{len(crops)} x {synthetic.TEST_CROP}^2 Bayer"
    return out
