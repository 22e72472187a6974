"""Raw denoising: the TFLite model and a classical fallback, behind the ISP's denoise hook.

``make_denoiser(mode, threads)`` is the one entry point, for a ``firmware.actions.DenoiseMode`` (the daemon's
``[denoise]`` config, ``camtune develop --denoise``; ``firmware.develop`` keeps each mode's denoiser):

* ``off``: None (the ISP leaves the stage out).
* ``hq``: a 32-channel CNN (``models/raw_cnn32.json``), quantised to int8 in range banks: each frame runs
  the int8 model calibrated for its noise level's input range, within 0.1 dB of the float model at gain 8-16.
* ``fast``: the same design 16 channels wide (``models/raw_cnn16.json``): half the time, ~0.7 dB noisier.
* With no TFLite runtime importable (see ``runtime``), ``hq`` and ``fast`` both fall back to
  ``classical.ClassicalDenoiser`` (non-local means), after one warning per process; nothing crashes.

Every denoiser conditions on ``frame.noise``; a frame without a noise profile gets one fitted from its own
pixels.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..actions import DenoiseMode
from . import runtime

MODELS_DIR = Path(__file__).resolve().parent / "models"
NETWORKS = {DenoiseMode.HQ: MODELS_DIR / "raw_cnn32.json", DenoiseMode.FAST: MODELS_DIR / "raw_cnn16.json"}

log = logging.getLogger(__name__)
_warned = False


def _warn_fallback(reason: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        log.warning("no TFLite runtime (%s): denoising with classical non-local means instead of the model; "
                    "install ai-edge-litert (or tflite-runtime with numpy<2) for the model", reason)


def make_denoiser(mode: str, threads: int = 2):
    """A ``firmware.isp.denoise.Denoiser`` for ``mode``, or None for ``off``."""
    if mode not in tuple(DenoiseMode):
        raise ValueError(f"denoise mode {mode!r} is not one of {', '.join(DenoiseMode)}")
    mode = DenoiseMode(mode)
    if mode is DenoiseMode.OFF:
        return None
    if not 1 <= int(threads) <= 64:
        raise ValueError(f"denoise threads must be 1..64, got {threads}")
    from .classical import ClassicalDenoiser
    from .model import TFLiteDenoiser, int8_banks, read_meta

    try:
        runtime.choose()
    except runtime.RuntimeUnavailable as exc:
        _warn_fallback(str(exc))
        return ClassicalDenoiser(mode)
    meta = read_meta(NETWORKS[mode])
    return TFLiteDenoiser(int8_banks(meta, MODELS_DIR), meta, mode=mode, threads=threads)
