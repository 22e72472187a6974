"""Control methods that look through the viewfinder: a preview still, the histogram, the focus figure."""

from __future__ import annotations

import base64

from ..camera import analysis
from ..camera.viewfinder import PreviewFrame, ViewfinderError
from ..formats.jpeg import encode_jpeg
from .method import Context, Method
from .params import Param
from .protocol import RequestError


def frame(ctx: Context) -> PreviewFrame:
    try:
        return ctx.camera.preview().latest(timeout=10.0)
    except ViewfinderError as exc:
        raise RequestError("unavailable", str(exc)) from exc


def preview(ctx: Context, p: dict) -> dict:
    f = frame(ctx)
    if p["zebra"] or p["peaking"]:
        rgb = f.rgb
        if p["peaking"]:
            rgb = analysis.peaking(rgb)
        if p["zebra"]:
            rgb = analysis.zebras(rgb)
        jpeg = encode_jpeg(rgb, quality=p["quality"] or ctx.camera.config.preview.jpeg_quality, icc_profile=None)
    else:
        jpeg = f.jpeg(p["quality"] or ctx.camera.config.preview.jpeg_quality)
    w, h = f.size
    return {"jpeg": base64.b64encode(jpeg).decode("ascii"), "width": w, "height": h, "sequence": f.sequence,
            "timestamp_ns": f.timestamp_ns, "focus": round(f.focus, 3)}


def histogram(ctx: Context, p: dict) -> dict:
    f = frame(ctx)
    return {**f.histogram(p["bins"]), "sequence": f.sequence, "exposure_us": f.metadata.get("ExposureTime"),
            "analogue_gain": f.metadata.get("AnalogueGain")}


def focus(ctx: Context, p: dict) -> dict:
    vf = ctx.camera.preview()
    if p["reset"]:
        vf.reset_focus_peak()
    f = frame(ctx)
    peak = max(vf.focus_peak, f.focus)
    return {"value": round(f.focus, 4), "peak": round(peak, 4), "relative": round(f.focus / peak, 4) if peak else 0.0,
            "sequence": f.sequence}


METHODS = [
    Method("preview", preview, {"quality": Param(int, default=None, lo=10, hi=100),
                                "zebra": Param(bool, default=False), "peaking": Param(bool, default=False)},
           "a JPEG still from the live low-resolution stream"),
    Method("histogram", histogram, {"bins": Param(int, default=64, lo=8, hi=256)},
           "RGB and luma histograms with clipping percentages"),
    Method("focus", focus, {"reset": Param(bool, default=False)},
           "the focus figure of merit and its peak since the last reset"),
]
