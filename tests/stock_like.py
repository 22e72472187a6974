"""Every stock libcamera tuning file end to end, on a mock like the sensor it describes (tests and bench).

For each file in ``../shared/reference/libcamera-tuning/{vc4,pisp}`` with a calibration (``uncalibrated.json``
has none and is refused by ``like``), a mock like that sensor photographs:

* a ColorChecker at 2850, 4000 and 6500 K, written as picamera2 writes a DNG (``dng_writers.picamera2_dng``:
  picamera2's own ``save_dng`` and PiDNG - packed 10/12-bit, one ColorMatrix1, lens shading uncorrected), and
  developed by ``camtune develop --tuning <stock file> --look neutral --tiff``;
* the same chart through the daemon running on that mock, in its JPEG (look ``neutral``);
* a flat field at 2850 and 6500 K through the stock file's lens shading correction.

Colour is judged against the chart's reference the stock matrices were made for: the chart's colours under D65
whatever the light (``firmware.colour.chart``'s ``d65``; the Raspberry Pi tuning tool's convention), clipped
to sRGB, with one exposure scale fitted on the grey patches. The look ``neutral`` keeps the file's colour
(CCMs unchanged) and puts the tone on the plain sRGB curve with the vignetting fully corrected, so a patch
means the same wherever it sits in the frame.

The chart is shot as one shoots a chart to judge colour: white balance set on a grey card (the colour gains
of a perfect white under the light, given as manual ``ColourGains``, so the figure is the file's colour
rendition and not the AWB search's guess on a chart-filled frame - ``python -m bench colour`` measures AWB),
and exposed from -1 EV, a stop darker at a time until no photosite clips.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from firmware import paths
from firmware.clock import FakeClock
from firmware.colour import chart
from firmware.isp import FrameInfo, build_pipeline
from firmware.isp.pipeline import Pipeline
from firmware.isp.awb_search import zone_means
from firmware.sensor.mock import truth
from firmware.sensor.mock.like import Like, like
from firmware.sensor.mock.sensor import MockSensor
from firmware.sensor.mock.spectral import Lighting
from firmware.tuning.looks import apply_look

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dng_writers import picamera2_dng  # noqa: E402
from test_isp_colour import delta_e, patch_linear  # noqa: E402

LIGHTS = (2850.0, 4000.0, 6500.0)
FLAT_LIGHTS = (2850.0, 6500.0)
LUX = 800.0
REFERENCE = "d65"
SETTLE_FRAMES = 30  # in simulated time: free
DAEMON_SETTLE_FRAMES = 15  # in real time: AWB and AE take their first 10 frames at full speed


def stock_files() -> list[Path]:
    """The stock Raspberry Pi files beside the checkout (empty without ``../shared``)."""
    ref = paths.shared_reference_dir()
    if ref is None:
        return []
    return sorted((ref / "libcamera-tuning").glob("*/*.json"), key=lambda p: (p.parent.name, p.name))


def is_calibrated(path: Path) -> bool:
    return path.stem != "uncalibrated"


def full_field_mode(spec: Like):
    """The smallest mode that reads the whole array: a picamera2 DNG says nothing of its crop, so a cropped
    mode's lens shading cannot be placed on the tuning's grid (the daemon knows its mode and has no such need)."""
    whole = (0, 0) + tuple(spec.model.info.pixel_array_size)
    return min((m for m in spec.model.info.modes if m.crop == whole), key=lambda m: m.size[0] * m.size[1])


@dataclass
class Shot:
    mode: object
    raw: np.ndarray
    metadata: dict
    patches: list
    ev: float


def grey_card(spec: Like, ct: float) -> dict:
    """Controls for a white balance set on a grey card under the light at ``ct``."""
    w = truth.white_rgb(Lighting(ct, "auto", LUX), spec.model)
    return {"AwbEnable": False, "ColourGains": (float(w[1] / w[0]), float(w[1] / w[2]))}


def shoot(spec: Like, ct: float, mode, scene: str = "colorchecker", ev: float = -1.0) -> Shot:
    """One frame after AE has settled at ``ev``, white balance on a grey card; a stop darker at a time until
    nothing clips."""
    while True:
        cam = MockSensor(spec.model, scene=scene, lighting=Lighting(ct, "auto", LUX), tuning=spec.tuning,
                         clock=FakeClock())
        cam.configure(mode, 4)
        cam.set_controls({"ExposureValue": ev, **grey_card(spec, ct)})
        cam.start()
        for _ in range(SETTLE_FRAMES):
            cam.next_request(1.0).release()
        with cam.next_request(1.0) as req:
            raw, md = req.make_array("raw").copy(), req.get_metadata()
        patches = cam.patches()
        cam.close()
        if raw.max() < (1 << mode.bit_depth) - 1 or ev <= -4:
            return Shot(mode, raw, md, patches, ev)
        ev -= 1.0


def chart_delta_e(rgb: np.ndarray, patches, full_scale: float, ct: float) -> np.ndarray:
    return delta_e(patch_linear(rgb, patches, full_scale), chart.reference_srgb(ct, REFERENCE))


def dng_delta_e(spec: Like, ct: float, workdir: Path) -> tuple[float, Shot]:
    """Mean CIEDE2000 of the chart shot as a picamera2 DNG and developed by camtune with the stock file."""
    from firmware.camtune.cli import main as camtune

    shot = shoot(spec, ct, full_field_mode(spec))
    dng = picamera2_dng(workdir / f"{spec.part}_{ct:.0f}k.dng", shot.raw, shot.metadata, shot.mode.bit_depth,
                        cfa=spec.model.info.cfa, model=spec.part)
    tif = dng.with_suffix(".tif")
    with contextlib.redirect_stdout(io.StringIO()):  # "wrote ..."
        assert camtune(["develop", str(dng), "-o", str(tif), "--tuning", str(spec.path), "--look", "neutral",
                        "--tiff"]) == 0
    rgb = tifffile.imread(tif)
    return float(chart_delta_e(rgb, shot.patches, 65535.0, ct).mean()), shot


def daemon_delta_e(spec: Like, ct: float, ev: float, workdir: Path, awb: bool = False) -> float:
    """Mean CIEDE2000 of the chart in the JPEG the daemon writes when running on the mock like ``spec``: white
    balance on a grey card, or (``awb``) the daemon's own AWB on the chart-filled frame."""
    from PIL import Image

    from daemon_support import capture, mock_config
    from firmware.camera import Camerad

    mode = full_field_mode(spec)  # the DNG's framing, so the mock's AWB sees the same scene
    config = mock_config(workdir, sensor={"mode": mode.name},
                         mock={"like": str(spec.path), "colour_temperature": ct, "lux": LUX, "hot_pixels": 0},
                         capture={"look": "neutral", "raw": False, "sidecar": False}, denoise={"mode": "off"})
    app = Camerad(config, gpio=False)
    try:
        white = {} if awb else grey_card(spec, ct)
        app.sensor.set_controls({"ExposureValue": ev, **white})  # before start: from frame one
        app.start()
        deadline = time.monotonic() + 30
        while app.sensor.frames_completed < DAEMON_SETTLE_FRAMES and time.monotonic() < deadline:
            time.sleep(0.02)  # AE settles within its startup frames
        result = capture(app).result(timeout=60)
        patches = app.sensor.patches()
    finally:
        app.stop()
    jpeg = next(p for p in result.files if p.suffix == ".jpg")
    rgb = np.asarray(Image.open(jpeg)).astype(np.float64)
    return float(chart_delta_e(rgb, patches, 255.0, ct).mean())


