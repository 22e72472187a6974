"""One exception root for the firmware, with precise subclasses that also inherit the matching builtin.

Callers can catch ``CameradError`` for everything the firmware raises on purpose, or the builtin
(``ValueError``, ``TimeoutError``, ``OSError`` …) where that reads better.
"""


class CameradError(Exception):
    """Base of every error the firmware raises deliberately."""


class ConfigError(CameradError, ValueError):
    """A configuration file or value is wrong; the message names the file, key and reason."""


class TuningError(CameradError, ValueError):
    """A tuning file is wrong; the message names the file, block and key."""


class SensorError(CameradError, RuntimeError):
    """The sensor (or its backend library) failed."""


class SensorUnavailable(SensorError):
    """No camera could be opened: library missing, no sensor attached, or the device is busy."""


class SensorTimeout(SensorError, TimeoutError):
    """No frame arrived within the frame timeout."""


class SensorDisconnected(SensorError):
    """The sensor went away while streaming."""


class SensorStateError(SensorError):
    """A call that is not allowed in the sensor's current state (e.g. configure while streaming)."""


class ControlError(CameradError, ValueError):
    """A control name or value the sensor does not accept."""


class DenoiserUnavailable(ControlError):
    """The raw denoiser asked for cannot run here (its model or runtime is missing or broken)."""


class CaptureError(CameradError, RuntimeError):
    """A capture could not be taken or written."""


class CaptureRefused(CaptureError):
    """A capture request was refused on purpose (queue full, storage low); ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class StorageError(CaptureError, OSError):
    """Writing a capture to storage failed; ``errno`` says how (ENOSPC: the disk is full).

    ``free_bytes_at_failure``: for ENOSPC, the free space statvfs reported while the failed files were still
    there (about 0 on an honest filesystem; more means statvfs overstates what can be written)."""

    free_bytes_at_failure: int | None = None

    def __init__(self, errno: int, message: str):
        super().__init__(message)
        self.errno = errno
        self.strerror = message

    def __str__(self) -> str:
        return self.strerror


class GpioError(CameradError, RuntimeError):
    """The GPIO board could not be set up or driven."""


class BoardProfileError(ConfigError):
    """A board profile in hw/ is missing or wrong; the message names the file, key and reason."""
