"""Board profiles (``hw/NAME.toml``): the whole camera a build is - sensor, lens, GPIO lines - as frozen dataclasses.

A profile names the sensor and its connector, the ``config.txt`` overlay lines (Raspberry Pi), the pins of
each control with their pull-ups and active levels, the lens figures for EXIF, and the tuning target. The
camera loads it always (``gpio.board``): its lens is in every capture's EXIF, whether or not GPIO is in use.
Every error names the file, the key and the reason, like the configuration loader.

>>> p = load_profile("mock")
>>> p.controls.shutter.pin, p.lens.focal_length_mm
(17, 6.0)
"""

from __future__ import annotations

import dataclasses
import os
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from . import paths
from .boards import GpioBackend, detect_profile, read_model
from .config.load import _build as _build_table, _convert, _where
from .errors import BoardProfileError
from .textfile import parse_toml, read_text

# The Raspberry Pi's 40-pin header carries BCM GPIO 0-27; gpiozero numbers pins that way.
_PI_HEADER_GPIOS = range(0, 28)


def _pin():
    return field(metadata={"min": 0, "max": 1023})


@dataclass(frozen=True)
class InputLine:
    """A button contact on one GPIO line.

    ``active`` is the level the line reads while the contact is *closed*; ``switch`` says whether the button
    closes it when pressed (``"no"``, normally open), opens it (``"nc"``, normally closed), or ``"auto"``:
    whatever the line reads when camerad starts is "released".
    """

    pin: int = _pin()
    chip: str = ""  # gpiod: the chip (path, number or label); empty = the board's [gpio] chip
    label: str = ""  # the line's name on its chip (as gpioinfo shows it), checked when the line is opened
    pull: Literal["up", "down", "off"] = "up"
    active: Literal["low", "high"] = "low"
    switch: Literal["no", "nc", "auto"] = "no"


@dataclass(frozen=True)
class OutputLine:
    """An LED or an active buzzer on one GPIO line (``active`` is the level that lights it)."""

    pin: int = _pin()
    chip: str = ""
    label: str = ""
    active: Literal["high", "low"] = "high"
    kind: Literal["led", "buzzer"] = "led"


@dataclass(frozen=True)
class GpioSection:
    backend: GpioBackend = GpioBackend.GPIOZERO  # a board names its own (never "auto")
    # gpiod: the default chip of every line (path, number or label). gpiozero on a Pi 5: the lgpio chip number
    # (empty lets gpiozero choose).
    chip: str = ""


@dataclass(frozen=True)
class SensorSection:
    model: str = field()
    connector: str = field()
    tuning_target: Literal["vc4", "pisp", "softisp"] = field()
    config_txt: tuple[str, ...] = ()


@dataclass(frozen=True)
class LensSection:
    model: str = field()
    focal_length_mm: float = field(metadata={"min": 0.5, "max": 2000.0})
    f_number: float = field(metadata={"min": 0.5, "max": 64.0})
    autofocus: bool = False


@dataclass(frozen=True)
class ControlsSection:
    shutter: InputLine = field()  # the full-press contact (S2), or the only one
    half_press: InputLine | None = None  # S1 of a two-stage shutter
    mode: InputLine | None = None


@dataclass(frozen=True)
class StatusSection:
    led: OutputLine | None = None
    frame: OutputLine | None = None  # buzzer or second LED: one pulse per frame taken


@dataclass(frozen=True)
class BoardProfile:
    name: str = field()
    description: str = field()
    gpio: GpioSection = field()
    sensor: SensorSection = field()
    lens: LensSection = field()
    controls: ControlsSection = field()
    status: StatusSection = field(default_factory=StatusSection)
    # Dotted keys of figures not confirmed from a datasheet or an official pinout.
    unverified: tuple[str, ...] = ()
    source: str = field(default="<profile>", compare=False, metadata={"internal": True})

    def lines(self) -> dict[str, InputLine | OutputLine]:
        """Every wired line by dotted key (``controls.shutter``, ``status.led`` …)."""
        out: dict[str, InputLine | OutputLine] = {}
        for section in ("controls", "status"):
            group = getattr(self, section)
            for f in dataclasses.fields(group):
                line = getattr(group, f.name)
                if line is not None:
                    out[f"{section}.{f.name}"] = line
        return out

    def is_unverified(self, key: str) -> bool:
        return any(key == u or key.startswith(u + ".") for u in self.unverified)


# The lens a sensor usually wears, for a profile built around another sensor (a module swapped on the bench):
# the official 6 mm CS-mount lens on the HQ camera and Camera Module 3's fixed lens.
STOCK_LENSES = {"imx477": LensSection("6mm CS-mount", 6.0, 1.2), "imx708": LensSection("Camera Module 3", 4.74, 1.8)}


