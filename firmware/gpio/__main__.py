"""``python -m firmware.gpio [PROFILE|FILE ...]``: check board profiles and print their wiring.

Without arguments every profile in hw/ is checked. Exit status 0 when all are valid, 2 otherwise.
"""

from __future__ import annotations

import sys

from ..board_profile import BoardProfile, available_profiles, load_profile
from ..errors import CameradError


def describe(p: BoardProfile) -> str:
    out = [f"{p.name}: {p.description}",
           f"  gpio {p.gpio.backend}{' on ' + p.gpio.chip if p.gpio.chip else ''}; sensor {p.sensor.model} "
           f"({p.sensor.connector}); tuning {p.sensor.tuning_target}",
           f"  lens {p.lens.model}: {p.lens.focal_length_mm:g} mm f/{p.lens.f_number:g}"
           f"{' (unverified)' if p.is_unverified('lens.focal_length_mm') or p.is_unverified('lens.f_number') else ''}"]
    out += [f"  config.txt: {line}" for line in p.sensor.config_txt]
    for key, line in p.lines().items():
        extra = f" pull-{line.pull}, {line.switch}" if hasattr(line, "pull") else f" {line.kind}"
        out.append(f"  {key:<20} pin {line.pin:<4}{' ' + line.label if line.label else ''} active-{line.active}{extra}")
    if p.unverified:
        out.append(f"  unverified: {', '.join(p.unverified)}")
    return "\n".join(out)


def main(argv=None) -> int:
    names = list(sys.argv[1:] if argv is None else argv) or available_profiles()
    status = 0
    for name in names:
        try:
            print(describe(load_profile(name)))
        except CameradError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())
