"""``libcamera.controls`` and ``libcamera.properties`` as py_controls_generated.cpp.in lays them out: a class per
namespace whose attributes are ``ControlId`` objects, a nested class per vendor (``draft``, ``rpi``), and an
``<Name>Enum`` for each enumerated control. Names, types and enum values are control_ids_core.yaml's and
control_ids_draft.yaml's; the numeric ids only need to be unique here."""

from __future__ import annotations

import enum
import itertools


class ControlType(enum.IntEnum):
    Null = 0
    Bool = 1
    Byte = 2
    Integer32 = 3
    Integer64 = 4
    Float = 5
    String = 6
    Rectangle = 7
    Size = 8


class ControlId:
    def __init__(self, id: int, name: str, type: ControlType, vendor: str = "libcamera",  # noqa: A002
                 size: int = 0, enumerators: dict | None = None):
        self._id, self._name, self._type, self._vendor, self._size = id, name, type, vendor, size
        self._enumerators = dict(enumerators or {})

    id = property(lambda self: self._id)
    name = property(lambda self: self._name)
    vendor = property(lambda self: self._vendor)
    type = property(lambda self: self._type)
    isArray = property(lambda self: self._size != 0)
    size = property(lambda self: self._size)

    def enumerators(self) -> dict:
        return dict(self._enumerators)

    def __str__(self):
        return self._name

    def __repr__(self):
        return f"libcamera.ControlId({self._id}, {self._vendor}.{self._name}, {self._type})"


class ControlInfo:
    def __init__(self, min, max, default=None, values=()):  # noqa: A002
        self._min, self._max, self._default, self._values = min, max, default, list(values)

    min = property(lambda self: self._min)
    max = property(lambda self: self._max)
    default = property(lambda self: self._default)
    values = property(lambda self: list(self._values))

    def __repr__(self):
        return f"libcamera.ControlInfo([{self._min}..{self._max}])"


_ids = itertools.count(1)
T = ControlType


def _common_prefix(names: list[str]) -> str:
    """gen-py-controls.py's rule: enum members drop the prefix all of a control's values share."""
    prefix = names[0]
    for name in names[1:]:
        while name[:len(prefix)] != prefix and prefix:
            prefix = prefix[:-1]
    return prefix


def _ns(name: str, specs: list, vendor: str = "libcamera", **children):
    attrs = {}
    for spec in specs:
        cname, ctype, *rest = spec
        size = rest[0] if rest and isinstance(rest[0], int) else 0
        values = rest[-1] if rest and isinstance(rest[-1], dict) else None
        attrs[cname] = ControlId(next(_ids), cname, ctype, vendor, size, values)
        if values:
            cut = len(_common_prefix(list(values))) if len(values) > 1 else 0
            attrs[cname + "Enum"] = enum.IntEnum(cname + "Enum", {k[cut:]: v for k, v in values.items()})
    attrs.update(children)
    return type(name, (), attrs)


_CORE = [
    ("AeEnable", T.Bool), ("AeLocked", T.Bool),
    ("AeMeteringMode", T.Integer32, {"MeteringCentreWeighted": 0, "MeteringSpot": 1, "MeteringMatrix": 2,
                                      "MeteringCustom": 3}),
    ("AeConstraintMode", T.Integer32, {"ConstraintNormal": 0, "ConstraintHighlight": 1, "ConstraintShadows": 2,
                                        "ConstraintCustom": 3}),
    ("AeExposureMode", T.Integer32, {"ExposureNormal": 0, "ExposureShort": 1, "ExposureLong": 2,
                                      "ExposureCustom": 3}),
    ("ExposureValue", T.Float), ("ExposureTime", T.Integer32),
    ("ExposureTimeMode", T.Integer32, {"ExposureTimeModeAuto": 0, "ExposureTimeModeManual": 1}),
    ("AnalogueGain", T.Float),
    ("AnalogueGainMode", T.Integer32, {"AnalogueGainModeAuto": 0, "AnalogueGainModeManual": 1}),
    ("Brightness", T.Float), ("Contrast", T.Float), ("Lux", T.Float), ("AwbEnable", T.Bool),
    ("AwbMode", T.Integer32, {"AwbAuto": 0, "AwbIncandescent": 1, "AwbTungsten": 2, "AwbFluorescent": 3,
                              "AwbIndoor": 4, "AwbDaylight": 5, "AwbCloudy": 6, "AwbCustom": 7}),
    ("AwbLocked", T.Bool), ("ColourGains", T.Float, 2), ("ColourTemperature", T.Integer32),
    ("Saturation", T.Float), ("SensorBlackLevels", T.Integer32, 4), ("Sharpness", T.Float),
    ("FocusFoM", T.Integer32), ("ColourCorrectionMatrix", T.Float, 9), ("ScalerCrop", T.Rectangle),
    ("DigitalGain", T.Float), ("FrameDuration", T.Integer64), ("FrameDurationLimits", T.Integer64, 2),
    ("SensorTemperature", T.Float), ("SensorTimestamp", T.Integer64),
    ("AfMode", T.Integer32, {"AfModeManual": 0, "AfModeAuto": 1, "AfModeContinuous": 2}),
    ("AfTrigger", T.Integer32, {"AfTriggerStart": 0, "AfTriggerCancel": 1}),
    ("AfState", T.Integer32, {"AfStateIdle": 0, "AfStateScanning": 1, "AfStateFocused": 2, "AfStateFailed": 3}),
    ("LensPosition", T.Float),
]
_DRAFT = [
    ("NoiseReductionMode", T.Integer32, {"NoiseReductionModeOff": 0, "NoiseReductionModeFast": 1,
                                         "NoiseReductionModeHighQuality": 2, "NoiseReductionModeMinimal": 3,
                                         "NoiseReductionModeZSL": 4}),
    ("AePrecaptureTrigger", T.Integer32, {"AePrecaptureTriggerIdle": 0, "AePrecaptureTriggerStart": 1,
                                          "AePrecaptureTriggerCancel": 2}),
]

controls = _ns("controls", _CORE, draft=_ns("draft", _DRAFT, vendor="draft"), rpi=_ns("rpi", [], vendor="rpi"))
properties = _ns("properties", [
    ("Location", T.Integer32, {"CameraLocationFront": 0, "CameraLocationBack": 1, "CameraLocationExternal": 2}),
    ("Rotation", T.Integer32), ("Model", T.String), ("UnitCellSize", T.Size), ("PixelArraySize", T.Size),
    ("PixelArrayOpticalBlackRectangles", T.Rectangle, 1), ("PixelArrayActiveAreas", T.Rectangle, 1),
    ("ScalerCropMaximum", T.Rectangle), ("SensorSensitivity", T.Float), ("SystemDevices", T.Integer64, 1),
], draft=_ns("draft", [("ColorFilterArrangement", T.Integer32, {"RGGB": 0, "GRBG": 1, "GBRG": 2, "BGGR": 3,
                                                                   "RGB": 4, "MONO": 5})], vendor="draft"))

CONTROLS_BY_NAME = {c.name: c for space in (controls, controls.draft) for c in vars(space).values()
                    if isinstance(c, ControlId)}
