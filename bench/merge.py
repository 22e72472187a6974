"""Multi-frame merge (HDR and night): dynamic range, noise, ghosts, denoising, speed and memory on the mock.

* Dynamic range on ``hdr-window``'s 40-step transmission wedge (IMX477 2028x1520, 200 lux, static): the
  single frame the mock's AE takes vs the ``hdr`` plan merged (8 frames: short ones metered for the highlights
  from the AE frame and one 3 EV under it, two long ones for the shadows); an AEB bracket (-2/0/+2 EV) merged;
  and, for the share that is noise alone, 8 frames at one exposure vs one of them.
* Shadow SNR gain on the same static scene: 8 frames at one exposure vs one, on the wedge's steps whose
  single-frame SNR is 1..10 (target >= 0.8 x sqrt(8)).
* Ghosts and noise: ``night-street+shake+objects`` at 0.5 lux (hand shake of 3 px per frame, two objects
  crossing), the ``night`` plan's burst at full resolution: PSNR against the truth (the noise-free frame at the
  reference's pose) in the moving objects' regions and in the static rest, for the reference frame alone, a
  naive average of the unaligned frames, our merge, and OpenCV's Mertens fusion of the same frames developed
  (in sRGB after the same ISP; the raw figures are on the linear signal, white = 1).
* Denoising the merged raw: the TFLite ``hq`` model conditioned on the merged profile vs on the reference
  frame's profile vs not at all (raw PSNR in the static region).
* Speed: align + merge of the 8 full-resolution (12.3 MP) frames vs one single-frame develop (the still
  recipe: ``hq`` denoise + ISP to 8-bit sRGB) in the same run, wall and CPU time, with the load average; peak
  memory the merge allocates beyond its input frames (tracemalloc; the frames sit in the ZSL ring's budget).
"""

from __future__ import annotations

import os
import time
import tracemalloc
from dataclasses import replace

import cv2
import numpy as np

from firmware.isp import FrameInfo, build_pipeline
from firmware.merge import figures as fg
from firmware.merge import merge_burst
from firmware.merge.burst import MERGED_BLACK, MERGED_WHITE
from firmware.merge.plan import Limits, StreamStats, measure_motion, plan_burst
from firmware.sensor.mock.models import sensor_model
from firmware.sensor.mock.motion import moving_mask
from firmware.sensor.mock.render import Renderer
from firmware.sensor.mock.scenes import make_scene
from firmware.sensor.mock.spectral import Lighting
from firmware.sensor.mock.tuning_default import default_tuning
from firmware.sensor.protocol import SensorMode

MODEL = sensor_model("imx477")
LIMITS = Limits(max_exposure_us=500_000, max_gain=16.0)


def _stats(r, mode, light, exposure, gain, ts):
    raw = r.render(mode, light, exposure, gain, ts)
    lv = r.model.info.black_level_16 >> (16 - mode.bit_depth)
    return StreamStats.from_raw(raw, (lv,) * 4, (1 << mode.bit_depth) - 1, exposure, gain)