def flat_residual(spec: Like, ct: float) -> dict[str, float]:
    """Spread (max - min) / mean over a 16x12 grid after lens shading correction: of R/G and B/G with the file
    as it is, and of G with its luminance table at full strength (the file's own strength leaves fall-off on
    purpose); and of G before correction, to show there was shading to remove. The flat field is exposed
    like a calibration one, a stop over AE's choice, so photon noise stays well below the 2 % asked."""
    shot = shoot(spec, ct, full_field_mode(spec), scene="flat", ev=1.0)
    frame = FrameInfo.from_metadata(shot.metadata, spec.model.info.cfa, shot.mode.bit_depth)
    grid = (16, 12)

    def spread(a):
        return float((a.max() - a.min()) / a.mean())

    out = {}
    for tf, key in ((spec.tuning, "colour"), (apply_look(spec.tuning, "neutral"), "luminance")):
        stages = build_pipeline(tf).stages
        upto = [s.name for s in stages].index("rpi.alsc") + 1  # the stages after it cannot flatten anything
        _, steps = Pipeline(stages[:upto]).run(shot.raw, frame, save_intermediates=True)
        z = zone_means(steps["rpi.alsc"], spec.model.info.cfa, grid)
        if key == "colour":
            out["r_g"], out["b_g"] = spread(z[..., 0] / z[..., 1]), spread(z[..., 2] / z[..., 1])
            out["before"] = spread(zone_means(steps["rpi.black_level"], spec.model.info.cfa, grid)[..., 1])
        else:
            out["g"] = spread(z[..., 1])
    return out


def white_offset(spec: Like, ct: float) -> tuple[float, float]:
    """How far the light's white lies across the file's ``ct_curve`` (the AWB search's transverse direction,
    outwards with r and b: positive) and the limit the file allows that way (``transverse_pos``/``_neg``).
    libcamera's search (``Awb::fineSearch``) never leaves that band, so a white beyond it is out of its reach."""
    from firmware.tuning.blocks import Awb

    awb = Awb.read(spec.tuning)
    gr, gb = grey_card(spec, ct)["ColourGains"]
    r, b = awb.sensitivity_r / gr, awb.sensitivity_b / gb
    ts = np.linspace(1500.0, 12000.0, 21001)
    cr, cb = awb.curve.rb_extended(ts)
    i = int(np.argmin(np.hypot(cr - r, cb - b)))
    normal = np.array([np.gradient(cb)[i], -np.gradient(cr)[i]])
    offset = float(np.dot([r - cr[i], b - cb[i]], normal / np.hypot(*normal)))
    return offset, (awb.transverse_pos if offset >= 0 else awb.transverse_neg)


def figures(path: Path, workdir: Path, daemon: bool = True, awb: bool = True) -> dict[str, float]:
    """Every figure for one stock file: ``dng_<K>``, ``daemon_<K>`` (grey card), ``awb_<K>`` (the daemon's own
    AWB) - mean CIEDE2000 - and ``flat_<K>`` (worst residual spread after correction)."""
    spec = like(str(path))
    out: dict[str, float] = {}
    for ct in LIGHTS:
        out[f"dng_{ct:.0f}"], shot = dng_delta_e(spec, ct, workdir)
        if daemon:
            out[f"daemon_{ct:.0f}"] = daemon_delta_e(spec, ct, shot.ev, workdir / f"d{ct:.0f}")
        if awb:
            out[f"awb_{ct:.0f}"] = daemon_delta_e(spec, ct, shot.ev, workdir / f"a{ct:.0f}", awb=True)
    for ct in FLAT_LIGHTS:
        r = flat_residual(spec, ct)
        out[f"flat_{ct:.0f}"] = max(r["r_g"], r["b_g"], r["g"])
    return out
