"""``camtune looks``: the looks shipped in ``tuning/looks/``, in words and in figures.

Figures, measured on the ColorChecker rendered through the look (from a perfect calibration, at 5000 K):
mid-grey output (8-bit sRGB code of an 18 % grey), shadow and highlight codes (2 % and 90 % grey),
mean chroma relative to ``neutral``, mean CIEDE2000 from ``neutral``, light fall-off kept in the corners,
and sharpening strength relative to the sensor's tuning.
"""

from __future__ import annotations

import argparse
import textwrap

from ..tuning.looks import list_looks, load_look


def register(sub) -> None:
    p = sub.add_parser("looks", help="list the looks and what they do", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", metavar="LOOK", help="only these looks (default: all)")
    p.add_argument("--brief", action="store_true", help="one line per look, no figures")
    p.set_defaults(run=run)


def run(args) -> int:
    names = args.names or list_looks()
    looks = [load_look(n) for n in names]
    if args.brief:
        for lk in looks:
            print(f"{lk.name:18s} {lk.summary}")
        return 0
    try:
        from ..tuning.figures import look_figures
    except ImportError as exc:  # a device install without the mock/tune extras: words only
        print(f"(figures need colour-science, not installed here: {exc})")
        for lk in looks:
            print(f"{lk.name}: {lk.summary}")
        return 0
    for lk in looks:
        f = look_figures(lk)
        print(f"{lk.name}: {lk.summary}")
        print(textwrap.fill(lk.description, 100, initial_indent="    ", subsequent_indent="    "))
        print(f"    mid-grey {f['mid_grey_8bit']:.0f}/255, shadows (2 %) {f['shadow_8bit']:.0f}, "
              f"highlights (90 %) {f['highlight_8bit']:.0f}; contrast {lk.contrast:g} at mid-grey")
        chroma = "monochrome (every patch achromatic)" if lk.monochrome else \
            f"chroma {100 * f['chroma_ratio']:.0f} % of neutral"
        print(f"    {chroma}, mean CIEDE2000 from neutral {f['delta_e_from_neutral']:.1f}; corners keep "
              f"{100 * f['falloff_kept']:.0f} % of the lens fall-off; sharpening x{f['sharpen']:g}")
    return 0
