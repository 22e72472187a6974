"""GPIO: the shutter and mode buttons and the status LED, behind one board seam.

``open_board()`` (gpiozero / gpiod / mock), ``load_profile()`` (hw/NAME.toml), ``attach_controls()`` (buttons →
``CameraActions``, ``Controls.status`` = the ``StatusListener``), ``MockButtons`` (presses on the mock board).
"""

from .board import GpioBoard, open_board
from .controls import Controls, attach_controls, drive_modes, next_drive_mode
from .mockpress import MockButtons
from .profile import BoardProfile, available_profiles, load_profile
from .status import StatusLeds

__all__ = ["BoardProfile", "Controls", "GpioBoard", "MockButtons", "StatusLeds", "attach_controls",
           "available_profiles", "drive_modes", "load_profile", "next_drive_mode", "open_board"]
