"""The camera application: what a camera does, whoever asks - the buttons, the control socket, a signal.

``Camerad`` (``camerad.py``) puts the sensor, the capture engine, the timelapse, the status board and the GPIO
controls together behind one domain API: ``trigger(CaptureRequest)`` for every capture, ``set_*`` and
``settings.py`` for what the operator changes, ``snapshot()`` for the state (``status.py``), ``selftest()``,
``preview()`` (``viewfinder.py``), and ``start``/``reload``/``stop``. Above it sit only transports (``control``)
and the process (``daemon``); below it the domains it composes.
"""

from .camerad import Camerad
from .settings import CameraSettings
from .status import CameraStatus, Triggered

__all__ = ["CameraSettings", "CameraStatus", "Camerad", "Triggered"]
