"""Block-by-block differences between two tuning files, written for a tuning engineer to read.

Long numeric lists (ALSC tables, gamma curves) are summarised by how much they moved; entries keyed by colour
temperature (``ccms``, ALSC ``calibrations_*``) are matched by their ``ct`` rather than their position, so
adding a CCM at 3500 K shows as one addition, not as every later matrix changing.

>>> a = TuningFile.from_dict({"version": 2, "algorithms": [{"rpi.sharpen": {"strength": 1.0}}]})
>>> b = TuningFile.from_dict({"version": 2, "algorithms": [{"rpi.sharpen": {"strength": 1.2}}]})
>>> diff(a, b)
['~ rpi.sharpen', '    strength: 1 -> 1.2']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .file import TuningFile

SHOW_LIST = 9  # lists up to this long are printed whole (a CCM); longer ones are summarised


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v).lower() if v is not None else "null"
    if isinstance(v, (int, float)):
        return f"{v:.6g}"
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, list) and len(v) <= SHOW_LIST and all(_is_num(x) for x in v):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, list):
        return f"<list of {len(v)}>"
    return "{" + ", ".join(v) + "}" if isinstance(v, dict) else repr(v)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _keyed_by_ct(a: Any, b: Any) -> bool:
    return all(isinstance(x, list) and x and all(isinstance(e, dict) and "ct" in e for e in x) for x in (a, b))


def compare(a: Any, b: Any, path: str, out: list[str], sep: str = ".") -> None:
    """Append one line per difference between values ``a`` and ``b`` at ``path``."""
    if _keyed_by_ct(a, b):
        # Match entries by colour temperature: "ccms @ 2850 K: ccm: ..."
        def by_ct(entries):
            return {f"{_fmt(e['ct'])} K": {k: v for k, v in e.items() if k != "ct"} for e in entries}

        compare(by_ct(a), by_ct(b), f"{path.rstrip('. :')} @ ", out, sep=": ")
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k not in b:
                out.append(f"{path}{k}: removed (was {_fmt(a[k])})")
        for k in b:
            if k not in a:
                out.append(f"{path}{k}: added {_fmt(b[k])}")
            else:
                compare(a[k], b[k], f"{path}{k}{sep}", out)
        return
    key = path.rstrip(". :")
    if isinstance(a, list) and isinstance(b, list):
        if all(_is_num(x) for x in a + b) and (len(a) > SHOW_LIST or len(b) > SHOW_LIST):
            if len(a) != len(b):
                out.append(f"{key}: {len(a)} values -> {len(b)} values")
                return
            d = np.abs(np.asarray(b, float) - np.asarray(a, float))
            if d.max() > 0:
                rel = d / np.maximum(np.abs(np.asarray(a, float)), 1e-12)
                out.append(f"{key}: {int((d > 0).sum())} of {len(a)} values differ, max |delta| {d.max():.4g} "
                           f"(mean {d.mean():.3g}, max {100 * rel.max():.3g} %)")
            return
        if len(a) == len(b) and not all(_is_num(x) for x in a + b):
            for i, (x, y) in enumerate(zip(a, b)):
                compare(x, y, f"{key}[{i}].", out)
            return
    if a != b:
        out.append(f"{key}: {_fmt(a)} -> {_fmt(b)}")


def diff(a: TuningFile, b: TuningFile) -> list[str]:
    """Human-readable lines: ``-`` blocks only in ``a``, ``+`` only in ``b``, ``~`` changed (details indented)."""
    out: list[str] = []
    if a.version != b.version:
        out.append(f"version: {a.version:g} -> {b.version:g}")
    if a.target != b.target:
        out.append(f"target: {a.target} -> {b.target}")
    names_a, names_b = a.names(), b.names()
    out += [f"- {n}" for n in names_a if n not in names_b] + [f"+ {n}" for n in names_b if n not in names_a]
    common_a = [n for n in names_a if n in names_b]
    common_b = [n for n in names_b if n in names_a]
    if common_a != common_b:
        out.append(f"order: {', '.join(common_a)} -> {', '.join(common_b)}")
    for n in common_a:
        lines: list[str] = []
        compare(a.block(n, enabled_only=False), b.block(n, enabled_only=False), "", lines)
        if lines:
            out.append(f"~ {n}")
            out += [f"    {line}" for line in lines]
    return out
