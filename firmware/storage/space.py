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
# Inodes a capture's write needs at once: three files, the group's journal and the journal's temporary.
# A card can run out of them with blocks to spare (ENOSPC all the same); FAT reports none, and is not checked.
MIN_INODES = 8


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
        self._enospc = False  # a write failed with ENOSPC and no capture has been admitted since
        self._overstated = 0  # free space statvfs claimed when that write failed: not really there

    def free_bytes(self) -> int:
        st = self._statvfs(str(self.directory))
        return st.f_bavail * st.f_frsize

    def available(self) -> int:
        """Bytes a new capture may use: free space minus the reserve and what queued captures will take."""
        with self._lock:
            return self.free_bytes() - self._overstated - self.reserve_bytes - self._pending

    def is_low(self, need_bytes: int = 0) -> bool:
        """Whether a capture needing ``need_bytes`` would be refused now."""
        with self._lock:
            return self._refusal(need_bytes) is not None

    def mark_full(self, error: BaseException | None = None) -> None:
        """A write just failed with ENOSPC (``error``, its temporaries already removed).

        Admission keeps following the space there is now: on an honest filesystem the failure only says the
        space a capture was admitted against was taken meanwhile (another writer, files outside camerad),
        which statvfs shows from now on. When statvfs still claimed free space at the moment of the failure
        (``error.free_bytes_at_failure``), it overstates what can be written, by that much: it is subtracted
        until a capture is admitted again. (Remembering the free space after the failure and asking for a
        capture's worth more than that refused every capture for good on a card smaller than two captures,
        even once it was emptied.)"""
        with self._lock:
            self._enospc = True
            self._overstated = max(0, getattr(error, "free_bytes_at_failure", None) or 0)

    def admit(self, need_bytes: int) -> None:
        """Reserve ``need_bytes`` for a capture, or raise ``StorageLow`` saying how much is free."""
        with self._lock:
            reason = self._refusal(need_bytes)
            if reason is not None:
                raise StorageLow(reason)
            self._enospc, self._overstated = False, 0
            self._pending += need_bytes

    def _refusal(self, need_bytes: int) -> str | None:
        st = self._statvfs(str(self.directory))
        free = st.f_bavail * st.f_frsize
        if getattr(st, "f_files", 0) and getattr(st, "f_favail", MIN_INODES) < MIN_INODES:
            return (f"storage full: no free inodes (file entries) on {self.directory}, though {free / MB:.0f} MB "
                    f"are free; delete some files")
        if free - self._overstated - self._pending - need_bytes >= self.reserve_bytes:
            return None
        cause = "storage full: a write failed with 'No space left on device'; " if self._enospc else "storage low: "
        unreal = (f" (but a write failed with {self._overstated / MB:.0f} MB of that said to be free)"
                  if self._overstated else "")
        promised = f" ({self._pending / MB:.0f} MB of it promised to queued captures)" if self._pending else ""
        return (f"{cause}{free / MB:.0f} MB free on {self.directory}{unreal}{promised}, a capture needs about "
                f"{need_bytes / MB:.0f} MB and {self.reserve_bytes / MB:.0f} MB are kept in reserve")

    def settle(self, admitted_bytes: int) -> None:
        """A capture admitted with ``admitted_bytes`` is on disk (or failed): stop counting it as pending."""
        with self._lock:
            self._pending = max(0, self._pending - admitted_bytes)
