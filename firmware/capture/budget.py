"""How many frames the ZSL ring holds and how many buffers the sensor gets, from a memory budget.

Each sensor buffer is a whole request: the raw frame (16-bit, 24.7 MB at 12.3 MP) and, on a Pi, the ISP's
full-resolution RGB image beside it. The ring gets what the budget leaves after the buffers streaming needs
(one being filled, one being read out); the sensor gets the ring, that headroom, and slack for frames being
copied out to the develop queue. Without ZSL the ring holds only the newest frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..sensor.protocol import Sensor, SensorMode

MB = 1024 * 1024
STREAM_HEADROOM = 2  # buffers the sensor itself must always have: one filling, one reading out
STAGE_SLACK = 2  # buffers a taken frame may hold while it is copied out


@dataclass(frozen=True)
class BufferPlan:
    ring: int  # frames the ZSL ring keeps
    buffer_count: int  # buffers the sensor is configured with
    request_bytes: int  # memory one buffer (request) holds

    @property
    def ring_bytes(self) -> int:
        return self.ring * self.request_bytes


def request_bytes(sensor: Sensor, mode: SensorMode) -> int:
    """Bytes one request holds, as the backend declares them (picamera2 adds its RGB stream)."""
    return int(sensor.request_bytes(mode))


def plan(budget_mb: int, per_request: int, *, zsl: bool, queue_size: int, fixed_buffers: int = 0,
         lazy_buffers: bool = False) -> BufferPlan:
    """The ring and buffer count for a budget (``fixed_buffers`` > 0: the configured count instead).

    ``lazy_buffers``: the backend's buffers cost nothing until read (the mock renders on demand), so frames
    waiting to be copied out may hold one each without touching the budget.
    """
    slack = STAGE_SLACK + (queue_size if lazy_buffers else 0)
    if fixed_buffers:
        ring = max(1, fixed_buffers - STREAM_HEADROOM - STAGE_SLACK) if zsl else 1
        return BufferPlan(ring, fixed_buffers, per_request)
    if not zsl:
        return BufferPlan(1, 1 + STREAM_HEADROOM + slack, per_request)
    frames = (budget_mb * MB) // per_request
    ring = frames - STREAM_HEADROOM
    if ring < 2:
        need = (2 + STREAM_HEADROOM) * per_request / MB
        raise ConfigError(f"capture.memory_budget_mb = {budget_mb} holds {frames} frame(s) of "
                          f"{per_request / MB:.1f} MB; zero shutter lag needs at least {need:.0f} MB in this mode "
                          f"(or set capture.zsl = false)")
    return BufferPlan(ring, ring + STREAM_HEADROOM + slack, per_request)
