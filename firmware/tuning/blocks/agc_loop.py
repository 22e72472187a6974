"""``rpi.agc``'s loop, frame by frame, as libcamera's ``AgcChannel::process`` runs it on one channel.

``computeGain``: the metered luminance (region means weighted by the metering mode, after the AWB gains,
clipped at full scale) is brought to ``y_target`` at the scene's lux times the exposure value, iterating
because clipped regions brighten less than the gain; then each histogram constraint of the constraint mode
may raise (LOWER) or lower (UPPER) the gain so the mean between its quantiles meets its own target.
``computeTargetExposure``: current exposure x gain, capped by the exposure mode's last shutter (within the
frame-duration limit) times its last gain. ``filterExposure``: IIR at ``speed`` (1 during ``startup_frames``,
its square root within 20 % of the target, no change inside ``stable_region``). ``applyDigitalGain``: the
exposure is reduced by 1/min(colour gains, 1), and by ``fast_reduce_threshold`` when desaturating.
``divideUpExposure``: shutter first, then gain, stage by stage along the mode's tables, then flicker periods.

>>> loop = AgcLoop(AgcChannel.default(), gain_range=(1.0, 16.0), shutter_range=(100, 1_000_000))
>>> stats = AgcStats(np.full((4, 3), 0.08), np.ones(4), np.full(100, 0.08))
>>> e = loop.process(stats, exposure_us=10_000, gain=1.0)   # Y 0.08 against 0.16: twice the exposure
>>> round(e.shutter_us), round(e.analogue_gain, 1)            # 10 ms is the first stage; then gain
(10000, 2.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .agc import AgcChannel

Y_TARGET_LIMIT = 0.9  # EvGainYTargetLimit: targets are clamped here, histograms cannot be read beyond it


@dataclass(frozen=True)
class AgcStats:
    """One frame's statistics on a 0..1 scale (full scale = 1), before the AWB gains, after lens shading.

    ``regions``: (n, 3) mean R, G, B of each metering region; ``weights``: (n,) the metering mode's weight of each
    region; ``y``: a sample of pixel luminances (after AWB) for the histogram constraints.
    """

    regions: np.ndarray
    weights: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Exposure:
    shutter_us: float
    analogue_gain: float
    total: float  # shutter x gain the loop wants, digital gain included (us)


def inter_quantile_mean(y: np.ndarray, q_lo: float, q_hi: float) -> float:
    """``Histogram::interQuantileMean``: the mean of the values between two quantiles."""
    s = np.sort(np.asarray(y, dtype=np.float64).ravel())
    lo, hi = int(math.floor(q_lo * len(s))), max(int(math.ceil(q_hi * len(s))), int(math.floor(q_lo * len(s))) + 1)
    return float(s[lo:min(hi, len(s))].mean())


class AgcLoop:
    """The state of one AGC channel. Controls are plain attributes, as the IPA's setters set them."""

    def __init__(self, channel: AgcChannel, gain_range: tuple[float, float], shutter_range: tuple[float, float]):
        self.channel = channel
        self.gain_range = gain_range
        self.shutter_range = shutter_range  # the mode's minimum, and the frame-duration limit's maximum
        self.metering_mode = self.exposure_mode = self.constraint_mode = "normal"
        self.ev = 1.0  # linear: 2 ** ExposureValue
        self.fixed_shutter = 0.0
        self.fixed_gain = 0.0
        self.flicker_period = 0.0
        self.frames = 0
        self.filtered = 0.0
        self.target_y = 0.0

    # -- limits --------------------------------------------------------------------------------------------
    def limit_shutter(self, t: float) -> float:
        return t if not t else float(min(max(t, self.shutter_range[0]), self.shutter_range[1]))

    def limit_gain(self, g: float) -> float:
        # limitGain: the sensor's minimum analogue gain below (an exposure mode's stage of gain 1 on a sensor
        # whose gain starts at 1.112, as the IMX708's, must be divided as 1.112 or the exposure sticks at that
        # stage's shutter), its largest times max_digital_gain above: the ISP's digital gain makes up the rest.
        lo, hi = self.gain_range
        return g if not g else min(max(g, lo), hi * self.channel.max_digital_gain)

    # -- one frame -----------------------------------------------------------------------------------------
    def process(self, stats: AgcStats, exposure_us: float, gain: float, awb_gains=(1.0, 1.0),
                lux: float = 400.0) -> Exposure:
        self.frames += 1
        ch = self.channel
        current = exposure_us * gain
        extra = self.compute_gain(stats, awb_gains, lux)
        shutters, gains = ch.exposure_mode(self.exposure_mode)
        if self.fixed_shutter and self.fixed_gain:
            target = self.fixed_shutter * self.fixed_gain / min(*awb_gains, 1.0)
        else:
            max_shutter = self.limit_shutter(self.fixed_shutter or shutters[-1])
            target = min(current * extra, max_shutter * self.limit_gain(self.fixed_gain or gains[-1]))
        self._filter(target)
        dg = 1.0 / min(*awb_gains, 1.0)
        if ch.desaturate and self.target_y > ch.fast_reduce_threshold and extra < math.sqrt(self.target_y):
            dg /= ch.fast_reduce_threshold
        shutter, analogue = self.divide(self.filtered / dg, shutters, gains)
        return Exposure(shutter, analogue, self.filtered)

    def compute_gain(self, stats: AgcStats, awb_gains, lux: float) -> float:
        ch = self.channel
        ev_gain = self.ev * ch.base_ev
        target = min(Y_TARGET_LIMIT, float(ch.y_target.eval(ch.y_target.clamp(lux))) * ev_gain)
        coeff = np.array([0.299 * awb_gains[0], 0.587, 0.114 * awb_gains[1]])
        w = np.asarray(stats.weights, dtype=np.float64)
        gain = 1.0
        for _ in range(8):
            y = float((np.minimum(stats.regions * gain, 1.0) @ coeff * w).sum() / max(w.sum(), 1e-12))
            step = min(10.0, target / (y + 0.001))
            gain *= step
            if step < 1.01:
                break
        for c in ch.constraint_mode(self.constraint_mode):
            c_target = min(Y_TARGET_LIMIT, float(c.y_target.eval(c.y_target.clamp(lux))) * ev_gain)
            c_gain = c_target / max(inter_quantile_mean(stats.y, c.q_lo, c.q_hi), 1e-6)
            if (c.bound == "LOWER" and c_gain > gain) or (c.bound == "UPPER" and c_gain < gain):
                gain, target = c_gain, c_target
        self.target_y = target
        return gain

    def _filter(self, target: float) -> None:
        ch = self.channel
        speed = 1.0 if (self.fixed_shutter and self.fixed_gain) or self.frames <= ch.startup_frames else ch.speed
        if not self.filtered:
            self.filtered = target
        elif self.filtered * (1 - ch.stable_region) < target < self.filtered * (1 + ch.stable_region):
            pass  # inside the stable region: leave it alone
        else:
            if 0.8 * target < self.filtered < 1.2 * target:
                speed = math.sqrt(speed)
            self.filtered = speed * target + (1 - speed) * self.filtered

    def divide(self, total: float, shutters, gains) -> tuple[float, float]:
        """``divideUpExposure``: (shutter us, analogue gain) for ``total``, then rounded to flicker periods."""
        shutter = self.limit_shutter(self.fixed_shutter or shutters[0])
        gain = self.limit_gain(self.fixed_gain or gains[0])
        if shutter * gain < total:
            for stage in range(1, len(gains)):
                if not self.fixed_shutter:
                    stage_shutter = self.limit_shutter(shutters[stage])
                    if stage_shutter * gain >= total:
                        shutter = total / gain
                        break
                    shutter = stage_shutter
                if not self.fixed_gain:
                    if gains[stage] * shutter >= total:
                        gain = total / shutter
                        break
                    gain = self.limit_gain(gains[stage])
        if not self.fixed_shutter and not self.fixed_gain and self.flicker_period:
            periods = int(shutter // self.flicker_period)
            if periods:
                new_shutter = periods * self.flicker_period
                gain = self.limit_gain(min(gain * shutter / new_shutter, gains[-1]))
                shutter = new_shutter
        return float(shutter), float(gain)
