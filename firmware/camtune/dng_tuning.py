"""Which tuning file develops a DNG: the one for the camera that made it.

The sensor is read from what the writers put in the file:

* ``Model`` / ``UniqueCameraModel`` naming it anywhere in the text: rpicam-still writes the sensor
  (``imx477``; before libcamera named cameras by model, the device-tree path
  ``/base/soc/i2c0mux/i2c@1/imx477@1a``), picamera2 with PiDNG since PR #95 the sensor too, variants included
  (``imx708_wide_noir``: its own tuning file first, then the base sensor's);
* camerad's mock (Make ``camerad``, Model ``imx477 (mock)``): the mock's calibrated file, else the stock file
  of the sensor it imitates;
* older picamera2 files say only ``PiDNG / PiCamera2``: then the image size, matched against every mode of
  the Raspberry Pi sensors. A size two sensors share is settled by the black level the DNG carries against
  each candidate's stock file, else by how common the sensor is - with a one-line note naming the others.

The file is libcamera's installed one (``/usr/share/libcamera/ipa/rpi/{vc4,pisp}``, this board's platform
first; a DNG with 16-bit samples over a 16-bit black level comes from a Pi 5, so pisp first), else Debian's
stock copy that install.sh unpacks. An unknown camera gets a one-line hint naming libcamera's
``uncalibrated.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..errors import CameradError
from ..pi_cameras import SENSORS, sensor_names

LIBCAMERA_DIRS = (Path("/usr/share/libcamera/ipa/rpi"), Path("/usr/local/share/libcamera/ipa/rpi"))
PLATFORMS = ("vc4", "pisp")
# Every mode size of the Raspberry Pi cameras' sensors (firmware/pi_cameras.py), the most common sensor first
# where two share a size.
SENSOR_MODES = {name: tuple(m.size for m in s.modes) for name, s in SENSORS.items() if s.modes}


class TuningNotFound(CameradError, ValueError):
    """No tuning file for a DNG's camera; the message says what was looked for and what to pass instead."""


@dataclass(frozen=True)
class Camera:
    """What a DNG says about its camera (``DngImage`` has all of these)."""

    make: str
    model: str
    unique_model: str
    size: tuple[int, int]  # (width, height) of the raw frame
    black16: float | None = None  # the DNG's black level on the 16-bit scale, if it has one
    pisp: bool = False  # 16-bit samples with a 16-bit black level: a Pi 5 (PiSP) wrote them

    def describe(self) -> str:
        name = self.unique_model or " ".join(p for p in (self.make, self.model) if p)
        return f"camera {name!r}" if name else "a camera that names no Make, Model or UniqueCameraModel"


@dataclass(frozen=True)
class TuningChoice:
    path: Path
    sensor: str | None  # None: the mock's own calibrated file
    how: str  # what in the DNG decided it, for logs
    note: str | None = None  # a one-line note for the user (a size shared with other sensors)


@dataclass(frozen=True)
class ModeCrop:
    """The field of view of the sensor mode a DNG was read out in, when that mode is cropped."""

    sensor: str
    crop: tuple[float, float, float, float]  # (x0, y0, x1, y1) as fractions of the pixel array
    note: str  # one line for the user: what was inferred and from what


def mode_crop(camera: Camera) -> ModeCrop | None:
    """The crop of a cropped sensor mode, inferred for a DNG that names its sensor and has that mode's size.

    A picamera2 DNG records neither the mode nor its crop (rpicam-still's neither), yet lens shading tables
    cover the whole pixel array: libcamera resamples them to the mode's crop (``resampleCalTable``). A file
    whose ``UniqueCameraModel``/``Model`` names a Raspberry Pi sensor and whose size is one of that sensor's
    cropped modes (imx477 2028x1080 and 1332x990, imx708 1536x864, imx219 and ov5647 1920x1080 and 640x480)
    was read out in that mode. None when nothing is named, the size is a full-field mode, or the
    mode's crop is not known here.
    """
    names = sensor_names(camera.unique_model) or sensor_names(camera.model)
    name = next((n for n in names if n in SENSORS), None)
    if name is None:
        return None
    pi = SENSORS[name]
    mode = pi.mode(camera.size)
    if mode is None or not pi.is_cropped(mode):
        return None
    x, y, w, h = mode.crop
    aw, ah = pi.pixel_array
    note = (f"note: {camera.size[0]}x{camera.size[1]} is {name}'s cropped mode ({w}x{h} of its {aw}x{ah} array "
            f"from {x},{y}); lens shading placed on that part of the tuning's grid")
    return ModeCrop(name, (x / aw, y / ah, (x + w) / aw, (y + h) / ah), note)


