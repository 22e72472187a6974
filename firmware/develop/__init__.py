"""Developing: from a raw Bayer frame and what is known about it to a finished picture, by one recipe.

``develop(raw, frame, recipe)`` is the one way a frame becomes a picture: the capture writer (stills), the
viewfinder (previews) and ``camtune develop`` (DNGs) all call it. A ``Recipe`` names the tuning, the look
composed onto it, the raw denoiser and the output; the pipelines a recipe needs (and its denoiser's model) are
built once and reused until ``release()`` (a camera that stops). ``frame_facts`` derives a live frame's
``FrameInfo`` (with the tuning's noise model).

>>> recipe = Recipe(tuning, look="leica-authentic", denoise=DenoiseMode.HQ)      # doctest: +SKIP
>>> rgb8 = develop(raw, frame_facts(md, cfa="RGGB", bit_depth=12, tuning=tuning), recipe)   # doctest: +SKIP
"""

from .facts import frame_facts, noise_profile
from .recipe import Recipe, denoiser, develop, pipeline_for, release

__all__ = ["Recipe", "denoiser", "develop", "frame_facts", "noise_profile", "pipeline_for", "release"]
