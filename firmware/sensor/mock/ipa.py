"""The mock's control loops, modelled on the Raspberry Pi IPA's AGC and AWB and driven by the same tuning file.

Each frame, the loops look at the previous frame's statistics (zone means of the noise-free signal, as the
ISP's statistics block would report them) and choose the next exposure, gain and colour gains:

* AGC: brings the metered, white-balanced luminance to ``rpi.agc``'s ``y_target`` at the estimated lux
  (times 2^ExposureValue), filtered with ``speed``, and splits the exposure into shutter and gain along the
  exposure mode's stages, as ``AgcChannel::divideUpExposure`` does.
* AWB: walks ``rpi.awb``'s ``ct_curve`` between the AwbMode's limits, scoring each colour temperature by the
  clamped squared distance of every zone from grey minus the lux-dependent prior (``Awb::coarseSearch``).

Manual controls override either loop exactly as picamera2 users expect: a non-zero ExposureTime or
AnalogueGain fixes that half; AwbEnable false with ColourGains fixes the gains.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

import cv2
import numpy as np

from ...tuning import TuningFile
from ...tuning.blocks import AgcChannel, Alsc, Awb, Lux
from ..controls import AWB_MODES, EXPOSURE_MODES, METERING_MODES
from ..protocol import SensorMode
from .render import SIGNAL_EXPOSURE_US, Levels, Signal

_FRAME_MARGIN_US = 200  # vertical blanking a frame needs beyond its exposure


@dataclass(frozen=True)
class FrameSettings:
    """What one frame was exposed with, as its metadata will report."""

    exposure_us: int
    gain: float
    colour_gains: tuple[float, float]
    ct: float
    lux: float
    frame_duration_us: int


def _metering_weights(kind: str) -> np.ndarray:
    """Weights on the 16x12 statistics grid for centre-weighted, spot and matrix metering."""
    yy, xx = np.mgrid[0:12, 0:16]
    r2 = ((xx - 7.5) / 8.0) ** 2 + ((yy - 5.5) / 6.0) ** 2
    if kind == "spot":
        return (r2 < 0.06).astype(float) + 1e-6
    if kind == "matrix":
        return np.ones((12, 16))
    return np.clip(3.0 - 2.5 * r2, 0.5, 3.0)


class MockIpa:
    def __init__(self, tuning: TuningFile, levels: Levels, mode: SensorMode,
                 gain_range: tuple[float, float], exposure_range_us: tuple[int, int],
                 array_size: tuple[int, int] | None = None):
        self.agc = AgcChannel.read(tuning)
        self.awb = Awb.read(tuning)
        self.lux_ref = Lux.read(tuning)
        self.alsc = Alsc.read(tuning)
        self.levels = levels
        self.mode = mode
        self.array_size = array_size
        self.gain_range = gain_range
        self.exposure_range = exposure_range_us
        self.controls: dict[str, Any] = {"AeEnable": True, "AwbEnable": True, "AwbMode": 0, "ExposureValue": 0.0,
                                         "AeMeteringMode": 0, "AeExposureMode": 0, "ExposureTime": 0,
                                         "AnalogueGain": 0.0, "ColourGains": (0.0, 0.0),
                                         "FrameDurationLimits": (mode.min_frame_duration_us, 1_000_000_000)}
        self.frames = 0
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
            y = self._metered_y(stats, s)
            lux = self._lux(stats, s)
            gains, ct = self._awb(stats, lux, s)
            exposure, gain = self._agc(y, lux, s)
            s = replace(s, exposure_us=exposure, gain=gain, colour_gains=gains, ct=ct, lux=lux)
        else:
            exposure, gain = self._manual_or(s.exposure_us, s.gain)
            s = replace(s, exposure_us=exposure, gain=gain)
        self.state = replace(s, frame_duration_us=self._frame_duration(s.exposure_us))
        self.frames += 1
        return self.state

    def _speed(self, speed: float, startup: int) -> float:
        return 1.0 if self.frames < startup else speed

    def _scale_dn(self, s: FrameSettings) -> float:
        """Electrons in the signal (10 ms) -> normalised 0..1 units for this frame's exposure and gain."""
        return (s.exposure_us / SIGNAL_EXPOSURE_US) * self.levels.dn_per_electron * s.gain / (
            self.levels.white - self.levels.black)

    def _metered_y(self, stats: Signal, s: FrameSettings) -> float:
        z = np.minimum(stats.zones * self._scale_dn(s), 1.0)
        gr, gb = s.colour_gains
        y = np.minimum(0.299 * z[..., 0] * gr + 0.587 * z[..., 1] + 0.114 * z[..., 2] * gb, 1.0)
        kind = METERING_MODES[int(self.controls["AeMeteringMode"])]
        w = _metering_weights(kind)
        return float((y * w).sum() / w.sum())

    def _lux(self, stats: Signal, s: FrameSettings) -> float:
        if self.lux_ref is None:
            return 400.0  # libcamera's default when no rpi.lux block exists
        y16 = stats.green_mean * self._scale_dn(s) * 65535.0
        return float(self.lux_ref.estimate(s.exposure_us, s.gain, max(y16, 1e-3)))

    def _agc(self, y: float, lux: float, s: FrameSettings) -> tuple[int, float]:
        if not self.controls["AeEnable"]:
            return s.exposure_us, s.gain
        target = float(self.agc.y_target.eval(np.clip(lux, *self.agc.y_target.domain)))
        target *= 2.0 ** float(self.controls["ExposureValue"])
        target = min(target, 0.9)
        current = s.exposure_us * s.gain
        wanted = current * target / max(y, 1e-4)
        speed = self._speed(self.agc.speed, self.agc.startup_frames)
        total = current + speed * (wanted - current)
        return self._divide(total)

    def _divide(self, total: float) -> tuple[int, float]:
        """Split shutter x gain along the exposure mode's stages, honouring manual halves and frame limits."""
        name = EXPOSURE_MODES[int(self.controls["AeExposureMode"])]
        shutters, gains = self.agc.exposure_modes.get(name, next(iter(self.agc.exposure_modes.values())))
        max_shutter = self._max_shutter()
        fixed_t = int(self.controls["ExposureTime"])
        fixed_g = float(self.controls["AnalogueGain"])
        if fixed_t and fixed_g:
            return self._manual_or(fixed_t, fixed_g)
        if fixed_t:
            t = min(fixed_t, max_shutter)
            return t, float(np.clip(total / t, *self.gain_range))
        if fixed_g:
            g = float(np.clip(fixed_g, *self.gain_range))
            return int(np.clip(total / g, self.exposure_range[0], max_shutter)), g
        t, g = min(shutters[0], max_shutter), gains[0]
        if t * g < total:
            for i in range(1, len(shutters)):
                t_stage = min(shutters[i], max_shutter)
                if t_stage * gains[i - 1] >= total:
                    t = total / gains[i - 1]
                    g = gains[i - 1]
                    break
                t = t_stage
                if t * gains[i] >= total:
                    g = total / t
                    break
                g = gains[i]
        t = float(np.clip(t, self.exposure_range[0], max_shutter))
        g = float(np.clip(g, *self.gain_range))
        return int(round(t)), g

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

    def _awb(self, stats: Signal, lux: float, s: FrameSettings) -> tuple[tuple[float, float], float]:
        curve = self.awb.curve
        if not self.controls["AwbEnable"]:
            gr, gb = self.controls["ColourGains"]
            if gr > 0 and gb > 0:
                ct = curve.ct_from_gains(gr, gb) if curve else s.ct
                return (float(gr), float(gb)), ct
            return s.colour_gains, s.ct
        z = self._shading_corrected(stats.zones, s.ct)
        lit = z[..., 1] > 0.02 * z[..., 1].max()
        r_g = z[..., 0][lit] / z[..., 1][lit]
        b_g = z[..., 2][lit] / z[..., 1][lit]
        if curve is None:
            # No calibration: grey world, as libcamera's uncalibrated files ask for (bayes: 0).
            gains = (float(1.0 / r_g.mean()), float(1.0 / b_g.mean()))
            return self._filter(gains, 4500.0, s)
        mode = AWB_MODES[int(self.controls["AwbMode"])]
        lo, hi = self.awb.modes.get(mode, self.awb.modes.get("auto", curve.domain))
        lo, hi = max(lo, curve.domain[0]), min(hi, curve.domain[1])
        cts = np.linspace(lo, hi, 121) if hi > lo else np.array([lo])
        r = np.interp(cts, curve.ct, curve.r)
        b = np.interp(cts, curve.ct, curve.b)
        dr = r_g[None, :] / r[:, None] - 1.0
        db = b_g[None, :] / b[:, None] - 1.0
        delta2 = np.minimum(dr * dr + db * db, self.awb.delta_limit).sum(axis=1)
        score = delta2 - self.awb.prior(lux, cts)
        ct = float(cts[int(np.argmin(score))])
        return self._filter(curve.gains(ct), ct, s)

    def _shading_corrected(self, zones: np.ndarray, ct: float) -> np.ndarray:
        """Zone statistics after lens shading correction, where the Pi's ISP takes its AWB statistics."""
        if self.alsc is None:
            return zones
        out = zones.copy()
        # The tables cover the whole pixel array; like the Pi's IPA (alsc.cpp resampleCalTable), take the part
        # under a cropped mode's window.
        tables = self.alsc.gains_for_crop(ct, self.mode.crop, self.array_size) if self.array_size \
            else self.alsc.gains(ct)
        for c, table in enumerate(tables):
            out[..., c] *= cv2.resize(table, (zones.shape[1], zones.shape[0]), interpolation=cv2.INTER_AREA)
        return out

    def _filter(self, gains, ct, s: FrameSettings):
        k = self._speed(self.awb.speed, self.awb.startup_frames)
        g = (s.colour_gains[0] + k * (gains[0] - s.colour_gains[0]), s.colour_gains[1] + k * (gains[1] - s.colour_gains[1]))
        return (float(g[0]), float(g[1])), float(s.ct + k * (ct - s.ct))
