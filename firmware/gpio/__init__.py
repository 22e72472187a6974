"""GPIO: the shutter and mode buttons and the status LED, behind one board seam.

``open_board()`` (gpiozero / gpiod / mock), ``attach_controls()`` (buttons → ``CameraActions``,
``Controls.status`` = the ``StatusListener``), ``MockButtons`` (presses on the mock board). Which pins a camera
wires is its board profile (``firmware.board_profile``), a description of the whole camera.
"""

from .board import GpioBoard, open_board
from .controls import Controls, attach_controls
from .mockpress import MockButtons
from .status import StatusLeds

__all__ = ["Controls", "GpioBoard", "MockButtons", "StatusLeds", "attach_controls", "open_board"]
