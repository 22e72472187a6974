"""A mock that is a stock-tuned sensor: the sensor a libcamera tuning file describes, built from the file.

``like("imx477")`` resolves the base file as for the real sensor (``tuning.build.find_base``: the file
libcamera installed under ``/usr/share/libcamera/ipa/rpi/<vc4|pisp>/``, else Debian's older stock files that
install.sh unpacks into ``.cache/libcamera-ipa``), on this board's platform (pisp on a Pi 5, vc4 elsewhere);
``like("pisp/imx477")`` names the platform; ``like("path/to/file.json")`` takes any file. From it:

* **colour** - spectral sensitivities fitted so that calibrating the mock gives back the file's ``rpi.ccm``
  matrices and ``rpi.awb`` ``ct_curve`` (``like_fit.py``);
* **lens shading** - the inverse of the gains the file's ``rpi.alsc`` makes libcamera program (``lens.TableLens``);
* **noise** - ``rpi.noise``: ``reference_slope`` is the shot noise (slope^2 / 2^(16 - bits) DN per electron),
  ``reference_constant`` the read noise at gain 1 (stock files say 0; then the part's figure, ``parts.py``);
* **black level** - ``rpi.black_level``;
* **brightness** - ``rpi.lux``: a scene of 18 % mean reflectance at ``reference_lux`` gives ``reference_Y``
  at the reference exposure and gain, so the mock's lux estimate (and AWB priors) agree with the file;
* **modes, CFA, bit depth, gain and exposure ranges** - the real sensor's (``parts.py``), named by the file
  (``imx477_noir.json`` is an IMX477).

A file without a calibration (libcamera's ``uncalibrated.json``: no ``ct_curve``) describes no sensor, and is
refused with a one-line ``TuningError``.

>>> spec = like("vc4/imx477")                                              # doctest: +SKIP
>>> cam = MockSensor(spec.model, tuning=spec.tuning, scene="colorchecker") # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...boards import detect_board
from ...errors import TuningError
from ...tuning import TuningFile
from ...tuning.blocks import Alsc, BlackLevel, Lux, Noise
from ...tuning.build import find_base
from .lens import TableLens
from .like_fit import calibration, fitted_camera
from .models import NoisePhysics, SensorModel
from .parts import PARTS, part

# rpi.lux's reference_Y is the mean of a real scene (the tuning tool's ColorChecker shots); the mock assumes a
# scene of this mean reflectance, a photographer's mid grey.
LUX_SCENE_REFLECTANCE = 0.18
_SPEC = re.compile(r"^(?:(vc4|pisp)/)?([a-z]+\d+\w*)$")


@dataclass(frozen=True)
class Like:
    """The file a like-mock was built from, what it resolved to, and the model."""

    path: Path
    platform: str
    part: str
    tuning: TuningFile
    model: SensorModel

    @property
    def label(self) -> str:
        """``vc4/imx477.json``-style name for messages and DNG models."""
        return f"{self.platform}/{self.path.name}"


def board_platform() -> str:
    """The platform libcamera uses on this board: pisp on a Pi 5, vc4 on earlier Pis and on hosts."""
    return "pisp" if detect_board() == "rpi5" else "vc4"


def resolve(spec: str) -> Path:
    """The tuning file a ``like`` value names: a ``.json`` path, or ``[vc4/|pisp/]SENSOR`` found as libcamera would."""
    spec = spec.strip()
    if spec.endswith(".json") or "\\" in spec or spec.count("/") > 1:
        path = Path(spec).expanduser()
        if not path.is_file():
            raise TuningError(f"mock like {spec!r}: no such tuning file")
        return path
    m = _SPEC.match(spec)
    if not m:
        raise TuningError(f"mock like {spec!r}: give a sensor (imx477), a platform and sensor (pisp/imx477) "
                          "or a tuning file (path/to/imx477.json)")
    if m.group(2) not in PARTS:
        raise TuningError(f"mock like {spec!r}: {m.group(2)} is not a sensor the mock knows ({', '.join(PARTS)})")
    try:
        return find_base(m.group(2), m.group(1) or board_platform())
    except TuningError as exc:
        found = str(exc).split("; pass --base")[0]
        raise TuningError(f"mock like {spec!r}: {found}; give the tuning file's path instead") from None


def part_of(path: Path) -> str:
    """The sensor a tuning file is for, from its name (``imx477_noir.json`` -> ``imx477``)."""
    m = re.match(r"^((?:imx|ov)\d+)", path.stem.lower())
    if m is None or m.group(1) not in PARTS:
        raise TuningError(f"{path}: cannot tell which sensor this file is for from its name; name the sensor "
                          f"({', '.join(PARTS)})")
    return m.group(1)


def _noise(tuning: TuningFile, p) -> NoisePhysics:
    n = Noise.read(tuning)
    scale = 2.0 ** (16 - p.bit_depth)
    pre, post = p.read_pre_dn, p.read_post_dn
    if n.constant > 0:  # the file's read noise at gain 1, split as the part's is
        k = (n.constant / scale) / float(np.hypot(pre, post))
        pre, post = pre * k, post * k
    return NoisePhysics(dn_per_electron=n.slope**2 / scale, read_pre_dn=pre, read_post_dn=post,
                        full_well_e=p.full_well_e)


def _white_electrons(tuning: TuningFile, noise: NoisePhysics, info, bit_depth: int) -> float:
    """Electrons from a perfect white at 1000 lux in 10 ms that make the mock's lux estimate right."""
    lux = Lux.read(tuning)
    if lux is None:
        return 5000.0
    span = (1 << bit_depth) - 1 - (info.black_level_16 >> (16 - bit_depth))
    return (1000.0 * 10_000.0 * span * lux.y
            / (lux.shutter_us * lux.gain * noise.dn_per_electron * 65535.0 * lux.lux * LUX_SCENE_REFLECTANCE))


def _lens(tuning: TuningFile) -> TableLens:
    alsc = Alsc.read(tuning)
    if alsc is None:  # no lens shading correction: a lens without shading
        return TableLens(np.ones((12, 16)), (), (), (), ())
    return TableLens(alsc.luminance, alsc.cts_r, alsc.tables_r, alsc.cts_b, alsc.tables_b)


def like_model(tuning: TuningFile, part_name: str) -> SensorModel:
    """The mock sensor model whose truth ``tuning`` describes, on the real part ``part_name``."""
    p = part(part_name)
    camera = fitted_camera(tuning)
    info = dataclasses.replace(p.info, black_level_16=int(round(BlackLevel.read(tuning).g)))
    if tuning.block("rpi.noise") is None:
        raise TuningError(f"{tuning.source}: a mock like this file needs rpi.noise (its noise), and it has none")
    noise = _noise(tuning, p)
    return SensorModel(info=info, bit_depth=p.bit_depth, noise=noise, gain_range=p.gain_range,
                       exposure_range_us=p.exposure_range_us,
                       white_electrons_1000lux_10ms=_white_electrons(tuning, noise, info, p.bit_depth),
                       lens=_lens(tuning), camera=camera, blur_sigma_px=0.6, temperature_c=p.temperature_c)


def like(spec: str, part_name: str | None = None) -> Like:
    """Resolve ``spec`` and build the mock it describes; ``part_name`` overrides the sensor read from its name."""
    path = resolve(spec)
    tuning = TuningFile.load(path)
    calibration(tuning)  # a file with nothing to be like fails first, and says so
    platform = "pisp" if tuning.target == "pisp" else "vc4"
    name = part_name or part_of(path)
    return Like(path, platform, name, tuning, like_model(tuning, name))