def camera_of(dng) -> Camera:
    """The camera facts of a ``DngImage``."""
    stored = dng.tags.get("white_level") or dng.white_level
    bits = max(int(stored).bit_length(), 1)
    black = dng.tags.get("black_level")
    black16 = black * 2 ** (16 - bits) if black else None
    pisp = dng.tags.get("bits_per_sample") == 16 and bits == 16 and black16 is not None and black16 >= 1024
    return Camera(dng.make, dng.model, dng.unique_model, (dng.raw.shape[1], dng.raw.shape[0]), black16, pisp)


def _platforms(camera: Camera) -> tuple[str, ...]:
    """libcamera's tuning directories to try: pisp first for a Pi 5's file or on a Pi 5, else vc4 first."""
    try:
        board = Path("/proc/device-tree/model").read_text(errors="replace")
    except OSError:
        board = ""
    return ("pisp", "vc4") if camera.pisp or "Raspberry Pi 5" in board else PLATFORMS


def candidates(sensor: str, camera: Camera) -> list[Path]:
    """Where the tuning for ``sensor`` may be installed, in the order tried."""
    out = [d / platform / f"{sensor}.json" for platform in _platforms(camera) for d in LIBCAMERA_DIRS]
    out.append(paths.cache_dir() / "libcamera-ipa/usr/share/libcamera/ipa/raspberrypi" / f"{sensor}.json")
    return out


def installed(sensor: str, camera: Camera) -> Path | None:
    return next((p for p in candidates(sensor, camera) if p.is_file()), None)


def _tuning_black16(path: Path) -> float | None:
    from ..tuning import TuningFile
    from ..tuning.blocks import BlackLevel

    try:
        bl = BlackLevel.read(TuningFile.load(path))
    except (CameradError, ValueError, OSError):
        return None
    return float(bl.g)


def _by_size(camera: Camera) -> tuple[str, str, str | None] | None:
    """(sensor, how, note) from the image size; None when no Pi sensor has a mode of that size."""
    fits = [s for s, modes in SENSOR_MODES.items() if camera.size in modes]
    if not fits:
        return None
    size = f"{camera.size[0]}x{camera.size[1]}"
    how = f"image size {size}"
    if len(fits) == 1:
        return fits[0], how, None
    if camera.black16 is not None:
        by_black = []
        for s in fits:
            path = installed(s, camera)
            level = _tuning_black16(path) if path else None
            if level is not None and abs(level - camera.black16) <= 64:
                by_black.append(s)
        if len(by_black) == 1:
            return by_black[0], f"{how} and black level {camera.black16:.0f}/65535", None
        fits = by_black or fits
    others = ", ".join(fits[1:])
    return fits[0], how, (f"{size} is also a mode of {others}: developing as {fits[0]} "
                          f"(pass --tuning FILE if the DNG came from another)")


def choose_tuning(camera: Camera) -> TuningChoice:
    """The tuning file for a DNG's camera; ``TuningNotFound`` says what was tried and what to do instead."""
    if camera.make == "camerad":
        from ..sensor.mock.tuning_default import mock_tuning_path

        names = sensor_names(camera.model)
        if names and "(mock)" in camera.model and mock_tuning_path(names[-1]).is_file():
            return TuningChoice(mock_tuning_path(names[-1]), None, f"mock {names[-1]}")
    note = None
    for source, text in (("UniqueCameraModel", camera.unique_model), ("Model", camera.model)):
        names = sensor_names(text)
        if names:
            how = f"{source} {text!r}"
            break
    else:
        found = _by_size(camera) if _may_be_a_pi(camera) else None
        if found is None:
            raise TuningNotFound(f"{camera.describe()} is not a sensor camtune knows a tuning for; pass "
                                 f"--tuning FILE (for a first look: libcamera's uncalibrated.json"
                                 f"{_uncalibrated_hint(camera)})")
        sensor, how, note = found
        names = [sensor]
    for name in names:
        path = installed(name, camera)
        if path is not None:
            return TuningChoice(path, name, how, note)
    where = ", ".join(sorted({str(p.parent) for p in candidates(names[-1], camera)}))
    raise TuningNotFound(f"no libcamera tuning file for sensor {names[0]} ({how}; looked in {where}); "
                         f"pass --tuning FILE")


def _may_be_a_pi(camera: Camera) -> bool:
    """Only a file that names a Raspberry Pi (or nothing) is matched by size: other cameras share sizes."""
    text = f"{camera.make} {camera.model} {camera.unique_model}".lower().replace(" ", "")
    return not text or any(k in text for k in ("raspberry", "pidng", "picamera"))


def _uncalibrated_hint(camera: Camera) -> str:
    path = installed("uncalibrated", camera)
    return f", --tuning {path}" if path else ""
