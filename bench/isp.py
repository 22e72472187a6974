"""Software ISP: a 12.3 MP DNG developed by our pipeline vs LibRaw (rawpy, AHD), the preview path, MTF50.

Reference, run in the same invocation on the same file: rawpy reading the DNG and developing it to 8-bit
sRGB with its AHD demosaic and the camera's white balance. Ours: reading the DNG and running the still
pipeline with every stage the tuning enables (black level, DPC, ALSC, AWB, HQ demosaic, CCM, tone, sharpen).
The preview path develops a 2028x1520 frame (the binned mode) with the fast demosaic. Sharpness is the MTF50
of the mock's slanted-edge scene (ISO 12233 style, green channel of linear RGB) for each demosaic method.

LibRaw and ours run one after the other, in turn, and each figure is the median of its runs; the ratios come
in wall time (what a shutter press waits for) and in CPU time (the work; LibRaw's AHD runs on OpenMP threads,
ours on bands over threads; other jobs on shared cores disturb it far less). ``python -m bench`` prints the load
average before and after.

Stage times are medians over the repeats; the pipeline runs its stages on bands of rows on ``isp_threads``
threads, so each is the stage's share of the wall time (its time summed over the bands, divided by the threads).
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from firmware.clock import FakeClock
from firmware.develop import frame_facts
from firmware.formats.dng import encode_dng
from firmware.formats.dng_read import read_dng
from firmware.formats.identity import CameraIdentity
from firmware.isp import bands, build_pipeline, build_preview_pipeline
from firmware.isp.demosaic import METHODS
from firmware.isp.pipeline import Pipeline

from .quality_metrics import mtf50  # the slanted-edge estimate, shared with bench quality
from .timing import best_of, peak_rss_mb


def _capture_dng(scene: str, mode: str, ct: float, path: Path) -> Path:
    from firmware.sensor.mock.sensor import MockSensor
    from firmware.sensor.mock.spectral import Lighting

    cam = MockSensor("imx477", scene, Lighting(ct, "auto", 800), clock=FakeClock())
    m = cam.info.mode(mode)
    cam.configure(m, 4)
    cam.start()
    for _ in range(24):
        cam.next_request(5.0).release()
    with cam.next_request(5.0) as req:
        raw = req.make_array("raw").copy()
        md = req.get_metadata()
    tuning = cam.tuning
    cam.close()
    frame = frame_facts(md, cfa="RGGB", bit_depth=m.bit_depth, tuning=tuning, mode_factor=m.binning)
    path.write_bytes(encode_dng(raw, md, frame, tuning=tuning,
                                identity=CameraIdentity(make="camerad", model="imx477 (mock)"), wall_ns=0))
    return path


def _edge_roi(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb[h // 2 - 100:h // 2 + 100, w // 2 - 40:w // 2 + 40, 1]


def _linear_until_demosaic(pipe: Pipeline, raw, frame) -> np.ndarray:
    names = pipe.names()
    upto = Pipeline(pipe.stages[:names.index("demosaic") + 1])
    return upto.run(raw, frame)


def run(quick: bool = False) -> dict:
    import rawpy

    repeat = 3 if quick else 7
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        full = _capture_dng("colorchecker", "4056x3040", 5000, tmp / "full.dng")
        binned = _capture_dng("colorchecker", "2028x1520", 5000, tmp / "binned.dng")
        edge = _capture_dng("slanted-edge", "4056x3040", 5000, tmp / "edge.dng")

        def libraw():
            with rawpy.imread(str(full)) as rp:
                return rp.postprocess(demosaic_algorithm=rawpy.DemosaicAlgorithm.AHD, use_camera_wb=True,
                                      output_bps=8)

        dng = read_dng(full)
        frame = dng.frame_info()
        tuning = read_tuning()

        def ours():
            d = read_dng(full)
            return build_pipeline(tuning).run(d.raw, frame)

        # One run of each in turn, so machine load (shared cores) hits both alike; each one's median. Wall
        # time is what a shutter press waits for; CPU time (every thread of the process) is the work, which
        # other jobs on the cores disturb far less.
        (t_ref, cpu_ref), (t_ours, cpu_ours) = _alternate((libraw, ours), 2 * repeat)
        pipe = build_pipeline(tuning)
        stage_times: dict[str, list[float]] = {}

        def develop():
            pipe.run(dng.raw, frame)
            for name, seconds in pipe.timings.items():
                stage_times.setdefault(name, []).append(seconds)

        t_pipe = best_of(develop, repeat)
        out["libraw_ahd_12mp_ms"] = t_ref * 1e3
        out["isp_12mp_read_and_develop_ms"] = t_ours * 1e3
        out["isp_12mp_pipeline_only_ms"] = t_pipe * 1e3
        out["isp_12mp_dng_read_ms"] = best_of(lambda: read_dng(full), repeat) * 1e3
        out["isp_vs_libraw"] = t_ours / t_ref
        out["libraw_ahd_12mp_cpu_ms"] = cpu_ref * 1e3
        out["isp_12mp_read_and_develop_cpu_ms"] = cpu_ours * 1e3
        out["isp_vs_libraw_cpu"] = cpu_ours / cpu_ref
        out["isp_threads"] = bands.THREADS
        out["isp_band_rows"] = bands.BAND_ROWS
        for name, seconds in stage_times.items():
            out[f"isp_stage_{name}_ms"] = statistics.median(seconds) * 1e3
        tracemalloc.start()
        pipe.run(dng.raw, frame)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["isp_12mp_peak_alloc_mb"] = peak / 2**20
        out["isp_12mp_output_mb"] = dng.raw.shape[0] * dng.raw.shape[1] * 3 / 2**20

        small = read_dng(binned)
        sframe = small.frame_info()
        preview = build_preview_pipeline(tuning)
        out["preview_2028x1520_ms"] = best_of(lambda: preview.run(small.raw, sframe), repeat * 3) * 1e3
        half = build_preview_pipeline(tuning, size=(1014, 760))
        out["preview_2028x1520_to_1014x760_ms"] = best_of(lambda: half.run(small.raw, sframe), repeat * 3) * 1e3

        e = read_dng(edge)
        eframe = e.frame_info()
        for method in METHODS:
            rgb = _linear_until_demosaic(build_pipeline(tuning, demosaic=method), e.raw, eframe)
            out[f"mtf50_{method}_cycles_per_pixel"] = mtf50(_edge_roi(rgb))
        with rawpy.imread(str(edge)) as rp:
            ahd = rp.postprocess(demosaic_algorithm=rawpy.DemosaicAlgorithm.AHD, use_camera_wb=True,
                                 gamma=(1, 1), no_auto_bright=True, output_bps=16)
        out["mtf50_libraw_ahd_cycles_per_pixel"] = mtf50(_edge_roi(ahd))
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _alternate(fns, repeat: int) -> list[tuple[float, float]]:
    """(median wall, median process CPU) seconds of each function, run in turn ``repeat`` times after a warm-up."""
    for fn in fns:
        fn()
    runs: list[list[tuple[float, float]]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, times in zip(fns, runs):
            t, c = time.perf_counter(), time.process_time()
            fn()
            times.append((time.perf_counter() - t, time.process_time() - c))
    return [(statistics.median(w for w, _ in times), statistics.median(c for _, c in times)) for times in runs]


def read_tuning():
    from firmware.sensor.mock.tuning_default import default_tuning

    return default_tuning("imx477")


if __name__ == "__main__":
    t = time.perf_counter()
    for k, v in run(quick=True).items():
        print(k, v)
    print("took", time.perf_counter() - t)
