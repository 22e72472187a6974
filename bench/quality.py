"""Picture quality on the mock: a contact sheet per look, and the figures a photographer would check.

``python -m bench quality [--quick]`` writes the sheet to ``$CAMERAD_QUALITY_SHEET`` (default: the system's
temporary directory) and prints the figures; ``python -m bench.quality --sheet PATH [--quick]`` names the file.

Scenes (IMX477 mock, 5000 K, auto exposure and white balance as the camera settles them): the ColorChecker,
the slanted edge, the zone plate, dead leaves at 2000 and 15 lux, two photographs and the high-contrast room.
Each is developed through every look; the sheet shows the whole frame per look and a 100 % crop.

Figures, each against a judge outside our pipeline:

* false colour (mean chroma, sRGB levels) on the slanted edge's band and the zone plate: our ``hq`` against
  LibRaw's AHD (rawpy) demosaicking the same white-balanced mosaic, OpenCV's bilinear and edge-aware (the
  ``hq`` before this one); and in the JPEG, the fringe and the dark undershoot on the edge's mean profile;
* MTF50 of the edge (cycles/pixel): ours, AHD, bilinear, and the lens itself (the mock's noise-free green);
* hot pixels of the mock's defect map still visible in the JPEG (chart and photograph crops);
* clipped ColorChecker patches, the white patch and the 18 % grey per look;
* dead leaves: mean luma at 15 lux against 2000 lux, and SNR against the same frame developed noise-free;
* the high-contrast room: the clipped cloud's chroma (0 = neutral) and the lamp's colour.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from firmware.isp import FrameInfo, build_pipeline
from firmware.tuning.looks import apply_look, list_looks

from . import quality_metrics as qm

SCENES = (("chart", "colorchecker", 800), ("slanted edge", "slanted-edge", 800), ("zone plate", "zone-plate", 800),
          ("dead leaves 2000 lux", "dead-leaves", 2000), ("dead leaves 15 lux", "dead-leaves", 15),
          ("coffee", "natural:coffee", 800), ("astronaut", "natural:astronaut", 800),
          ("high contrast", "high-contrast", 800))
ZONE = (0.5 + 550 / 4056, 0.5)  # a ring of the zone plate at 0.07-0.27 cycles/pixel
THUMB = (320, 240)


def capture(scene: str, lux: float, mode: str):
    """One frame after the mock's AE and AWB settle: raw, frame facts, chart patches, base tuning."""
    from firmware.sensor.mock.models import sensor_model

    from .colour import capture as settled

    raw, md, patches, tuning = settled(scene, 5000.0, lux, mode=mode)
    info = sensor_model(qm.MODEL).info
    return raw, FrameInfo.from_metadata(md, info.cfa, info.mode(mode).bit_depth), patches, tuning


def demosaic_figures(tuning) -> dict:
    """False colour and MTF50 of each demosaic on the same white-balanced mosaics (full-resolution crops)."""
    out = {}
    from firmware.isp.demosaic import DemosaicStage

    for name, scene, centre in (("edge", "slanted-edge", (0.5, 0.5)), ("zone", "zone-plate", ZONE)):
        crop = qm.render_crop(scene, (512, 512), centre, hot_pixels=0)
        mosaic = qm.white_balanced(tuning, crop.raw, crop.frame)
        mask = qm.edge_band(mosaic.shape) if scene == "slanted-edge" else None
        rgb = {m: DemosaicStage(m).process(mosaic.copy(), crop.frame) for m in ("hq", "fast")}
        rgb["libraw_ahd"] = qm.libraw_rgb(mosaic, crop.frame.cfa, tuning)
        # The hq before this one: OpenCV's edge-aware demosaic (the mock's RGGB is OpenCV's "BG").
        rgb["opencv_ea"] = cv2.cvtColor(mosaic, cv2.COLOR_BayerBG2RGB_EA)
        for method, picture in rgb.items():
            out[f"false_colour_{name}_{method}"] = qm.false_colour(picture, mask)
            if name == "edge":  # the count: pixels with chroma over 15 in the edge's band
                out[f"chroma_over_15_edge_{method}_pixels"] = int((qm.chroma(picture)[mask] > 15).sum())
            if name == "edge":
                out[f"mtf50_{method}_cycles_per_pixel"] = qm.mtf50(picture[96:416, 206:306, 1])
        if name == "edge":
            out["mtf50_lens_cycles_per_pixel"] = qm.mtf50(qm.lens_green(scene, (512, 512), centre)[96:416, 206:306])
    return out


