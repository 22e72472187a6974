"""Every stock libcamera tuning file on a mock like its sensor: chart colour (DNG and daemon) and flat fields.

Not a speed benchmark: the figures are colour accuracy, the same ones ``tests/test_mock_like.py`` asserts, made
by the same code (``tests/stock_like.py``). Per stock file in ``../shared/reference/libcamera-tuning``:

* ``dng``: mean CIEDE2000 of a ColorChecker at 2850 / 4000 / 6500 K written as picamera2 writes a DNG and
  developed by ``camtune develop --tuning <file> --look neutral``, against the chart under D65;
* ``daemon``: the same in the JPEG the daemon writes on that mock;
* ``awb``: the daemon's JPEG with its own auto white balance (libcamera's ``rpi.awb`` search on the mock's
  statistics of the chart-filled frame) instead of the grey card, and whether the light's white lies within
  the file's transverse limits (``*``: beyond them, out of the search's reach);
* ``flat``: the worst lens-shading residual of a flat field at 2850 and 6500 K (spread of R/G, B/G and G over
  a 16x12 grid after correction; G with the luminance table at full strength).

``--quick`` runs the DNG path at 4000 K only. Needs ``../shared`` beside the checkout.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def _row(figures: dict[str, float], kind: str, lights, percent: bool = False) -> str:
    values = [figures[f"{kind}_{ct:.0f}"] for ct in lights]
    return " / ".join(f"{100 * v:.1f} %" if percent else f"{v:.2f}" for v in values)


def run(quick: bool) -> dict[str, float | str]:
    import stock_like

    files = stock_like.stock_files()
    if not files:
        return {"skipped": "../shared/reference is not beside this checkout"}
    out: dict[str, float | str] = {"load average (1 min) at start": os.getloadavg()[0],
                                   "reference": "the chart under D65 (the Raspberry Pi tuning tool's), sRGB-clipped"}
    for path in files:
        name = f"{path.parent.name}/{path.name}"
        if not stock_like.is_calibrated(path):
            out[name] = "refused: describes no calibrated sensor (no rpi.awb ct_curve)"
            continue
        with tempfile.TemporaryDirectory() as tmp:
            if quick:
                spec = stock_like.like(str(path))
                out[name] = f"dng 4000 K {stock_like.dng_delta_e(spec, 4000.0, Path(tmp))[0]:.2f}"
                continue
            f = stock_like.figures(path, Path(tmp))
            spec = stock_like.like(str(path))
            reach = ["" if abs(o) <= lim else "*" for o, lim in (stock_like.white_offset(spec, ct)
                                                                   for ct in stock_like.LIGHTS)]
        awb = " / ".join(f"{f[f'awb_{ct:.0f}']:.2f}{mark}" for ct, mark in zip(stock_like.LIGHTS, reach))
        out[name] = (f"dng {_row(f, 'dng', stock_like.LIGHTS)} | daemon {_row(f, 'daemon', stock_like.LIGHTS)}"
                     f" | awb {awb} | flat {_row(f, 'flat', stock_like.FLAT_LIGHTS, percent=True)}")
    out["load average (1 min) at end"] = os.getloadavg()[0]
    return out
