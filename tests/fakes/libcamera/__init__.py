"""A stand-in for libcamera's Python bindings, for hosts without libcamera.

Built from the bindings' source, not from guesses: ``src/py/libcamera/py_main.cpp`` (CameraManager, Camera,
SensorConfiguration, CameraConfiguration, StreamConfiguration, StreamFormats, FrameBufferAllocator,
FrameBuffer, Stream, ControlId, ControlInfo, Request, FrameMetadata, PixelFormat), ``py_enums.cpp``
(StreamRole, ControlType, Orientation), ``py_geometry.cpp`` (Point, Size, SizeRange, Rectangle),
``py_color_space.cpp``, ``py_transform.cpp`` and the generated ``controls``/``properties`` namespaces
(``py_controls_generated.cpp.in``), with the names and values of ``control_ids_core.yaml``/``_draft.yaml``.
Method names, argument names and defaults follow the ``.def(...)``/``py::arg`` declarations there; errors are
raised as the bindings raise them (``std::system_error`` arrives in Python as ``OSError``/``RuntimeError``).

Behind the API sits a simulated sensor (``sim``): requests queued on a started camera complete one per
frame period on a thread, their buffers (memfd, mmap-able like dmabufs) filled with a raw test pattern in
the configured format, and the event fd is signalled as libcamera's is. Tests steer it through ``sim``.
"""

from __future__ import annotations

import enum as _enum

from ._controls import ControlId, ControlInfo, ControlType, controls, properties  # noqa: F401
from ._geometry import ColorSpace, Orientation, Point, Rectangle, Size, SizeRange, Transform  # noqa: F401
from ._camera import (Camera, CameraConfiguration, CameraManager, FrameBuffer, FrameBufferAllocator,  # noqa: F401
                      FrameMetadata, PixelFormat, Request, SensorConfiguration, Stream, StreamConfiguration,
                      StreamFormats)
from . import sim  # noqa: F401


class StreamRole(_enum.IntEnum):
    StillCapture = 0
    Raw = 1
    VideoRecording = 2
    Viewfinder = 3


def log_set_level(category: str, level: str) -> None:
    """``libcamera.log_set_level`` (py_main.cpp ``logSetLevel``)."""
