"""``camtune develop``: develop Bayer DNGs with the software ISP - picamera2's, rpicam-still's, ours, a converter's.

Each file's own metadata drives the ISP: CFA order, black and white levels, the as-shot neutral (white
balance, and through the tuning's ``ct_curve`` the colour temperature that CCM and lens shading are
interpolated at), the noise profile. Packed, tiled, big-endian and lossless-JPEG files are read; the DNG's
own processing (opcode lists with GainMap, LinearizationTable, ActiveArea, DefaultCrop/Scale,
BaselineExposure) is applied, and a missing tag is a one-line warning saying what was used instead (see
docs/dng-input.md). The tuning is the file named with ``--tuning``, else the one for the DNG's camera
(``dng_tuning.py``): the mock's calibrated file for mock captures, libcamera's installed file for a Raspberry
Pi sensor named in Model or UniqueCameraModel or recognised by any of its mode sizes, else Debian's stock copy
that install.sh unpacks. A Pi DNG's lens shading is uncorrected in the raw data: the tuning's ALSC removes it.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from pathlib import Path

from ..actions import DenoiseMode
from ..errors import CameradError, DenoiserUnavailable
from ..isp.demosaic import METHODS as DEMOSAIC_METHODS
from ..tuning import TuningFile, load_checked
from ..tuning.looks import load_look
from .dng_tuning import camera_of, choose_tuning, mode_crop

log = logging.getLogger(__name__)


class DevelopError(CameradError, ValueError):
    """A file cannot be developed as asked; the message names the file and the reason."""


def register(sub) -> None:
    p = sub.add_parser("develop", help="develop DNGs to JPEG (or 16-bit TIFF) with the software ISP",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n"
                              "  camtune develop shot.dng                      # writes shot.jpg beside it\n"
                              "  camtune develop shot.dng -o out.jpg --tuning my_imx477.json\n"
                              "  camtune develop captures/*.dng -o developed/ --tiff")
    p.add_argument("inputs", nargs="+", type=Path, metavar="IN.dng", help="DNG files to develop")
    p.add_argument("-o", "--output", type=Path,
                   help="output file (one input) or directory (default: beside each input, .jpg)")
    p.add_argument("--tuning", type=Path, help="tuning file (default: the one for the DNG's camera model)")
    p.add_argument("--look", metavar="NAME", help="compose a look onto the tuning (see `camtune looks`), "
                   "e.g. leica-authentic, leica-vibrant, leica-monochrome, neutral")
    p.add_argument("--denoise", choices=[m.value for m in DenoiseMode],
                   help="raw denoising (default: the camera's, from a camerad DNG's recipe; else off)")
    p.add_argument("--demosaic", choices=DEMOSAIC_METHODS,
                   help=f"demosaic method (default: the camera's, else {DEMOSAIC_METHODS[0]})")
    p.add_argument("--tiff", action="store_true", help="write a 16-bit sRGB TIFF instead of a JPEG")
    p.add_argument("--quality", type=int, default=93, help="JPEG quality 1..100 (default 93)")
    p.add_argument("--threads", type=int, default=2, help="threads for the denoiser (default 2)")
    p.set_defaults(run=run)


def output_path(src: Path, output: Path | None, many: bool, suffix: str) -> Path:
    if output is None:
        return src.with_suffix(suffix)
    if many or output.is_dir() or str(output).endswith("/"):
        return output / (src.stem + suffix)
    return output


def estimate_lux(tuning: TuningFile, dng) -> float:
    """Scene lux from ``rpi.lux`` and the raw frame's mean level, as libcamera's lux algorithm does."""
    from ..frame import gain_for_iso
    from ..tuning.blocks import Lux

    lux = Lux.read(tuning)
    if lux is None or not dng.exposure_us:
        return 400.0
    black = sum(dng.black_levels) / 4
    sample = dng.raw[::8, ::8].astype(float)
    y16 = max((sample.mean() - black) / max(dng.white_level - black, 1) * 65535.0, 1.0)
    return lux.estimate(dng.exposure_us, gain_for_iso(dng.iso), y16)


class DngDevelopment:
    """``camtune develop``'s recipe for each DNG (``firmware.develop``), its tuning files read once."""

    def __init__(self, args):
        self.args = args
        self._tunings: dict[Path, TuningFile] = {}

    def tuning_for(self, dng) -> tuple[Path, TuningFile]:
        path = self.args.tuning
        if path is None:
            choice = choose_tuning(camera_of(dng))
            if choice.note:
                print(f"camtune develop: {dng.path}: {choice.note}", file=sys.stderr)
            path = choice.path
        if path not in self._tunings:
            self._tunings[path] = load_checked(path)  # refused in one line naming block and key, as the daemon does
        return path, self._tunings[path]

    def recipe(self, tuning: TuningFile, look: str | None, denoise: str, demosaic: str):
        """The develop recipe for one tuning, look, denoiser and demosaic: a camerad DNG's recipe picks them."""
        from ..develop import Recipe, pipeline_for

        recipe = Recipe(tuning, look=look, denoise=DenoiseMode(denoise), demosaic=demosaic,
                        output_bits=16 if self.args.tiff else 8, threads=self.args.threads)
        try:
            pipeline_for(recipe)  # built (and its denoiser loaded) once per recipe
        except DenoiserUnavailable as exc:
            raise DevelopError(f"--denoise {denoise} is not available in this build ({exc}); "
                               f"use --denoise off") from None
        return recipe

    def develop(self, src: Path, dst: Path) -> None:
        from ..develop import develop
        from ..formats.dng_profile import tuning_digest
        from ..formats.dng_read import read_dng
        from ..formats.dng_recipe import develop_choices, frame_as_shot, read_recipe
        from ..formats.identity import CameraIdentity
        from ..formats.jpeg import encode_jpeg, exif_bytes
        from ..formats.tiff import encode_tiff16
        from ..frame import gain_for_iso
        from ..storage.atomic import atomic_write

        dng = read_dng(src)
        path, tuning = self.tuning_for(dng)
        stored = read_recipe(src)  # a camerad DNG says how the camera developed it
        if stored is not None and stored.tuning_digest != tuning_digest(tuning):
            print(f"camtune develop: {src}: note: {path} is not the tuning the camera used "
                  f"({stored.tuning} {stored.tuning_digest})", file=sys.stderr)
        look, denoise, demosaic = develop_choices(stored, look=self.args.look, denoise=self.args.denoise,
                                                  demosaic=self.args.demosaic)
        frame = frame_as_shot(dng.frame_info(lux=estimate_lux(tuning, dng)), stored)
        cropped = mode_crop(camera_of(dng)) if stored is None else None  # camerad's recipe says its crop
        if cropped is not None:
            print(f"camtune develop: {src}: {cropped.note}", file=sys.stderr)
            frame = dataclasses.replace(frame, crop=cropped.crop)
        rgb = dng.finish(develop(dng.raw, frame, self.recipe(tuning, look, denoise, demosaic)))
        if self.args.tiff:
            data = encode_tiff16(rgb, make=dng.make, model=dng.model, orientation=dng.orientation)
        else:
            identity = CameraIdentity(make=dng.make or "unknown", model=dng.model or "unknown",
                                      software="camerad camtune develop", f_number=dng.f_number,
                                      focal_length_mm=dng.focal_length_mm, lens_model=dng.lens_model)
            metadata = {"ExposureTime": dng.exposure_us, "AnalogueGain": gain_for_iso(dng.iso), "DigitalGain": 1.0}
            when = dng.datetime or (time.strftime("%Y:%m:%d %H:%M:%S"), "000", "")
            exif = exif_bytes(metadata, identity, 0, size=(rgb.shape[1], rgb.shape[0]), orientation=dng.orientation,
                              when=when, manual_wb=False)
            data = encode_jpeg(rgb, exif, quality=self.args.quality)
        dst.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(dst, data)


