"""What each Raspberry Pi ISP target fixes about a tuning file (libcamera's ``controller.cpp`` hardware table).

>>> platform_for("pisp").alsc_grid
(32, 32)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import TuningError


@dataclass(frozen=True)
class Platform:
    """One target: its directory name, the ``target`` string in files, and the grid sizes the ISP uses."""

    name: str  # vc4 | pisp: the directory under /usr/share/libcamera/ipa/rpi/
    target: str  # bcm2835 | pisp: the tuning file's "target"
    alsc_grid: tuple[int, int]  # (columns, rows) of ALSC tables = AWB regions
    agc_weights: int  # number of metering weights per mode
    gamma_points: int  # points the ISP samples the gamma curve at

    @property
    def alsc_cells(self) -> int:
        return self.alsc_grid[0] * self.alsc_grid[1]


VC4 = Platform("vc4", "bcm2835", (16, 12), 15, 33)
PISP = Platform("pisp", "pisp", (32, 32), 225, 64)
PLATFORMS = {"vc4": VC4, "bcm2835": VC4, "pisp": PISP}


def platform_for(name: str) -> Platform:
    """The platform for a directory name (``vc4``, ``pisp``) or a file's target (``bcm2835``, ``pisp``)."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise TuningError(f"unknown target {name!r} (vc4 or bcm2835, pisp)") from None
