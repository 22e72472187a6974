"""Measuring merges on the mock against its truth: bursts rendered with the AE's settings, dynamic range on a
step wedge, SNR and PSNR. Used by ``python -m bench merge`` and the tests; nothing on the capture path.

Dynamic range follows ISO 15739's idea on a transmission wedge: a step counts while its SNR (truth over the RMS
difference from the truth) is at least 1 and at most 1 % of its samples are clipped; the range is the span
(in stops of the signal the sensor saw) from the brightest such step to the darkest one below it before the
first failure. Green sites only (half the photosites, no colour processing in between).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..frame import NoiseProfile
from .burst import MERGED_BLACK, MERGED_WHITE, BurstFrame, MergedRaw


@dataclass(frozen=True)
class MockBurst:
    frames: list[BurstFrame]
    timestamps: list[int]
    truth: list  # per frame: noise-free signal (h, w) normalised to 0..1 of that frame's white, or None
    ae: tuple[int, float]  # what the mock's AE chose (exposure us, gain)


def mock_profile(model, mode, gain: float) -> NoiseProfile:
    """The mock's exact noise on the normalised signal at ``gain`` (what its tuning's rpi.noise describes)."""
    from ..sensor.mock.render import mode_levels

    lv = mode_levels(model, mode)
    span = lv.white - lv.black
    return NoiseProfile(lv.dn_per_electron * gain / span, lv.read_noise_dn(gain) ** 2 / span**2)


def mock_ae(renderer, tuning, mode, lighting, frames: int = 40):
    """The mock IPA's converged settings on the scene: ``FrameSettings`` (exposure, gain, colour gains, CT)."""
    from ..sensor.mock.ipa import MockIpa
    from ..sensor.mock.render import mode_levels

    m = renderer.model
    ipa = MockIpa(tuning, mode_levels(m, mode), mode, m.gain_range, m.exposure_range_us, m.info.pixel_array_size)
    sig = renderer.signal(mode, lighting)
    s = ipa.next_frame(None)
    for _ in range(frames):
        s = ipa.next_frame(sig)
    return s


def render_burst(renderer, mode, lighting, exposures: list[tuple[int, float]], t0_ns: int = 1_000_000_000,
                 period_ns: int = 100_000_000, truth=None) -> MockBurst:
    """Frames at ``t0 + i * period`` with the given (exposure us, gain), their noise profiles, and the truths of
    the frames ``truth`` names (default all; the others' entries are None)."""
    from ..sensor.mock.motion import truth_dn
    from ..sensor.mock.render import mode_levels

    lv = mode_levels(renderer.model, mode)
    span = lv.white - lv.black
    frames, stamps, truths = [], [], []
    for i, (e, g) in enumerate(exposures):
        ts = t0_ns + i * period_ns
        raw = renderer.render(mode, lighting, e, g, ts)
        frames.append(BurstFrame(raw, (float(lv.black),) * 4, lv.white, mock_profile(renderer.model, mode, g),
                                 float(e * g)))
        stamps.append(ts)
        want = truth is None or i in truth
        truths.append(truth_dn(renderer, mode, lighting, e, g, ts) / np.float32(span) if want else None)
    return MockBurst(frames, stamps, truths, exposures[0])


def normalised(frame: BurstFrame | MergedRaw) -> np.ndarray:
    """A frame's signal (h, w) float32, 0 at black and 1 at white."""
    if isinstance(frame, MergedRaw):
        return (frame.raw.astype(np.float32) - MERGED_BLACK) / np.float32(MERGED_WHITE - MERGED_BLACK)
    return (frame.raw.astype(np.float32) - np.float32(frame.black_levels[0])) / np.float32(frame.span[0])


@dataclass(frozen=True)
class Wedge:
    stops: float  # dynamic range: stops of usable steps
    usable: tuple[int, ...]  # indices of the usable steps
    snr: np.ndarray  # per step
    clipped: np.ndarray  # per step: share of clipped samples


def _green(img: np.ndarray, cfa: str) -> list[np.ndarray]:
    return [img[i // 2::2, i % 2::2] for i, c in enumerate(cfa) if c == "G"]


def wedge_range(measured: np.ndarray, truth: np.ndarray, patches, cfa: str = "RGGB",
                clip_level: float = 0.98) -> Wedge:
    """Dynamic range on the wedge's steps (``patches`` in the frame's pixels): stops between the brightest and
    darkest usable step's true signal on the sensor (lens fall-off included, so steps sort by what the sensor
    saw); a step is usable with SNR >= 1 and <= 1 % of its samples clipped, and the run stops at the first
    failure below the brightest usable step."""
    snr, clipped, level = [], [], []
    for p in patches:
        sl = np.s_[p.y:p.y + p.height, p.x:p.x + p.width]
        m = np.concatenate([g.ravel() for g in _green(measured[sl], cfa)])
        t = np.concatenate([g.ravel() for g in _green(truth[sl], cfa)])
        err = np.sqrt(np.mean((m - t) ** 2))
        level.append(float(np.mean(t)))
        snr.append(level[-1] / max(float(err), 1e-12))
        clipped.append(float(np.mean(m >= clip_level)))
    snr, clipped, level = np.array(snr), np.array(clipped), np.array(level)
    ok = (snr >= 1.0) & (clipped <= 0.01)
    usable: list[int] = []
    for i in np.argsort(-level):  # brightest first
        if ok[i]:
            usable.append(int(i))
        elif usable:
            break
    stops = float(np.log2(level[usable[0]] / level[usable[-1]])) if usable else 0.0
    return Wedge(stops, tuple(usable), snr, clipped)


def psnr(measured: np.ndarray, truth: np.ndarray, mask: np.ndarray, peak: float = 1.0) -> float:
    """PSNR (dB) of ``measured`` against ``truth`` over ``mask``."""
    err = np.mean((measured[mask] - truth[mask]) ** 2)
    return float(10 * np.log10(peak * peak / max(err, 1e-20)))