def defect_figures(tuning) -> dict:
    out = {}
    pipe = build_pipeline(tuning)
    for name, scene, centre in (("chart", "colorchecker", (0.32, 0.36)), ("coffee", "natural:coffee", (0.5, 0.5)),
                                ("dead_leaves", "dead-leaves", (0.5, 0.5))):
        crop = qm.render_crop(scene, (768, 576), centre)
        left = qm.defects_left(pipe.run(crop.raw, crop.frame), pipe.run(crop.defective, crop.frame), crop.defects)
        out[f"hot_pixels_left_{name}"] = f"{left} of {len(crop.defects)}"
    return out


def look_figures(look: str, scene: str, lux: float, rgb: np.ndarray, patches) -> dict:
    out = {}
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if scene == "colorchecker":
        means = [rgb[p.y:p.y + p.height, p.x:p.x + p.width].reshape(-1, 3).mean(axis=0) for p in patches]
        out[f"{look}_clipped_patches"] = len(qm.clipped_patches(rgb, patches))
        out[f"{look}_white_patch"] = "/".join(f"{v:.0f}" for v in means[18])
        out[f"{look}_grey_18_luma"] = float(cv2.cvtColor(np.uint8([[means[21]]]), cv2.COLOR_RGB2GRAY)[0, 0])
    elif scene == "slanted-edge":  # fringes and ringing in the JPEG, on the mean profile across the edge
        out.update(fringe_figures(look, rgb))
    elif scene == "dead-leaves":
        out[f"{look}_dead_leaves_{lux:g}_lux_mean_luma"] = float(luma.mean())
    elif scene == "high-contrast":
        h, w = luma.shape
        cloud = rgb[int(0.24 * h):int(0.26 * h), int(0.16 * w):int(0.18 * w)].reshape(-1, 3).mean(axis=0)
        lamp = rgb[int(0.32 * h):int(0.34 * h), int(0.71 * w):int(0.73 * w)].reshape(-1, 3).mean(axis=0)
        out[f"{look}_cloud_chroma"] = float(np.ptp(cloud))
        out[f"{look}_lamp"] = "/".join(f"{v:.0f}" for v in lamp)
        out[f"{look}_clipped_fraction"] = float((rgb.max(axis=-1) >= 255).mean())
    return out


def before(tuning):
    """The still pipeline with the hq demosaic it had before: OpenCV's edge-aware (for the mock's RGGB)."""
    from firmware.isp import Pipeline
    from firmware.isp.demosaic import DemosaicStage

    class EdgeAware(DemosaicStage):
        def prepare(self, frame, shape, image=None):
            return lambda rows, top: cv2.cvtColor(rows, cv2.COLOR_BayerBG2RGB_EA)

    return Pipeline([EdgeAware("fast") if s.name == "demosaic" else s for s in build_pipeline(tuning).stages])


def fringe_figures(name: str, rgb: np.ndarray) -> dict:
    """Across the slanted edge (mean profile): the largest R-G and B-G, and how far green dips below the dark
    side's level (ringing that reads as a dark line beside the edge)."""
    _, prof = qm.edge_profile(rgb)
    dark = prof[:4, 1].mean()
    return {f"{name}_edge_r_minus_g": float(np.abs(prof[:, 0] - prof[:, 1]).max()),
            f"{name}_edge_b_minus_g": float(np.abs(prof[:, 2] - prof[:, 1]).max()),
            f"{name}_edge_dark_undershoot": float(dark - prof[:, 1].min())}


