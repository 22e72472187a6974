"""One memory budget for every frame camerad holds: the sensor's buffers (the ZSL ring and the two streaming
needs) and the captures queued to be developed, each a raw frame copied out of its buffer.

Each sensor buffer is a whole request: the raw frame (16-bit, 24.7 MB at 12.3 MP) and, on a Pi, the ISP's
full-resolution RGB image beside it; a queued capture holds only its raw frame. The budget first holds the
smallest ring that still gives zero shutter lag (two frames) and the two streaming buffers, then up to
``capture.queue_size`` queued captures, and the ring gets the rest. So ``queue_size`` is a ceiling: at full
resolution the budget may admit fewer captures at once (a trigger needing more is refused as "queue full"),
in small modes the configured number. Before the budget covered the queue, RSS grew by a raw frame for every
queued capture: 12 queued 12.3 MP captures took the mock daemon to 930 MB.

Slack beyond the budget: two buffers a taken frame may hold while it is copied out (and on the mock, whose
buffers cost nothing until read, one per queued capture). See docs/memory.md for the figures on a Pi.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..sensor.protocol import Sensor, SensorMode

MB = 1024 * 1024
# The rest of camerad at 12.3 MP, beyond the budget: Python, numpy, OpenCV, LiteRT with its model, and the
# working set of the one capture being developed (denoiser, ISP, encoders). systemd/camerad.service's
# MemoryHigh is this plus the default budget; `python -m bench capture` measures it (on the mock, whose own
# render temporaries it includes: a real sensor's frames cost less).
OVERHEAD_MB = 448
STREAM_HEADROOM = 2  # buffers the sensor itself must always have: one filling, one reading out
STAGE_SLACK = 2  # buffers a taken frame may hold while it is copied out


@dataclass(frozen=True)
class BufferPlan:
    ring: int  # frames the ZSL ring keeps
    buffer_count: int  # buffers the sensor is configured with
    request_bytes: int  # memory one buffer (request) holds
    queue: int = 1  # captures that may wait to be developed at once (capture.queue_size, or fewer)
    capture_bytes: int = 0  # memory one queued capture holds (its raw frame)

    @property
    def ring_bytes(self) -> int:
        return self.ring * self.request_bytes

    @property
    def budget_bytes(self) -> int:
        """What the budget holds: the ring, the streaming buffers and the queue."""
        return (self.ring + STREAM_HEADROOM) * self.request_bytes + self.queue * self.capture_bytes


def request_bytes(sensor: Sensor, mode: SensorMode) -> int:
    """Bytes one request holds, as the backend declares them (picamera2 adds its RGB stream)."""
    return int(sensor.request_bytes(mode))


def capture_bytes(mode: SensorMode) -> int:
    """Bytes a queued capture holds: its raw frame, copied out of the sensor buffer as 16-bit samples."""
    return mode.size[0] * mode.size[1] * 2


def plan(budget_mb: int, per_request: int, *, zsl: bool, queue_size: int, fixed_buffers: int = 0,
         lazy_buffers: bool = False, per_capture: int | None = None) -> BufferPlan:
    """The ring, buffer count and queue for a budget (``fixed_buffers`` > 0: that buffer count instead).

    ``per_capture``: what one queued capture holds (default: a whole request, which over-counts on a Pi).
    ``lazy_buffers``: the backend's buffers cost nothing until read (the mock renders on demand), so frames
    waiting to be copied out may hold one each without touching the budget.
    """
    budget = budget_mb * MB
    per_capture = per_capture or per_request
    min_ring = 2 if zsl else 1
    sensor = (fixed_buffers or min_ring + STREAM_HEADROOM) * per_request
    queue = min(queue_size, max(0, budget - sensor) // per_capture)
    if queue < 1:
        need = (sensor + per_capture + MB - 1) // MB
        what = f"{fixed_buffers} sensor buffers" if fixed_buffers else \
            f"{min_ring + STREAM_HEADROOM} sensor buffers ({'a zero-shutter-lag ring of 2 and ' if zsl else ''}" \
            f"{STREAM_HEADROOM} for streaming)"
        raise ConfigError(f"capture.memory_budget_mb = {budget_mb} cannot hold {what} of {per_request / MB:.1f} MB "
                          f"and one queued capture of {per_capture / MB:.1f} MB; this mode needs at least {need} MB"
                          + (" (or set capture.zsl = false)" if zsl and not fixed_buffers else ""))
    slack = STAGE_SLACK + (queue if lazy_buffers else 0)
    if fixed_buffers:
        ring = max(1, fixed_buffers - STREAM_HEADROOM - STAGE_SLACK) if zsl else 1
        return BufferPlan(ring, fixed_buffers, per_request, queue, per_capture)
    if not zsl:
        return BufferPlan(1, 1 + STREAM_HEADROOM + slack, per_request, queue, per_capture)
    ring = (budget - queue * per_capture) // per_request - STREAM_HEADROOM
    return BufferPlan(ring, ring + STREAM_HEADROOM + slack, per_request, queue, per_capture)
