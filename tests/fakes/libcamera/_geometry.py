"""Geometry, colour space, transform and orientation, as py_geometry.cpp / py_color_space.cpp /
py_transform.cpp / py_enums.cpp declare them. Classes with ``py::self == py::self`` compare by value and are
unhashable (pybind11 drops ``__hash__``); the others hash by identity, as pybind11 objects do."""

from __future__ import annotations

import enum


class Orientation(enum.IntEnum):
    Rotate0 = 1
    Rotate0Mirror = 2
    Rotate180 = 3
    Rotate180Mirror = 4
    Rotate90Mirror = 5
    Rotate270 = 6
    Rotate270Mirror = 7
    Rotate90 = 8


class Point:
    def __init__(self, x: int = 0, y: int = 0):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    def __neg__(self):
        return Point(-self.x, -self.y)

    def __repr__(self):
        return f"libcamera.Point({self.x}, {self.y})"


class Size:
    def __init__(self, width: int = 0, height: int = 0):
        if width < 0 or height < 0:
            raise TypeError("Size takes unsigned ints")
        self.width, self.height = int(width), int(height)

    @property
    def is_null(self) -> bool:
        return self.width == 0 and self.height == 0

    def __eq__(self, other):
        return isinstance(other, Size) and (self.width, self.height) == (other.width, other.height)

    def __lt__(self, other):
        return (self.width * self.height, self.width) < (other.width * other.height, other.width)

    def __le__(self, other):
        return self == other or self < other

    def __str__(self):
        return f"{self.width}x{self.height}"

    def __repr__(self):
        return f"libcamera.Size({self.width}, {self.height})"


class SizeRange:
    def __init__(self, min: Size | None = None, max: Size | None = None, hStep: int = 0, vStep: int = 0):  # noqa: A002
        self.min = min or Size()
        self.max = max or self.min
        self.hStep, self.vStep = hStep, vStep

    def contains(self, size: Size) -> bool:
        return (self.min.width <= size.width <= self.max.width and self.min.height <= size.height <= self.max.height)

    def __eq__(self, other):
        return isinstance(other, SizeRange) and (self.min, self.max) == (other.min, other.max)


class Rectangle:
    def __init__(self, *args):
        if len(args) == 4:
            x, y, w, h = args
        elif len(args) == 3:
            x, y, size = args
            w, h = size.width, size.height
        elif len(args) == 1:
            x, y, w, h = 0, 0, args[0].width, args[0].height
        elif not args:
            x = y = w = h = 0
        else:
            raise TypeError("Rectangle(): incompatible constructor arguments")
        self.x, self.y, self.width, self.height = int(x), int(y), int(w), int(h)

    @property
    def size(self) -> Size:
        return Size(self.width, self.height)

    @property
    def is_null(self) -> bool:
        return self.width == 0 and self.height == 0

    def __eq__(self, other):
        return isinstance(other, Rectangle) and (self.x, self.y, self.width, self.height) == (
            other.x, other.y, other.width, other.height)

    def __repr__(self):
        return f"libcamera.Rectangle({self.x}, {self.y}, {self.width}, {self.height})"


class Transform:
    def __init__(self, rotation=0, hflip=False, vflip=False, transpose=False):
        if isinstance(rotation, Transform):
            self.hflip, self.vflip, self.transpose = rotation.hflip, rotation.vflip, rotation.transpose
            return
        if rotation not in (0, 90, 180, 270):
            raise ValueError("Invalid rotation")
        self.hflip, self.vflip, self.transpose = bool(hflip), bool(vflip), bool(transpose)
        if rotation == 180:
            self.hflip, self.vflip = not self.hflip, not self.vflip
        elif rotation in (90, 270):
            self.transpose = not self.transpose

    def inverse(self) -> "Transform":
        return Transform(self)

    def invert(self) -> None:
        pass

    def compose(self, other: "Transform") -> None:
        self.hflip ^= other.hflip
        self.vflip ^= other.vflip
        self.transpose ^= other.transpose

    def __str__(self):
        return f"<libcamera.Transform '{'h' if self.hflip else ''}{'v' if self.vflip else ''}{'t' if self.transpose else ''}'>"


class ColorSpace:
    class Primaries(enum.IntEnum):
        Raw = 0
        Smpte170m = 1
        Rec709 = 2
        Rec2020 = 3

    class TransferFunction(enum.IntEnum):
        Linear = 0
        Srgb = 1
        Rec709 = 2

    class YcbcrEncoding(enum.IntEnum):
        Null = 0
        Rec601 = 1
        Rec709 = 2
        Rec2020 = 3

    class Range(enum.IntEnum):
        Full = 0
        Limited = 1

    def __init__(self, primaries, transferFunction=None, ycbcrEncoding=None, range=None):  # noqa: A002
        if isinstance(primaries, ColorSpace):
            other = primaries
            primaries, transferFunction = other.primaries, other.transferFunction
            ycbcrEncoding, range = other.ycbcrEncoding, other.range  # noqa: A001
        self.primaries, self.transferFunction = primaries, transferFunction
        self.ycbcrEncoding, self.range = ycbcrEncoding, range

    @staticmethod
    def Raw():
        c = ColorSpace
        return c(c.Primaries.Raw, c.TransferFunction.Linear, c.YcbcrEncoding.Null, c.Range.Full)

    @staticmethod
    def Srgb():
        c = ColorSpace
        return c(c.Primaries.Rec709, c.TransferFunction.Srgb, c.YcbcrEncoding.Null, c.Range.Full)

    @staticmethod
    def Sycc():
        c = ColorSpace
        return c(c.Primaries.Rec709, c.TransferFunction.Srgb, c.YcbcrEncoding.Rec601, c.Range.Full)

    @staticmethod
    def Smpte170m():
        c = ColorSpace
        return c(c.Primaries.Smpte170m, c.TransferFunction.Rec709, c.YcbcrEncoding.Rec601, c.Range.Limited)

    @staticmethod
    def Rec709():
        c = ColorSpace
        return c(c.Primaries.Rec709, c.TransferFunction.Rec709, c.YcbcrEncoding.Rec709, c.Range.Limited)

    @staticmethod
    def Rec2020():
        c = ColorSpace
        return c(c.Primaries.Rec2020, c.TransferFunction.Rec709, c.YcbcrEncoding.Rec2020, c.Range.Limited)

    def __str__(self):
        return f"<libcamera.ColorSpace '{self.primaries.name}/{self.transferFunction.name}'>"
