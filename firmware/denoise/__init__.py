"""Raw denoising: the TFLite model and a classical fallback, behind the ISP's denoise hook."""

from __future__ import annotations

MODES = ("off", "fast", "hq")


def make_denoiser(mode: str, threads: int = 2):
    """A ``firmware.isp.denoise.Denoiser`` for ``mode``, or None for ``off``."""
    if mode not in MODES:
        raise ValueError(f"denoise mode {mode!r} is not one of {', '.join(MODES)}")
    if mode == "off":
        return None
    raise NotImplementedError("the denoiser is not built yet (issue: on-device TFLite raw denoiser)")
