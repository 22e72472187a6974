"""Control methods for looks and the tuning: list looks, show the running tuning, reload it."""

from __future__ import annotations

from ..tuning.looks import list_looks, load_look
from .method import Context, Method
from .params import Param
from .protocol import RequestError


def looks(ctx: Context, p: dict) -> dict:
    out = []
    current = ctx.camera.settings.look
    for name in list_looks():
        try:
            summary = load_look(name).summary
        except Exception as exc:  # noqa: BLE001 - a broken look file is listed with its error
            summary = f"(cannot be read: {exc})"
        out.append({"name": name, "summary": summary, "current": name == current})
    return {"looks": out, "current": current}


def tuning_show(ctx: Context, p: dict) -> dict:
    tf = ctx.camera.tuning
    if p["block"] is not None:
        params = tf.block(p["block"])
        if params is None:
            raise RequestError("not_found", f"tuning.show: no block {p['block']!r} in {tf.source} "
                                            f"(blocks: {', '.join(name for name, _ in tf.algorithms)})")
        return {"source": tf.source, "block": p["block"], "params": params}
    return {"source": tf.source, "target": tf.target, "version": tf.version,
            "blocks": [name for name, _ in tf.algorithms], "look": ctx.camera.settings.look,
            "denoise": ctx.camera.settings.denoise.value}


def tuning_reload(ctx: Context, p: dict) -> dict:
    if ctx.reload is None:
        raise RequestError("unavailable", "tuning.reload: this daemon was started without a configuration to "
                                          "reload")
    rejected = ctx.reload()
    if rejected:
        raise RequestError("failed", f"tuning.reload: rejected, the running configuration and tuning are kept: "
                                     f"{rejected}")
    return {"reloaded": True, "tuning": ctx.camera.tuning.source, "config": ctx.camera.config.source}


METHODS = [
    Method("looks", looks, {}, "the looks, with the current one marked"),
    Method("tuning.show", tuning_show, {"block": Param(str, default=None, max_len=200)},
           "the running tuning file's blocks (or one block's parameters)"),
    Method("tuning.reload", tuning_reload, {}, "re-read the configuration and tuning (as SIGHUP)",
           changes_state=True),
]
