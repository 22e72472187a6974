"""``camtune merge``: merge a burst of Bayer DNGs - ours, rpicam-still's, picamera2's - into one cleaner DNG.

The frames are aligned onto a reference tile by tile and merged on the raw Bayer planes as the camera's hdr and
night modes do (HDR+'s robust merge; see docs/merge.md): what moved between frames is taken from the reference
alone, so nothing ghosts. Frames may be a constant-exposure burst or an exposure bracket (AEB); each is weighed
by its exposure (ExposureTime x ISO) and noise (the DNG's NoiseProfile, else one estimated from the pixels).
The result is a 16-bit DNG with the merged frame's NoiseProfile and the reference's colour tags, at the
reference's exposure; ``--jpeg`` also develops it with local tone mapping, brightened as far as the burst's
middle exposure (an AEB bracket's 0 EV frame).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from ..errors import CameradError


class MergeError(CameradError, ValueError):
    """A burst cannot be merged as asked; the message names the file and the reason."""


def register(sub) -> None:
    p = sub.add_parser("merge", help="merge a burst of Bayer DNGs (aligned, ghost-free) into one DNG",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n"
                              "  camtune merge burst/*.dng -o merged.dng\n"
                              "  camtune merge a.dng b.dng c.dng -o merged.dng --reference 2\n"
                              "  camtune merge bracket/*.dng -o hdr.dng --jpeg hdr.jpg --look leica-authentic")
    p.add_argument("inputs", nargs="+", type=Path, metavar="IN.dng", help="the burst's DNGs (2 or more)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.dng", help="the merged DNG to write")
    p.add_argument("--reference", type=int, metavar="N",
                   help="keep frame N (1 = the first input) as the reference; default: the sharpest of the "
                        "first three among the shortest exposures")
    p.add_argument("--jpeg", type=Path, metavar="OUT.jpg", help="also develop the merged frame to a JPEG")
    p.add_argument("--look", metavar="NAME", help="look for --jpeg (see `camtune looks`)")
    p.add_argument("--tuning", type=Path, help="tuning for --jpeg (default: the one for the DNG's camera)")
    p.add_argument("--threads", type=int, default=2, help="worker threads (default 2)")
    p.set_defaults(run=run)


def _frames(paths: list[Path]):
    """The DNGs as ``BurstFrame``s (read with the project's DNG reader), checked to be one burst."""
    from ..denoise.conditioning import estimate_profile
    from ..formats.dng_read import read_dng
    from ..merge import BurstFrame

    dngs = [read_dng(p) for p in paths]
    first = dngs[0]
    for d in dngs[1:]:
        if d.raw.shape != first.raw.shape or d.cfa != first.cfa:
            raise MergeError(f"{d.path}: {d.raw.shape[1]}x{d.raw.shape[0]} {d.cfa} is not the burst's "
                             f"{first.raw.shape[1]}x{first.raw.shape[0]} {first.cfa} ({first.path})")
    known = all(d.exposure_us > 0 for d in dngs)
    estimated = None
    frames = []
    for d in dngs:
        iso = max(d.iso, 100)
        noise = d.noise_profile
        if noise is None:
            if estimated is None:  # fitted once, on the first frame without a profile; scaled by ISO after
                estimated = (estimate_profile(_packed(d)), iso)
            base, base_iso = estimated
            k = iso / base_iso
            noise = type(base)(base.shot * k, base.read * k * k)
        exposure = d.exposure_us * iso if known else 1.0
        frames.append(BurstFrame(d.raw, d.black_levels, d.white_level, noise, float(exposure)))
    return dngs, frames


def _packed(dng) -> np.ndarray:
    """The frame normalised and packed (h/2, w/2, 4), as the noise estimator takes it."""
    sites = [(dng.raw[sy::2, sx::2].astype(np.float32) - dng.black_levels[2 * sy + sx])
             / (dng.white_level - dng.black_levels[2 * sy + sx]) for sy in (0, 1) for sx in (0, 1)]
    return np.stack(sites, axis=-1)


def run(args) -> int:
    from ..merge import merge_burst
    from ..merge.dng_out import colour_from_dng, write_merged_dng

    if len(args.inputs) < 2:
        raise MergeError(f"a merge needs at least 2 DNGs, got {len(args.inputs)}")
    missing = [str(p) for p in args.inputs if not p.is_file()]
    if missing:
        raise MergeError(f"no such file: {', '.join(missing)}")
    if args.reference is not None and not 1 <= args.reference <= len(args.inputs):
        raise MergeError(f"--reference {args.reference}: must be 1..{len(args.inputs)} (the inputs' positions)")
    if not 1 <= args.threads <= 64:
        raise MergeError(f"--threads {args.threads}: must be 1..64")
    if args.look:
        from ..tuning.looks import load_look

        load_look(args.look)  # an unknown look fails before the burst is read
    t0 = time.perf_counter()
    dngs, frames = _frames(args.inputs)
    merged = merge_burst(frames, None if args.reference is None else args.reference - 1, threads=args.threads)
    ref = dngs[merged.reference]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_merged_dng(args.output, merged, ref.cfa, colour_from_dng(ref))
    used = ", ".join(f"{f.merged:.2f}" for f in merged.frames)
    # A bracket's middle exposure is the picture's brightness (0 EV for a constant burst).
    lift = math.log2(float(np.median([f.exposure for f in frames])) / frames[merged.reference].exposure)
    print(f"wrote {args.output}: {len(frames)} frames onto frame {merged.reference + 1} ({ref.path}), "
          f"{merged.frames_merged:.1f} frames' worth (share of each: {used}) in {time.perf_counter() - t0:.1f} s"
          + (f"; it is {lift:.1f} EV darker than the burst's middle exposure" if lift > 0.05 else ""))
    if args.jpeg:
        _develop(args, ref, merged, 2.0**lift)
        print(f"wrote {args.jpeg}")
    return 0


def _develop(args, ref, merged, tone_gain: float) -> None:
    """Develop the merged frame with the reference's metadata, local tone mapping and the chosen look."""
    from dataclasses import replace

    from ..develop import Recipe, develop
    from ..formats.identity import CameraIdentity
    from ..formats.jpeg import encode_jpeg, exif_bytes
    from ..frame import gain_for_iso
    from ..storage.atomic import atomic_write
    from ..tuning import load_checked
    from .develop_cmd import estimate_lux
    from .dng_tuning import camera_of, choose_tuning

    path = args.tuning or choose_tuning(camera_of(ref)).path
    tuning = load_checked(path)
    frame = replace(ref.frame_info(lux=estimate_lux(tuning, ref)), extra={"tone_gain": tone_gain})
    recipe = Recipe(tuning, look=args.look, local_tone=1.0)  # the ISP with the merge's local tone mapping
    rgb = ref.finish(develop(merged.raw, merged.frame_info(frame), recipe))
    identity = CameraIdentity(make=ref.make or "unknown", model=ref.model or "unknown",
                              software="camerad camtune merge")
    md = {"ExposureTime": ref.exposure_us, "AnalogueGain": gain_for_iso(ref.iso), "DigitalGain": 1.0}
    exif = exif_bytes(md, identity, 0, size=(rgb.shape[1], rgb.shape[0]), orientation=ref.orientation,
                      when=ref.datetime or (time.strftime("%Y:%m:%d %H:%M:%S"), "000", ""), manual_wb=False)
    args.jpeg.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.jpeg, encode_jpeg(rgb, exif, quality=93))
