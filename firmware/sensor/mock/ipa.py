"""The mock's control loops: the Raspberry Pi IPA's lux, AWB and AGC, driven by the same tuning file.

Each frame the loops look at the frame just completed - statistics of the noise-free signal at its exposure,
after lens shading correction with the tuning's own tables, as the Pi's statistics block reports them - and
choose the next exposure, gain and colour gains, with libcamera's algorithms read from the same block modules
the ISP uses:

* lux (``rpi.lux``): from the frame's exposure, gain and mean green level against the file's reference;
* AWB (``rpi.awb``): the Bayesian search of ``tuning.blocks.awb_search`` on the AWB regions as the Pi's
  statistics make them (the platform's grid, 16x12 vc4 or 32x32 pisp; saturated blocks not counted; then the
  lens shading tables), IIR-filtered at ``speed`` (1 during ``startup_frames``), or grey world without a
  calibrated curve;
* AGC (``rpi.agc``, channel 0): ``tuning.blocks.agc_loop``, libcamera's ``AgcChannel::process`` - metering,
  exposure and constraint modes, ``y_target`` at the lux, exposure value, flicker period, and the exposure
  mode's shutter/gain stages, with gain above the sensor's analogue range reported as digital gain.

Manual controls override either loop as picamera2 users expect: a non-zero ExposureTime or AnalogueGain fixes
that half; AwbEnable false with ColourGains fixes the gains; AeEnable false holds the last exposure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

import cv2
import numpy as np

from ...tuning import TuningFile
from ...tuning.blocks import AgcChannel, Alsc, Awb, Lux, awb_search
from ...tuning.blocks.agc_loop import AgcLoop, AgcStats
from ...tuning.blocks.awb import DEFAULT_CT
from ...tuning.blocks.lux import DEFAULT_LUX
from ...tuning.hardware import PLATFORMS
from ..controls import AWB_MODES, CONSTRAINT_MODES, EXPOSURE_MODES, METERING_MODES
from ..protocol import SensorMode
from .render import SIGNAL_EXPOSURE_US, Levels, Signal

_FRAME_MARGIN_US = 200  # vertical blanking a frame needs beyond its exposure
_SAMPLES = (128, 96)  # pixel (2x2 block) samples across and down, for the luminance histogram


@dataclass(frozen=True)
class FrameSettings:
    """What one frame was exposed with, as its metadata will report."""

    exposure_us: int
    gain: float
    colour_gains: tuple[float, float]
    ct: float
    lux: float
    frame_duration_us: int
    digital_gain: float = 1.0


def metering_map(weights: np.ndarray | None, grid: tuple[int, int]) -> np.ndarray:
    """A metering mode's weights spread onto the mock's (rows, cols) statistics grid.

    pisp's 15x15 zones tile the frame: each grid cell takes the zone under its centre. vc4's 15 zones are the
    VideoCore's concentric regions; we lay them out as the stock centre-weighted weights group them: three across
    the centre (0-2), then three rings of four quadrants (3-6, 7-10, 11-14) out to the corners.
    """
    rows, cols = grid
    if weights is None:
        return np.ones(grid)
    w = np.asarray(weights, dtype=np.float64)
    yy, xx = (np.mgrid[0:rows, 0:cols] + 0.5) / np.array([rows, cols])[:, None, None]
    if w.size != 15:
        n = int(round(w.size ** 0.5))
        return w.reshape(n, n)[(yy * n).astype(int), (xx * n).astype(int)]
    dx, dy = xx - 0.5, yy - 0.5
    radius = np.hypot(dx / 0.5, dy / 0.5) / np.sqrt(2)  # 0 at the centre, 1 in the corners
    quadrant = (dx >= 0).astype(int) + 2 * (dy >= 0)
    ring = np.digitize(radius, [0.2, 0.45, 0.75])
    index = np.where(ring == 0, np.digitize(dx, [-0.07, 0.07]), 3 + 4 * (ring - 1) + quadrant)
    return w[index]


class MockIpa:
    def __init__(self, tuning: TuningFile, levels: Levels, mode: SensorMode,
                 gain_range: tuple[float, float], exposure_range_us: tuple[int, int],
                 array_size: tuple[int, int] | None = None, cfa: str = "RGGB"):
        self.agc = AgcChannel.read(tuning)
        self.awb = Awb.read(tuning)
        self.lux_ref = Lux.read(tuning)
        self.alsc = Alsc.read(tuning)
        self.platform = PLATFORMS.get(tuning.target, PLATFORMS["vc4"])
        self.levels = levels
        self.mode = mode
        self.array_size = array_size
        self.cfa = cfa
        self.gain_range = gain_range
        self.exposure_range = exposure_range_us
        self.loop = AgcLoop(self.agc, gain_range, (exposure_range_us[0], 1e9))
        self.controls: dict[str, Any] = {"AeEnable": True, "AwbEnable": True, "AwbMode": 0, "ExposureValue": 0.0,
                                         "AeMeteringMode": 0, "AeExposureMode": 0, "AeConstraintMode": 0,
                                         "ExposureTime": 0, "AnalogueGain": 0.0, "ColourGains": (0.0, 0.0),
                                         "AeFlickerMode": 0, "AeFlickerPeriod": 10000,
                                         "FrameDurationLimits": (mode.min_frame_duration_us, 1_000_000_000)}
        self.frames = 0
        self._samples: tuple[Signal, np.ndarray, np.ndarray] | None = None
        self._shading: dict[tuple, np.ndarray] = {}
        self._awb_result: tuple[tuple[float, float], float] | None = None
        self._weights: dict[str, np.ndarray] = {}
        self.state = FrameSettings(exposure_us=10_000, gain=1.0, colour_gains=(1.8, 1.6), ct=4500.0, lux=400.0,
                                   frame_duration_us=mode.min_frame_duration_us)

    def apply_controls(self, controls: Mapping[str, Any]) -> None:
        self.controls.update(controls)
        if "AeEnable" in controls and controls["AeEnable"]:
            # Turning AE back on hands both halves back to the loop, as libcamera's AeEnable does.
            self.controls["ExposureTime"], self.controls["AnalogueGain"] = 0, 0.0

    # -- one frame -------------------------------------------------------------------------------------------
    def next_frame(self, stats: Signal | None) -> FrameSettings:
        """Settings for the next frame, from the statistics of the frame just completed."""
        s = self.state
        if stats is not None:
            regions, samples, cells = self._statistics(stats, s)
            lux = self._lux(stats, s)
            gains, ct = self._awb(stats, lux, s)
            exposure, gain, dg = self._agc(regions, samples, cells, lux, gains, s)
            s = replace(s, exposure_us=exposure, gain=gain, digital_gain=dg, colour_gains=gains, ct=ct, lux=lux)
        else:
            exposure, gain = self._manual_or(s.exposure_us, s.gain)
            s = replace(s, exposure_us=exposure, gain=gain)
        self.state = replace(s, frame_duration_us=self._frame_duration(s.exposure_us))
        self.frames += 1
        return self.state

    def _scale(self, s: FrameSettings) -> float:
        """Electrons in the signal (10 ms) -> normalised 0..1 units for this frame's exposure and gain."""
        return (s.exposure_us / SIGNAL_EXPOSURE_US) * self.levels.dn_per_electron * s.gain / (
            self.levels.white - self.levels.black)

    def _shading_tables(self, ct: float, grid: tuple[int, int] = (16, 12)) -> np.ndarray:
        """(rows, cols, 3) lens-shading gains on a statistics grid at ``ct`` (the Pi's colour statistics are
        post-LSC, or multiplied by the tables as libcamera does on pisp)."""
        ct = round(ct / 50.0) * 50.0
        key = (ct, grid)
        if key not in self._shading:
            if self.alsc is None:
                table = np.ones((grid[1], grid[0], 3))
            else:
                # The tables cover the whole pixel array; like alsc.cpp's resampleCalTable, take the mode's part.
                tables = self.alsc.gains_for_crop(ct, self.mode.crop, self.array_size) if self.array_size \
                    else self.alsc.gains(ct)
                table = np.dstack([cv2.resize(t, grid, interpolation=cv2.INTER_LINEAR) for t in tables])
            if len(self._shading) > 8:
                self._shading.clear()
            self._shading[key] = table
        return self._shading[key]

    def _statistics(self, stats: Signal, s: FrameSettings):
        """Region means (rows, cols, 3) and pixel samples (n, 3) on the 0..1 scale after shading correction."""
        if self._samples is None or self._samples[0] is not stats:
            h, w = stats.mosaic.shape
            ys = (np.arange(_SAMPLES[1]) * (h // 2) // _SAMPLES[1]) * 2
            xs = (np.arange(_SAMPLES[0]) * (w // 2) // _SAMPLES[0]) * 2
            block = {c: [] for c in "RGB"}
            for i, c in enumerate(self.cfa):
                dy, dx = divmod(i, 2)
                block[c].append(stats.mosaic[np.ix_(ys + dy, xs + dx)])
            rgb = np.stack([np.mean(block[c], axis=0) for c in "RGB"], axis=-1).reshape(-1, 3)
            cells = ((ys[:, None] * 12 // h) * 16 + (xs[None, :] * 16 // w)).ravel()
            self._samples = (stats, rgb, cells)
        _, rgb, cells = self._samples
        k = self._scale(s)
        shading = self._shading_tables(s.ct)
        regions = np.minimum(stats.zones * k, 1.0) * shading
        samples = np.minimum(rgb * k, 1.0) * shading.reshape(-1, 3)[cells]
        return regions, samples, cells

    def _lux(self, stats: Signal, s: FrameSettings) -> float:
        if self.lux_ref is None:
            return DEFAULT_LUX
        # The mean green level before shading correction: what camtune calibrate measured reference_Y on.
        y16 = stats.green_mean * self._scale(s) * 65535.0
        return float(self.lux_ref.estimate(s.exposure_us, s.gain, max(y16, 1e-3)))

    def _agc(self, regions, samples, cells, lux, gains, s: FrameSettings) -> tuple[int, float, float]:
        c = self.controls
        if not c["AeEnable"]:
            t, g = self._manual_or(s.exposure_us, s.gain)
            return t, g, 1.0
        loop = self.loop
        loop.metering_mode = METERING_MODES[int(c["AeMeteringMode"])]
        loop.exposure_mode = EXPOSURE_MODES[int(c["AeExposureMode"])]
        loop.constraint_mode = CONSTRAINT_MODES[int(c["AeConstraintMode"])]
        loop.ev = 2.0 ** float(c["ExposureValue"])
        loop.fixed_shutter = float(min(int(c["ExposureTime"]), self._max_shutter()) or 0)
        loop.fixed_gain = float(c["AnalogueGain"])
        loop.flicker_period = float(c["AeFlickerPeriod"]) if int(c["AeFlickerMode"]) else 0.0
        loop.shutter_range = (self.exposure_range[0], self._max_shutter())
        weights = self._weights.get(loop.metering_mode)
        if weights is None:
            weights = self._weights[loop.metering_mode] = metering_map(
                self.agc.metering_weights(loop.metering_mode), regions.shape[:2])
        y = samples @ np.array([0.299 * gains[0], 0.587, 0.114 * gains[1]])
        out = loop.process(AgcStats(regions.reshape(-1, 3), weights.ravel(), np.minimum(y, 1.0)),
                           s.exposure_us, s.gain, gains, lux)
        analogue = float(np.clip(out.analogue_gain, *self.gain_range))
        shutter = int(round(np.clip(out.shutter_us, self.exposure_range[0], self._max_shutter())))
        # AgcChannel::prepare: what the sensor cannot give, the ISP's digital gain does (1x to its limit).
        dg = float(np.clip(out.total / (shutter * analogue), 1.0, self.agc.max_digital_gain))
        return shutter, analogue, dg

    def _manual_or(self, exposure_us: int, gain: float) -> tuple[int, float]:
        t = int(self.controls["ExposureTime"]) or exposure_us
        g = float(self.controls["AnalogueGain"]) or gain
        return int(np.clip(t, self.exposure_range[0], self._max_shutter())), float(np.clip(g, *self.gain_range))

    def _max_shutter(self) -> int:
        return int(self.controls["FrameDurationLimits"][1]) - _FRAME_MARGIN_US

    def _frame_duration(self, exposure_us: int) -> int:
        lo, hi = self.controls["FrameDurationLimits"]
        want = max(self.mode.min_frame_duration_us, int(lo), exposure_us + _FRAME_MARGIN_US)
        return int(min(want, max(int(hi), self.mode.min_frame_duration_us)))

    def _awb_regions(self, stats: Signal, s: FrameSettings) -> tuple[np.ndarray, np.ndarray]:
        """The AWB regions of the frame on the platform's grid (0..1 scale, after lens shading) and counts."""
        k = self._scale(s)
        grid = self.platform.alsc_grid
        means, counts = awb_search.zone_stats(stats.mosaic, self.cfa, grid, full_scale=1.0 / k)
        return means * k * self._shading_tables(s.ct, grid), counts

    def _awb(self, stats: Signal, lux: float, s: FrameSettings) -> tuple[tuple[float, float], float]:
        curve = self.awb.curve
        if not self.controls["AwbEnable"]:
            gr, gb = self.controls["ColourGains"]
            if gr > 0 and gb > 0:
                ct = curve.ct_from_gains(gr, gb) if curve else s.ct
                return (float(gr), float(gb)), ct
            return s.colour_gains, s.ct
        # Awb::process: a new search every frame_period frames (every frame while starting up); in between
        # the filter keeps moving towards the last result.
        if self._awb_result is None or self.frames < self.awb.startup_frames \
                or self.frames % self.awb.frame_period == 0:
            mode = AWB_MODES[int(self.controls["AwbMode"])]
            regions, counts = self._awb_regions(stats, s)
            found = awb_search.search(regions, self.awb, lux, mode, full_scale=1.0, counts=counts)
            if found is not None:
                self._awb_result = (found[1], found[0])
            elif not (self.awb.bayes and curve is not None):
                self._awb_result = (awb_search.grey_world(regions), DEFAULT_CT)
            # else: too few usable regions; libcamera keeps what it had
        if self._awb_result is None:
            return s.colour_gains, s.ct
        return self._filter(*self._awb_result, s)

    def _filter(self, gains, ct, s: FrameSettings):
        k = 1.0 if self.frames < self.awb.startup_frames else self.awb.speed
        g = (s.colour_gains[0] + k * (gains[0] - s.colour_gains[0]), s.colour_gains[1] + k * (gains[1] - s.colour_gains[1]))
        return (float(g[0]), float(g[1])), float(s.ct + k * (ct - s.ct))