def progress(done: int, total: int, name: str, stream=None) -> None:
    """A one-line progress bar on a terminal; one line per file otherwise (logs stay readable)."""
    stream = stream or sys.stderr
    width = 30
    filled = width * done // max(total, 1)
    line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {name}"
    if stream.isatty():
        stream.write("\r" + line[:120].ljust(120) + ("\n" if done == total else ""))
    else:
        stream.write(line + "\n")
    stream.flush()


def run(args) -> int:
    if not 1 <= args.quality <= 100:
        raise ValueError(f"--quality {args.quality}: must be within 1..100")
    if args.tuning is not None and not args.tuning.exists():
        raise DevelopError(f"--tuning {args.tuning}: no such file")
    if args.look:
        load_look(args.look)  # an unknown look fails before any file is read, naming the looks there are
    missing = [str(p) for p in args.inputs if not p.is_file()]
    if missing:
        raise DevelopError(f"no such file: {', '.join(missing)}")
    many = len(args.inputs) > 1
    suffix = ".tif" if args.tiff else ".jpg"
    if many and args.output is not None and args.output.exists() and not args.output.is_dir():
        raise DevelopError(f"-o {args.output}: with several inputs the output must be a directory")
    if not 1 <= args.threads <= 64:
        raise ValueError(f"--threads {args.threads}: must be within 1..64")
    dev = DngDevelopment(args)
    if args.denoise:
        from ..develop import denoiser

        try:
            denoiser(DenoiseMode(args.denoise), args.threads)  # an unavailable denoiser fails before any file
        except DenoiserUnavailable as exc:
            raise DevelopError(f"--denoise {args.denoise} is not available in this build ({exc}); "
                               f"use --denoise off") from None
    failed = 0
    t0 = time.perf_counter()
    for i, src in enumerate(args.inputs, 1):
        dst = output_path(src, args.output, many, suffix)
        try:
            dev.develop(src, dst)
        except Exception as exc:  # one bad file never ends a batch; whatever it was is said in one line
            log.debug("developing %s failed", src, exc_info=True)
            if not many:
                if isinstance(exc, (CameradError, ValueError, OSError)):
                    raise
                raise DevelopError(f"{src}: {type(exc).__name__}: {exc}") from None
            failed += 1
            print(f"camtune develop: {src}: {exc}", file=sys.stderr)
        if many:
            progress(i, len(args.inputs), src.name)
        else:
            print(f"wrote {dst}")
    if many:
        ok = len(args.inputs) - failed
        print(f"developed {ok} of {len(args.inputs)} files in {time.perf_counter() - t0:.1f} s"
              + (f" ({failed} failed)" if failed else ""))
    return 1 if failed else 0