def dynamic_range(quick: bool) -> dict:
    mode = MODEL.info.mode("2028x1520")
    if quick:  # the wedge alone, binned
        mode = SensorMode((1000, 580), 12, 40.0, (1900, 1660, 2000, 1160), 2)
    light = Lighting(5000, "auto", 200)
    r = Renderer(MODEL, make_scene("hdr-window", MODEL.info.pixel_array_size, 1), seed=1, hot_pixels=0)
    meter_mode = MODEL.info.mode("2028x1520")
    ae = fg.mock_ae(r, default_tuning("imx477"), meter_mode, light)
    metering = [_stats(r, meter_mode, light, e, ae.gain, 900_000_000 + i) for i, e in
                enumerate((ae.exposure_us, ae.exposure_us // 8))]
    plan = plan_burst("hdr", metering, LIMITS, frames=8)
    patches = r.patches(mode)
    single = fg.render_burst(r, mode, light, [(ae.exposure_us, ae.gain)], t0_ns=5 * 10**9)
    w_single = fg.wedge_range(fg.normalised(single.frames[0]), single.truth[0], patches)
    burst = fg.render_burst(r, mode, light, [(f.exposure_us, f.gain) for f in plan.frames], truth=(plan.reference,))
    merged = merge_burst(burst.frames, plan.reference)
    w_merged = fg.wedge_range(fg.normalised(merged), burst.truth[plan.reference], patches)
    aeb = fg.render_burst(r, mode, light, [(ae.exposure_us // 4, ae.gain), (ae.exposure_us, ae.gain),
                                           (ae.exposure_us * 4, ae.gain)], t0_ns=7 * 10**9, truth=(0,))
    w_aeb = fg.wedge_range(fg.normalised(merge_burst(aeb.frames, 0)), aeb.truth[0], patches)
    same = plan.frames[0]
    const = fg.render_burst(r, mode, light, [(same.exposure_us, same.gain)] * 8, t0_ns=9 * 10**9, truth=(0,))
    w_one = fg.wedge_range(fg.normalised(const.frames[0]), const.truth[0], patches)
    w_eight = fg.wedge_range(fg.normalised(merge_burst(const.frames, 0)), const.truth[0], patches)
    shadows = (w_one.snr >= 1) & (w_one.snr <= 10)
    gain = float(np.mean(w_eight.snr[shadows] / w_one.snr[shadows]))
    return {
        "dr plan": plan.reason,
        "dr single frame (AE) stops": w_single.stops,
        "dr merged hdr plan (8 frames) stops": w_merged.stops,
        "dr gain merged - single (target >= 2.5) stops": w_merged.stops - w_single.stops,
        "dr AEB -2/0/+2 EV merged stops": w_aeb.stops,
        "dr 1 short frame stops": w_one.stops,
        "dr 8 short frames merged (noise alone) stops": w_eight.stops,
        "shadow SNR gain, 8 frames, static (target >= 0.8 sqrt 8 = 2.26)": gain,
        "shadow SNR gain / sqrt(N)": gain / np.sqrt(8),
    }


def _develop(pipe, info, norm: np.ndarray, gain: float) -> np.ndarray:
    """A normalised frame brought up by ``gain`` and developed (the merged frame's 16-bit scale)."""
    raw = np.clip(norm * gain, 0, 1) * (MERGED_WHITE - MERGED_BLACK) + MERGED_BLACK
    return pipe.run(raw.astype(np.uint16), info)


def night(quick: bool) -> tuple[dict, dict]:
    mode = MODEL.info.mode("2028x1520" if quick else "4056x3040")
    light = Lighting(3000, "auto", 0.5)
    # Hot pixels off: correcting them is DPC's job (before or after the merge), and one hot photosite in the
    # reference outweighs the whole frame's noise in a PSNR.
    r = Renderer(MODEL, make_scene("night-street+shake+objects", MODEL.info.pixel_array_size, 2), seed=2,
                 hot_pixels=0)
    tuning = default_tuning("imx477")
    ae = fg.mock_ae(r, tuning, MODEL.info.mode("2028x1520"), light)
    # Motion metering on two consecutive stream frames (what the daemon does on its lores stream).
    lores = SensorMode((1014, 760), 12, 30.0, (0, 0, 4056, 3040), 4)
    pair = fg.render_burst(r, lores, light, [(ae.exposure_us, ae.gain)] * 2, t0_ns=400_000_000, truth=())
    motion = measure_motion(pair.frames[0], pair.frames[1], 0.1, MODEL.info.pixel_array_size[0])
    stats = _stats(r, lores, light, ae.exposure_us, ae.gain, 300_000_000)
    plan = plan_burst("night", StreamStats(stats.peak, stats.mean_luma, stats.median_luma, stats.exposure_us,
                                           stats.gain, motion.px_per_s), LIMITS, frames=8)
    exposures = [(f.exposure_us, f.gain) for f in plan.frames]
    burst = fg.render_burst(r, mode, light, exposures, truth=(plan.reference,))
    ref = plan.reference
    truth = burst.truth[ref]
    moving = moving_mask(r, mode, light, burst.timestamps, burst.timestamps[ref])
    edge = np.zeros_like(moving)
    edge[32:-32, 32:-32] = True
    static, moving = edge & ~moving, edge & moving
    t = time.perf_counter()
    merged = merge_burst(burst.frames, ref)
    merge_s = time.perf_counter() - t
    images = {"reference frame": fg.normalised(burst.frames[ref]),
              "naive average": np.mean([fg.normalised(f) for f in burst.frames], axis=0),
              "merged": fg.normalised(merged)}
    out = {"night plan": plan.reason, "night motion metered px/s": motion.px_per_s,
           "night merged frames' worth": merged.frames_merged}
    for name, img in images.items():
        out[f"night raw PSNR static, {name} dB"] = fg.psnr(img, truth, static)
        out[f"night raw PSNR moving, {name} dB"] = fg.psnr(img, truth, moving)
    # sRGB after the same ISP (digital gain to the plan's brightness, fixed white balance); Mertens on the frames.
    info = FrameInfo(cfa="RGGB", white_level=MERGED_WHITE, black_levels=(float(MERGED_BLACK),) * 4,
                     colour_gains=ae.colour_gains, colour_temperature=ae.ct, noise=merged.noise)
    pipe = build_pipeline(tuning)
    g = plan.tone_gain
    srgb_truth = _develop(pipe, info, truth, g).astype(np.float32)
    developed = {name: _develop(pipe, info, img, g) for name, img in images.items()}
    fused = cv2.createMergeMertens().process([_develop(pipe, info, fg.normalised(f), g) for f in burst.frames])
    developed["Mertens fusion (OpenCV)"] = np.clip(fused * 255, 0, 255)
    for name, img in developed.items():
        img = img.astype(np.float32)
        out[f"night sRGB PSNR static, {name} dB"] = fg.psnr(img, srgb_truth, static, 255.0)
        out[f"night sRGB PSNR moving, {name} dB"] = fg.psnr(img, srgb_truth, moving, 255.0)
    out["night static gain merged - reference (target >= 5) dB"] = \
        out["night raw PSNR static, merged dB"] - out["night raw PSNR static, reference frame dB"]
    out["night moving merged - reference (target >= 0) dB"] = \
        out["night raw PSNR moving, merged dB"] - out["night raw PSNR moving, reference frame dB"]
    out.update(_denoise(merged, burst.frames[ref], truth, static))
    return out, {"burst": burst, "merge_s": merge_s, "ae": ae, "tuning": tuning}


def _denoise(merged, reference, truth, static) -> dict:
    from firmware.denoise import make_denoiser

    d = make_denoiser("hq", 2)
    frame = FrameInfo(cfa="RGGB", white_level=MERGED_WHITE, black_levels=(float(MERGED_BLACK),) * 4,
                      noise=merged.noise)
    m = fg.normalised(merged)
    out = {"denoise: merged, no denoiser dB": fg.psnr(m, truth, static)}
    for label, profile in (("merged profile", merged.noise), ("reference frame's profile", reference.noise)):
        den = d.denoise(m.clip(0, 1), replace(frame, noise=profile))
        out[f"denoise: merged + hq on the {label} dB"] = fg.psnr(den, truth, static)
    single = d.denoise(fg.normalised(reference).clip(0, 1), replace(frame, noise=reference.noise))
    out["denoise: reference frame + hq dB"] = fg.psnr(single, truth, static)
    return out


def speed(ctx: dict, quick: bool) -> dict:
    from firmware.denoise import make_denoiser

    frames = ctx["burst"].frames
    ae = ctx["ae"]
    pipe = build_pipeline(ctx["tuning"], denoiser=make_denoiser("hq", 2))
    info = FrameInfo(cfa="RGGB", white_level=frames[0].white_level, black_levels=frames[0].black_levels,
                     colour_gains=ae.colour_gains, colour_temperature=ae.ct, noise=frames[0].noise)
    pipe.run(frames[0].raw, info)  # warm-up: the denoiser's bank, the pipeline's tables
    rows = []
    for _ in range(1 if quick else 3):
        t, c = time.perf_counter(), time.process_time()
        pipe.run(frames[0].raw, info)
        dev = (time.perf_counter() - t, time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        m = merge_burst(frames, 0)
        rows.append((dev, (time.perf_counter() - t, time.process_time() - c), m.timings))
    dev_w = float(np.median([r[0][0] for r in rows]))
    dev_c = float(np.median([r[0][1] for r in rows]))
    mer_w = float(np.median([r[1][0] for r in rows]))
    mer_c = float(np.median([r[1][1] for r in rows]))
    tracemalloc.start()
    merge_burst(frames, 0)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    h, w = frames[0].raw.shape
    return {
        "speed frames": f"{len(frames)} x {w}x{h} ({w * h / 1e6:.1f} MP)",
        "speed single-frame develop (hq denoise + ISP, 8-bit) s": dev_w,
        "speed align + merge s": mer_w,
        "speed of which align s": float(np.median([r[2]["align"] for r in rows])),
        "speed align + merge / develop, wall (target <= 4)": mer_w / dev_w,
        "speed CPU time: develop s": dev_c,
        "speed CPU time: align + merge s": mer_c,
        "speed align + merge / develop, CPU": mer_c / dev_c,
        "memory merge peak beyond its inputs (tracemalloc, target <= 300) MB": peak,
        "memory the burst's frames (in the ZSL ring's budget) MB": sum(f.raw.nbytes for f in frames) / 1e6,
        "load average (1 min) at the end": os.getloadavg()[0],
    }


def run(quick: bool) -> dict:
    out = {"load average (1 min) at start": os.getloadavg()[0]}
    out.update(dynamic_range(quick))
    night_figures, ctx = night(quick)
    out.update(night_figures)
    out.update(speed(ctx, quick))
    return out
