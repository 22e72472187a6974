"""Exposure controls for the half-press lock and for bracketing, in libcamera's control names.

The lock fixes the values the last frame was exposed with as manual shutter, gain and colour gains (rather
than only pausing the loops with AeEnable off, which freezes whatever the loop holds a few frames later), so
every backend holds exactly the exposure and white balance the operator saw at the half-press. Releasing
hands both back to AGC/AWB, with picamera2's convention that ExposureTime/AnalogueGain 0 mean "automatic"
(picamera2 sets libcamera's ExposureTimeMode/AnalogueGainMode from them).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

# libcamera's AfMode / AfTrigger enum values (control_ids_core.yaml).
AF_MODE_AUTO, AF_MODE_CONTINUOUS = 1, 2
AF_TRIGGER_START = 0

# How close a frame's reported exposure must come to a bracket's request: sensors quantise the shutter to
# whole lines (~30 us on an IMX477) and the gain to register steps.
_EXPOSURE_TOLERANCE = 0.03
_EXPOSURE_SLACK_US = 100
_GAIN_TOLERANCE = 0.03


def lock_controls(metadata: Mapping[str, Any], advertised: Mapping[str, Any]) -> dict[str, Any]:
    """Controls that hold the exposure and white balance of the frame described by ``metadata``."""
    controls: dict[str, Any] = {"AwbEnable": False}
    if "ExposureTime" in metadata:
        controls["ExposureTime"] = int(metadata["ExposureTime"])
    if "AnalogueGain" in metadata:
        controls["AnalogueGain"] = float(metadata["AnalogueGain"])
    if "ColourGains" in metadata and "ColourGains" in advertised:
        r, b = metadata["ColourGains"]
        controls["ColourGains"] = (float(r), float(b))
    if "AfMode" in advertised and "AfTrigger" in advertised:
        # A half-press focuses once and holds it, as on a DSLR.
        controls["AfMode"] = AF_MODE_AUTO
        controls["AfTrigger"] = AF_TRIGGER_START
    return {k: v for k, v in controls.items() if k in advertised}


def unlock_controls(advertised: Mapping[str, Any]) -> dict[str, Any]:
    """Controls that hand exposure, white balance (and focus) back to the camera's loops."""
    controls: dict[str, Any] = {"AeEnable": True, "AwbEnable": True, "ExposureTime": 0, "AnalogueGain": 0.0}
    if "AfMode" in advertised:
        lo, hi, _ = advertised["AfMode"]
        if hi is None or hi >= AF_MODE_CONTINUOUS:
            controls["AfMode"] = AF_MODE_CONTINUOUS
    return {k: v for k, v in controls.items() if k in advertised}


def bracket_order(evs) -> list[float]:
    """A bracket's EV offsets in shooting order: the 0 EV (or nearest) frame first - it is the zero-lag one,
    exposing at the press - then outwards, minus before plus.

    >>> bracket_order([2, 0, -2])
    [0.0, -2.0, 2.0]
    """
    return sorted((float(ev) for ev in evs), key=lambda ev: (abs(ev), ev))


def bracket_evs(frames: int, step_ev: float) -> list[float]:
    """The drive mode's bracket: ``frames`` offsets ``step_ev`` apart, centred on 0 EV, in shooting order.

    >>> bracket_evs(3, 2.0)
    [0.0, -2.0, 2.0]
    >>> bracket_evs(2, 1.0)
    [-0.5, 0.5]
    """
    centre = (frames - 1) / 2
    return [round(ev, 6) + 0.0 for ev in bracket_order((i - centre) * step_ev for i in range(frames))]


def bracket_exposure(base_us: int, base_gain: float, ev: float, advertised: Mapping[str, Any]
                     ) -> tuple[int, float, float]:
    """Shutter and gain for ``ev`` stops from a base exposure: shutter first, gain for what it cannot give.

    Returns (exposure_us, gain, achieved_ev); the achieved EV differs from ``ev`` only when the sensor's
    limits clip it, and the sidecar records both.
    """
    t_lo, t_hi = _limits(advertised, "ExposureTime", 1, 10_000_000)
    g_lo, g_hi = _limits(advertised, "AnalogueGain", 1.0, 16.0)
    total = base_us * base_gain * 2.0 ** ev
    t = int(round(min(max(total / base_gain, t_lo), t_hi)))
    g = min(max(total / t, max(g_lo, 1.0)), g_hi)
    achieved = math.log2((t * g) / (base_us * base_gain))
    return t, g, achieved


def matches(metadata: Mapping[str, Any], exposure_us: int, gain: float) -> bool:
    """Whether a frame was exposed with the requested shutter and gain (within the sensor's quantisation)."""
    t = float(metadata.get("ExposureTime", 0))
    g = float(metadata.get("AnalogueGain", 0.0))
    return (abs(t - exposure_us) <= max(_EXPOSURE_TOLERANCE * exposure_us, _EXPOSURE_SLACK_US)
            and abs(g - gain) <= _GAIN_TOLERANCE * gain)


def _limits(advertised: Mapping[str, Any], name: str, lo, hi):
    info = advertised.get(name)
    if info is None:
        return lo, hi
    a, b, _ = info
    # Our backends advertise 0 as "automatic"; the real lower limit is the smallest non-zero value.
    return (a if a else lo), (b if b else hi)