def lens_for(profile: BoardProfile, sensor_model: str) -> LensSection | None:
    """The lens in front of ``sensor_model``: the profile's when it names that sensor, else the stock one."""
    if profile.sensor.model == sensor_model:
        return profile.lens
    return STOCK_LENSES.get(sensor_model)


def available_profiles(directory: Path | None = None) -> list[str]:
    directory = directory or paths.hw_dir()
    return sorted(p.stem for p in directory.glob("*.toml"))


def load_profile(name: str = "auto", *, backend: str = "auto", model: str | None = None) -> BoardProfile:
    """The profile called ``name`` in hw/, a profile file by path, or (``"auto"``) the one for this board.

    ``auto`` picks ``mock`` when the GPIO backend (``CAMERAD_GPIO_BACKEND`` winning over ``backend``, as in
    ``open_board``) is the mock, else detects the board from the device tree.
    """
    backend = os.environ.get("CAMERAD_GPIO_BACKEND") or backend
    if name == "auto":
        if backend == GpioBackend.MOCK:
            name = "mock"
        else:
            model = read_model() if model is None else model
            detected = detect_profile(model)
            if detected is None:
                raise BoardProfileError(
                    f"no board profile for this machine (device-tree model {model or 'unknown'!r}); set gpio.board "
                    f"to one of {', '.join(available_profiles())} or to a profile file, or use --mock")
            name = detected
    if name.endswith(".toml") or "/" in name:
        return load_profile_file(Path(name))
    path = paths.hw_dir() / f"{name}.toml"
    if not path.is_file():
        raise BoardProfileError(f"gpio.board: no board profile {name!r} in {paths.hw_dir()} (available: "
                                f"{', '.join(available_profiles()) or 'none'})")
    profile = load_profile_file(path)
    if profile.name != name:
        raise BoardProfileError(f"{path}: name: {profile.name!r} does not match the file name {name!r}")
    return profile


def load_profile_file(path: Path) -> BoardProfile:
    return loads_profile(read_text(path, "board profile", BoardProfileError), source=str(path))


def loads_profile(text: str, source: str = "<string>") -> BoardProfile:
    data = parse_toml(text, source, BoardProfileError)
    try:
        profile = _build(BoardProfile, data, source, ())
    except BoardProfileError:
        raise
    except ValueError as exc:  # ConfigError from the shared scalar checks
        raise BoardProfileError(str(exc)) from None
    profile = dataclasses.replace(profile, source=source)
    _check(profile, data, source)
    return profile


def _build(cls, data: Any, source: str, path: tuple[str, ...]):
    return _build_table(cls, data, source, path, convert=_value, error=BoardProfileError)


def _value(tp, f: dataclasses.Field, value: Any, source: str, path: tuple[str, ...]):
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):  # "X | None": a table that may be left out
        inner = next(a for a in get_args(tp) if a is not type(None))
        return _value(inner, f, value, source, path)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, source, path)
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BoardProfileError(f"{_where(source, path)}: expected an array of strings")
        return tuple(value)
    return _convert(tp, f, value, source, path)


def _check(profile: BoardProfile, data: dict, source: str) -> None:
    """Rules that span keys: unique pins, the backend's pin space, and the unverified list."""
    if profile.gpio.backend is GpioBackend.AUTO:
        raise BoardProfileError(f"{source}: [gpio] backend: a board names its backend (gpiozero, gpiod or mock)")
    seen: dict[tuple[str, int], str] = {}
    for key, line in profile.lines().items():
        where = f"{source}: [{key}] pin"
        chip = line.chip or profile.gpio.chip
        if (chip, line.pin) in seen:
            raise BoardProfileError(f"{where}: GPIO {line.pin} is already used by [{seen[chip, line.pin]}]")
        seen[chip, line.pin] = key
        if profile.gpio.backend in (GpioBackend.GPIOZERO, GpioBackend.MOCK):
            if line.pin not in _PI_HEADER_GPIOS:
                raise BoardProfileError(f"{where}: {line.pin} is not a GPIO of the 40-pin header (BCM 0-27)")
            if line.chip:
                raise BoardProfileError(f"{source}: [{key}] chip: only the gpiod backend takes a chip per line")
        elif not chip:
            raise BoardProfileError(f"{source}: [{key}] chip: the gpiod backend needs a chip here or in [gpio]")
    if profile.gpio.backend is GpioBackend.GPIOZERO and profile.gpio.chip and not profile.gpio.chip.isdigit():
        raise BoardProfileError(f"{source}: [gpio] chip: gpiozero's lgpio factory takes a chip number, not "
                                f"{profile.gpio.chip!r}")
    for dotted in profile.unverified:
        node: Any = data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise BoardProfileError(f"{source}: unverified: {dotted!r} is not a key of this profile")
            node = node[part]