def snr_figure(tuning, frame) -> float:
    """Dead leaves at the capture's exposure and gain: the JPEG's luma SNR against the noise-free develop."""
    crop = qm.render_crop("dead-leaves", (768, 576), (0.5, 0.5), lux=frame.lux, gain=frame.analogue_gain,
                          exposure_us=frame.exposure_us, hot_pixels=0)
    pipe = build_pipeline(tuning)
    return qm.snr_db(pipe.run(crop.raw, crop.frame), pipe.run(np.rint(crop.clean).astype(np.uint16), crop.frame))


def label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 18), (0, 0, 0), -1)
    cv2.putText(out, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def detail(rgb: np.ndarray, scene: str) -> np.ndarray:
    """A 100 % crop where the scene's detail is (the edge, the zone plate's fine rings, a patch corner...)."""
    h, w = rgb.shape[:2]
    spots = {"colorchecker": (0.36, 0.32), "zone-plate": (0.5, ZONE[0]), "high-contrast": (0.31, 0.19),
             "natural:astronaut": (0.72, 0.33)}  # (row, column) fractions
    cy, cx = spots.get(scene, (0.5, 0.5))
    y, x = int(cy * h) - THUMB[1] // 4, int(cx * w) - THUMB[0] // 4
    crop = rgb[max(y, 0):max(y, 0) + THUMB[1] // 2, max(x, 0):max(x, 0) + THUMB[0] // 2]
    return cv2.resize(crop, THUMB, interpolation=cv2.INTER_NEAREST)  # 200 % of 100 %: pixels visible


def run(quick: bool = False, sheet: Path | None = None) -> dict:
    sheet = Path(sheet or os.environ.get("CAMERAD_QUALITY_SHEET")
                 or Path(tempfile.gettempdir()) / "camerad-quality.png")
    mode = "2028x1520" if quick else "4056x3040"
    looks = list(list_looks())
    t0 = time.perf_counter()
    out: dict = {"mode": mode, "load_average": os.getloadavg()[0]}
    rows, base = [], None
    for title, scene, lux in SCENES:
        raw, frame, patches, tuning = capture(scene, lux, mode)
        base = base or tuning
        tiles = []
        for look in looks:
            rgb = build_pipeline(apply_look(tuning, look)).run(raw, frame)
            out.update(look_figures(look, scene, lux, rgb, patches))
            tiles.append(label(cv2.resize(rgb, THUMB, interpolation=cv2.INTER_AREA), f"{title}: {look}"))
            if look == "neutral":
                tiles.append(label(detail(rgb, scene), f"{title}: 100 % crop, x2"))
                if scene == "slanted-edge":  # the same JPEG through the hq demosaic before this one
                    out.update(fringe_figures("neutral_opencv_ea", before(apply_look(tuning, look)).run(raw, frame)))
        if scene == "dead-leaves":
            out[f"dead_leaves_{lux}_lux_exposure_us_gain"] = f"{frame.exposure_us} / {frame.analogue_gain:.2f}"
            out[f"dead_leaves_{lux}_lux_snr_db"] = snr_figure(tuning, frame)
        rows.append(np.hstack(tiles))
    out.update(demosaic_figures(base))
    out.update(defect_figures(base))
    sheet.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(sheet), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
    out["contact_sheet"] = str(sheet)
    out["seconds"] = time.perf_counter() - t0
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sheet", type=Path, help="where to write the contact sheet PNG")
    ap.add_argument("--quick", action="store_true", help="the binned 2028x1520 mode (a smoke run)")
    args = ap.parse_args()
    for key, value in run(args.quick, args.sheet).items():
        print(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {value}")
