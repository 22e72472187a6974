"""Multi-frame raw merge for HDR and night shots: plan a burst, align it, merge it, tone-map the result.

The API the daemon and ``camtune merge`` call (``docs/merge.md`` has the algorithm, figures and an example):

* ``plan.plan_burst(mode, stats, limits) -> BurstPlan`` - exposures and frame count for ``hdr`` or ``night``
  from ``plan.StreamStats`` of the stream (and ``plan.measure_motion`` between two stream frames);
* ``merge_burst(frames, reference=None) -> MergedRaw`` - ``frames`` are ``BurstFrame``s (raw, levels, noise
  profile, exposure); the result is a 16-bit-scale Bayer frame with its own noise profile and per-frame
  reports for the sidecar (``engine.py``, ``align.py``, ``field.py``, ``merge.py``);
* ``tone.with_local_tone(pipeline)`` - the ISP with the local tone mapping stage for merged frames;
* ``dng_out.write_merged_dng(path, merged, cfa, source)`` - the merged frame as a DNG.
"""

from .burst import BurstFrame, FrameReport, MergedRaw
from .engine import choose_reference, merge_burst

__all__ = ["BurstFrame", "FrameReport", "MergedRaw", "choose_reference", "merge_burst"]
