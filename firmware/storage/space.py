"""The free-space reserve: refuse a capture that would take the captures filesystem below it.

A camera that fills its card mid-burst loses the burst's tail and may corrupt the filesystem's journal
of other writers (the journal, the timelapse state). So every capture is admitted against the space it
will need, counting the captures already queued but not yet written, and refused with the figures when
it does not fit - before a frame is taken, not when the disk is already full.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable

from ..errors import CaptureRefused

MB = 1024 * 1024


class StorageLow(CaptureRefused):
    """A capture refused because the captures filesystem is below its free-space reserve."""


class FreeSpace:
    """Tracks free space on the filesystem holding ``directory`` against a reserve.

    >>> space = FreeSpace("/var/lib/camerad/captures", reserve_bytes=200 * MB)   # doctest: +SKIP
    >>> space.admit(30 * MB)        # raises StorageLow naming free space and reserve   # doctest: +SKIP
    """

    def __init__(self, directory: str | Path, reserve_bytes: int,
                 statvfs: Callable[[str], os.statvfs_result] = os.statvfs):
        self.directory = Path(directory)
        self.reserve_bytes = reserve_bytes
        self._statvfs = statvfs
        self._lock = threading.Lock()
        self._pending = 0  # bytes admitted but not yet on disk
        self._full_at: int | None = None  # free bytes when a write last failed with ENOSPC

    def free_bytes(self) -> int:
        st = self._statvfs(str(self.directory))
        return st.f_bavail * st.f_frsize

    def available(self) -> int:
        """Bytes a new capture may use: free space minus the reserve and what queued captures will take."""
        with self._lock:
            return self.free_bytes() - self.reserve_bytes - self._pending

    def is_low(self, need_bytes: int = 0) -> bool:
        """Whether a capture needing ``need_bytes`` would be refused now."""
        return self._full_at is not None or self.available() < need_bytes

    def mark_full(self) -> None:
        """A write just failed with ENOSPC: refuse captures until space is freed, whatever statvfs claims."""
        with self._lock:
            self._full_at = self.free_bytes()

    def admit(self, need_bytes: int) -> None:
        """Reserve ``need_bytes`` for a capture, or raise ``StorageLow`` saying how much is free."""
        with self._lock:
            free = self.free_bytes()
            if self._full_at is not None:
                if free - self._full_at < need_bytes:
                    raise StorageLow(f"storage full: a write failed with 'No space left on device' and only "
                                     f"{free / MB:.0f} MB are free on {self.directory}; free some space")
                self._full_at = None
            if free - self._pending - need_bytes < self.reserve_bytes:
                raise StorageLow(f"storage low: {free / MB:.0f} MB free on {self.directory}"
                                 f"{f' ({self._pending / MB:.0f} MB of it promised to queued captures)' if self._pending else ''}, "
                                 f"a capture needs about {need_bytes / MB:.0f} MB and {self.reserve_bytes / MB:.0f} MB "
                                 f"are kept in reserve")
            self._pending += need_bytes

    def settle(self, admitted_bytes: int) -> None:
        """A capture admitted with ``admitted_bytes`` is on disk (or failed): stop counting it as pending."""
        with self._lock:
            self._pending = max(0, self._pending - admitted_bytes)
