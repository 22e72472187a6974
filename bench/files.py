"""Capture files: lossless DNG against uncompressed, and burst depth to a 40 MB/s card.

On a 12.3 MP textured scene from the mock (dead leaves: natural-image statistics) and its ColorChecker: DNG bytes and encode time with
``dng_compression = "ljpeg"`` against ``"none"`` (the reference, same frame, same run), the JPEG's, and the
ISP's develop time with the camera's default hq raw denoiser (the capture budget those encodes must fit in). Each capture is then written through a
throttled writer (40 MB/s, a UHS-I card's sustained write) to measure the time a capture holds the developer
thread; burst depth is how many frames a burst at the sensor's rate takes before ``capture.queue_size`` (12)
slots are full, simulated from those measured times (frames arrive every frame period, one developer serves
them in order).
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

from bench.timing import best_of

CARD_MB_S = 40.0
QUEUE = 12


def _frame(scene: str):
    from firmware.clock import FakeClock
    from firmware.sensor.mock.sensor import MockSensor
    from firmware.sensor.mock.spectral import Lighting

    cam = MockSensor("imx477", scene, Lighting(5000, "auto", 800), clock=FakeClock())
    mode = cam.info.mode("4056x3040")
    cam.configure(mode, 4)
    cam.start()
    for _ in range(12):
        cam.next_request(1.0).release()
    with cam.next_request(1.0) as req:
        raw, md = req.make_array("raw").copy(), req.get_metadata()
    tuning, period = cam.tuning, int(md.get("FrameDuration", 100_000)) / 1e6
    cam.close()
    return raw, md, tuning, mode.bit_depth, period


def _throttled_write(data: bytes, directory: str) -> float:
    """Write ``data`` as a card of CARD_MB_S would take it: the real write, then the card's remaining time."""
    t = time.perf_counter()
    with open(os.path.join(directory, "x"), "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    spent = time.perf_counter() - t
    time.sleep(max(0.0, len(data) / (CARD_MB_S * 1e6) - spent))
    return time.perf_counter() - t


def burst_depth(service_s: float, period_s: float, queue: int = QUEUE, limit: int = 1000) -> int:
    """Frames a burst at one frame per ``period_s`` takes before ``queue`` slots are full (``limit``: never)."""
    done_at: list[float] = []
    free_at = 0.0
    for i in range(limit):
        now = i * period_s
        waiting = [t for t in done_at if t > now]
        if len(waiting) >= queue:
            return i
        free_at = max(free_at, now) + service_s
        done_at.append(free_at)
    return limit


def run(quick: bool = False) -> dict:
    from firmware.develop import frame_facts
    from firmware.formats.dng import encode_dng
    from firmware.formats.identity import CameraIdentity
    from firmware.formats.jpeg import encode_jpeg, exif_bytes
    from firmware.formats.previews import thumbnail_jpeg
    from firmware.denoise import make_denoiser
    from firmware.isp import FrameInfo, build_pipeline

    out: dict = {"load_average_1min": os.getloadavg()[0]}
    repeat = 1 if quick else 3
    ident = CameraIdentity(make="camerad", model="imx477 (mock)")
    for scene in ("dead-leaves", "colorchecker") if not quick else ("dead-leaves",):
        raw, md, tuning, bits, period = _frame(scene)
        facts = frame_facts(md, cfa="RGGB", bit_depth=bits, tuning=tuning)  # what the writer hands the DNG
        pipe = build_pipeline(tuning, denoiser=make_denoiser("hq"))  # the camera's default develop: hq denoise
        rgb = pipe.run(raw, FrameInfo.from_metadata(md, "RGGB", bits))
        isp_s = best_of(lambda: pipe.run(raw, FrameInfo.from_metadata(md, "RGGB", bits)), repeat)
        jpeg = encode_jpeg(rgb, exif_bytes(md, ident, 0, thumbnail=thumbnail_jpeg(rgb)))
        sizes, times = {}, {}
        for comp in ("none", "ljpeg"):
            def enc(comp=comp):
                return encode_dng(raw, md, facts, tuning=tuning, identity=ident, wall_ns=0, look="leica-authentic",
                                  preview=rgb, compression=comp)
            sizes[comp] = len(enc())
            times[comp] = best_of(enc, repeat)
        out[f"{scene}_dng_uncompressed_mb"] = sizes["none"] / 1e6
        out[f"{scene}_dng_ljpeg_mb"] = sizes["ljpeg"] / 1e6
        out[f"{scene}_ljpeg_size_vs_uncompressed"] = sizes["ljpeg"] / sizes["none"]
        out[f"{scene}_dng_encode_s_uncompressed"] = times["none"]
        out[f"{scene}_dng_encode_s_ljpeg"] = times["ljpeg"]
        out[f"{scene}_ljpeg_encode_vs_isp_develop"] = times["ljpeg"] / isp_s
        if scene != "dead-leaves":
            continue
        out["isp_develop_s"] = isp_s
        out["jpeg_mb"] = len(jpeg) / 1e6
        with tempfile.TemporaryDirectory() as d:
            for comp in ("none", "ljpeg"):
                dng = encode_dng(raw, md, facts, tuning=tuning, identity=ident, wall_ns=0, preview=rgb,
                                 compression=comp)
                write_s = _throttled_write(dng + jpeg, d)
                service = isp_s + times[comp] + write_s
                out[f"card_write_s_{comp}"] = write_s
                out[f"burst_depth_{comp}"] = burst_depth(service, period)
                out[f"burst_depth_write_bound_{comp}"] = burst_depth(times[comp] + write_s, period)
                out[f"sustained_fps_{comp}"] = 1.0 / service
        out["frame_period_s"] = period
    return out
