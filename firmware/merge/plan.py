"""Exposure planning for a merged shot: meter the stream, measure its motion, choose exposures and frame count.

``hdr`` (HDR+ with bracketing): the short frames protect the highlights - exposure chosen from the histogram so
the brightest 0.1 % of the scene just stays below white, as HDR+ meters for its underexposed burst - and the
reference is one of them; one or two long frames at the exposure the camera's AE chose bring the shadows' noise
down (Google's "HDR+ with bracketing", 2021). More underexposure asks for more frames.

``night`` (Night Sight, Liba et al. 2019): one constant exposure, as long as the measured motion allows (a
couple of pixels of blur per frame, at most 1/3 s hand-held, 1 s when nothing moves), and as many frames as
it takes to gather the light the AE wanted, within a total time budget. The rendered brightness falls with
the light, so a night shot still looks like night.

Motion comes from the images (the prototype has no gyro): ``measure_motion`` aligns two consecutive stream
frames with the merge's own alignment and reports how fast the picture moves: the camera's own motion (the
tiles' median displacement), which the plan uses, and the 90th percentile of the tiles' speeds (a subject
crossing the frame), which is noisier in the dark and reported for the sidecar. Moving subjects are the
merge's business: it keeps the reference wherever a frame does not match.

>>> stats = StreamStats.from_raw(raw, black_levels, white_level, exposure_us=20000, gain=2.0)   # doctest: +SKIP
>>> plan = plan_burst("night", stats, Limits(max_exposure_us=1_000_000, max_gain=16.0))        # doctest: +SKIP
>>> [(f.exposure_us, f.gain) for f in plan.frames], plan.tone_gain                          # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MODES = ("hdr", "night")
# The brightest 0.1 % may clip in hdr (the sun, glints); 1 % at night (street lamps, lit signs).
HIGHLIGHT_QUANTILE = {"hdr": 0.999, "night": 0.99}
HIGHLIGHT_TARGET = 0.85  # where the highlight quantile lands in the short frames
MAX_UNDEREXPOSURE = 16.0  # hdr: the long frames 4 stops over the short ones (the merged 16 bits hold that)
MAX_LIFT = 4.0  # hdr: the tone mapping brings the midtones up at most 2 stops beyond what the AE chose
MAX_COMPRESSION = 64.0  # hdr: at most 6 stops between the synthetic long exposure and the reference
Y_TARGET = 0.16  # the AE's mean-luma target (rpi.agc's y_target)
BLUR_PX = 2.0  # acceptable motion blur per frame, full-resolution pixels
HANDHELD_S = 1 / 3
STILL_S = 1.0
STILL_PX_PER_S = 2.0  # below this the camera counts as on a tripod
NIGHT_BUDGET_S = 4.0  # night: total capture time at most


@dataclass(frozen=True)
class StreamStats:
    """What the planner reads from one recent stream frame (the lores stream is enough)."""

    peak: np.ndarray  # per 2x2 quad, its brightest site normalised to 0..1 (black..white), downsampled
    mean_luma: float  # mean of the quads' luma, 0..1
    median_luma: float  # their median: where the scene's midtones are, whatever the highlights do
    exposure_us: float  # what that frame was exposed with
    gain: float
    motion_px_per_s: float = 0.0  # from ``measure_motion``, full-resolution pixels per second

    @classmethod
    def from_raw(cls, raw: np.ndarray, black_levels, white_level: int, exposure_us: float, gain: float,
                 motion_px_per_s: float = 0.0) -> "StreamStats":
        h, w = raw.shape
        sites = [(raw[sy::2, sx::2].astype(np.float32) - black_levels[2 * sy + sx]) / (white_level - black_levels[
            2 * sy + sx]) for sy in (0, 1) for sx in (0, 1)]
        stack = np.stack(sites)
        luma = stack.mean(axis=0)
        return cls(peak=np.clip(stack.max(axis=0), 0, 1)[::2, ::2], mean_luma=float(np.clip(luma.mean(), 0, 1)),
                   median_luma=float(np.clip(np.median(luma[::2, ::2]), 0, 1)), exposure_us=float(exposure_us),
                   gain=float(gain), motion_px_per_s=float(motion_px_per_s))

    def highlight(self, quantile: float) -> tuple[float, float]:
        """(the highlight quantile's level, the fraction of quads clipped)."""
        return float(np.quantile(self.peak, quantile)), float(np.mean(self.peak >= 0.98))


@dataclass(frozen=True)
class Limits:
    """What the sensor and the shot allow."""

    max_exposure_us: float = 1_000_000.0
    min_exposure_us: float = 100.0
    max_gain: float = 16.0
    min_gain: float = 1.0
    max_frames: int = 15


@dataclass(frozen=True)
class FramePlan:
    exposure_us: int
    gain: float


@dataclass(frozen=True)
class BurstPlan:
    mode: str
    frames: tuple[FramePlan, ...]
    reference: int  # which frame the merge keeps as its reference
    tone_gain: float  # brightness the tone mapping adds to the merged frame (the AE's exposure / the reference's)
    reason: str  # one line for the log and the sidecar


def _split(product: float, gain_hint: float, lim: Limits) -> FramePlan:
    """Exposure time x gain = ``product`` (us), keeping the gain near the hint while the shutter allows."""
    gain = min(max(gain_hint, lim.min_gain), lim.max_gain)
    exposure = product / gain
    if exposure > lim.max_exposure_us:
        exposure = lim.max_exposure_us
        gain = min(product / exposure, lim.max_gain)
    elif exposure < lim.min_exposure_us:
        exposure = lim.min_exposure_us
        gain = max(product / exposure, lim.min_gain)
    return FramePlan(int(round(exposure)), round(float(gain), 4))


def _highlights(metering: list[StreamStats], mode: str) -> float:
    """The exposure product (us x gain) that puts the highlights at HIGHLIGHT_TARGET.

    From the metering frames whose highlights are not clipped, the most precise estimate (the brightest such
    frame's); when all clip, the true level is unknown: the shortest frame is extrapolated, the further the more
    of it clips beyond what may (HDR+ meters from an underexposed viewfinder to avoid exactly this guess).
    """
    quantile = HIGHLIGHT_QUANTILE[mode]
    best, fallback = None, None
    for st in sorted(metering, key=lambda m: m.exposure_us * m.gain):
        level, clipped = st.highlight(quantile)
        product = st.exposure_us * st.gain
        if level < 0.98:
            best = product * HIGHLIGHT_TARGET / max(level, 1e-3)
        elif fallback is None:
            fallback = product * HIGHLIGHT_TARGET / (2.0 * (1.0 + 10.0 * max(clipped - (1 - quantile), 0.0)))
    return best if best is not None else fallback


def plan_burst(mode: str, stats, limits: Limits = Limits(), frames: int | None = None) -> BurstPlan:
    """The burst for ``mode`` (``hdr`` or ``night``) from the stream's statistics; ``frames`` forces N.

    ``stats``: one ``StreamStats`` (a frame at the AE's exposure), or several - the first at the AE's exposure,
    others shorter, to meter highlights that the AE's frame clips.
    """
    if mode not in MODES:
        raise ValueError(f"merge mode {mode!r} is not one of {', '.join(MODES)}")
    if frames is not None and not 2 <= frames <= limits.max_frames:
        raise ValueError(f"frames must be 2..{limits.max_frames}, got {frames}")
    metering = [stats] if isinstance(stats, StreamStats) else list(stats)
    ae = metering[0]
    metered = ae.exposure_us * ae.gain
    # What the AE would want for a normal frame: the mean brought to its target.
    wanted = metered * Y_TARGET / max(ae.mean_luma, 1e-4)
    plan = _plan_hdr if mode == "hdr" else _plan_night
    return plan(ae, limits, frames, metered, wanted, _highlights(metering, mode))


def _plan_hdr(stats, lim, frames, metered, wanted, highlights) -> BurstPlan:
    normal = min(wanted, lim.max_exposure_us * lim.max_gain)
    # The synthetic long exposure puts the midtones (the median, not the mean a bright window drags up) at the
    # AE's target - up to MAX_LIFT beyond the AE - and the short frames keep the highlights.
    midtones = metered * Y_TARGET / max(stats.median_luma, 1e-4)
    synthetic = min(max(normal, midtones), normal * MAX_LIFT)
    short = max(min(highlights, normal), synthetic / MAX_COMPRESSION)
    # The long frames gather light for the shadows: as much as the merge's precision allows (16 bits: 16x the
    # reference) and the sensor gives; past what the motion allows they take gain instead of time.
    motion_cap = BLUR_PX / max(stats.motion_px_per_s, 1e-6) * 1e6
    long_product = min(short * MAX_UNDEREXPOSURE, lim.max_exposure_us * lim.max_gain)
    under = long_product / short
    n = frames or int(np.clip(round(4 + 2 * math.log2(max(under, 1.0))), 3, lim.max_frames))
    longs = 0 if under < 1.5 else max(1, n // 4)  # a quarter of the burst: the shadows need fewer frames
    long_plan = _split(long_product, max(stats.gain, long_product / motion_cap), lim)
    short_plan = _split(short, stats.gain, lim)
    plan = (short_plan,) * (n - longs) + (long_plan,) * longs
    return BurstPlan("hdr", plan, 0, float(synthetic / (short_plan.exposure_us * short_plan.gain)),
                     f"hdr: {n - longs} frames {_describe(short_plan)} (highlights)"
                     + (f" + {longs} at {_describe(long_plan)} (shadows)" if longs else "")
                     + f", tone gain x{synthetic / short:.1f}")


def _plan_night(stats, lim, frames, metered, wanted, highlights) -> BurstPlan:
    still = stats.motion_px_per_s < STILL_PX_PER_S
    t_max = min(STILL_S if still else HANDHELD_S, BLUR_PX / max(stats.motion_px_per_s, 1e-6))
    t = min(max(t_max * 1e6, lim.min_exposure_us), lim.max_exposure_us)
    # Night stays night: below 3 lux-ish scenes (wanted > 4x what 1/10 s at gain 8 gives), aim a little lower.
    target = wanted * min(1.0, (800_000.0 / wanted) ** 0.25)
    # Per frame: enough gain to reach the target (read noise falls with gain), but keep what is not clipped now
    # from clipping, and never less than the target spread over the whole burst.
    # Time is capped by the motion; gain by the sensor: a frame never gets longer to make up for either.
    per_frame = min(target, highlights, t * lim.max_gain)
    n = frames or int(np.clip(math.ceil(min(target / per_frame, NIGHT_BUDGET_S * 1e6 / t)), 2, lim.max_frames))
    f = _split(per_frame, per_frame / t, lim)
    return BurstPlan("night", (f,) * n, 0, float(max(target / (f.exposure_us * f.gain), 1.0)),
                     f"night: {n} frames {_describe(f)} ({'still' if still else 'hand-held'}, "
                     f"{stats.motion_px_per_s:.0f} px/s)")


def _describe(f: FramePlan) -> str:
    return f"{f.exposure_us / 1000:.1f} ms x{f.gain:g}"


@dataclass(frozen=True)
class Motion:
    px_per_s: float  # the camera's own motion (the tiles' median displacement), full-resolution pixels/s
    subject_px_per_s: float  # the 90th percentile of the tiles' speeds: a subject crossing (noisier)
    residual: float  # median alignment residual (1: the frames agree to within noise)


def measure_motion(previous, current, dt_s: float, full_width: int) -> Motion:
    """How fast the picture moves between two stream frames (``BurstFrame``s, lores is enough)."""
    from .align import Reference, TileGrid, align

    ref_luma = previous.luma()
    grid = TileGrid.for_plane(ref_luma.shape)
    scale = full_width / ref_luma.shape[1]  # luma pixels (one per Bayer quad) -> full-resolution pixels

    def noise_var(y):
        y = np.maximum(y, 0.0)
        return 0.25 * previous.noise.variance(y), 0.25 * current.noise.variance(y)

    a = align(Reference(ref_luma, grid), current.luma(current.exposure / previous.exposure), noise_var)
    speed = np.hypot(a.shift[..., 0], a.shift[..., 1]).ravel() * scale / max(dt_s, 1e-6)
    # The camera's own motion from the median displacement (a median of lengths would grow with the noise).
    return Motion(a.motion * scale / max(dt_s, 1e-6), float(np.quantile(speed, 0.9)), float(np.median(a.residual)))

