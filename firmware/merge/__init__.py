"""Multi-frame raw merge for HDR and night shots: align a burst of Bayer frames, merge them, tone-map.

The API the daemon and ``camtune merge`` call:

* ``merge_burst(frames, reference=None) -> MergedRaw`` - ``frames`` are ``BurstFrame``s (raw, levels, noise
  profile, exposure); the result is a 16-bit-scale Bayer frame with its own noise profile (``engine.py``,
  ``align.py``, ``merge.py``).

See ``docs/merge.md`` for the algorithm and the figures.
"""

from .burst import BurstFrame, FrameReport, MergedRaw
from .engine import choose_reference, merge_burst

__all__ = ["BurstFrame", "FrameReport", "MergedRaw", "choose_reference", "merge_burst"]
