"""Check a tuning file of libcamera's software ISP (the ``simple`` IPA's ``version: 1`` YAML) as libcamera reads it.

A soft-ISP file is not a Raspberry Pi file: its ``algorithms`` is a list of blocks named ``BlackLevel``, ``Awb``,
``Ccm``, ``Adjust``, ``Agc`` (``Lut`` before libcamera 0.7), with none of the ``rpi.*`` blocks. libcamera's
``IPASoftSimple::init`` refuses a file without ``algorithms``; libipa's ``Module::createAlgorithms`` refuses an
entry that is not a mapping or names an algorithm it does not have ("Algorithm 'X' not found"), and the IPA then
fails to start. Of the blocks' own keys, released libcamera reads only ``Ccm``'s ``ccms`` (``ct`` and a 3x3
``ccm`` per entry, through libipa's ``Interpolator::readYaml``: at least one) and ``BlackLevel``'s optional
``blackLevel`` (16-bit scale); anything else is ignored, and said so here (``Adjust`` ``gamma``/``contrast`` are
the keys of the unmerged PR #19 that ``camtune export-softisp --adjust-keys`` writes).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..errors import TuningError
from ..textfile import read_text
from .file import parse_text
from .issues import Issue

ALGORITHMS = {"BlackLevel": {"blackLevel"}, "Awb": set(), "Ccm": {"ccms"}, "Adjust": set(), "Agc": set(),
              "Lut": set()}
PR19_KEYS = {"Adjust": {"gamma": (0.1, 10.0), "contrast": (0.0, 2.0)}}


def looks_softisp(data: Any) -> bool:
    """True for a parsed file shaped as the soft ISP's: a version below 2 (libcamera reads a quoted number as the
    number) with a list of algorithms (a Raspberry Pi file of version 1 is a flat object of blocks)."""
    if not isinstance(data, dict) or not isinstance(data.get("algorithms"), list):
        return False
    version = data.get("version", 0)
    try:
        if isinstance(version, bool) or float(version) >= 2:
            return False
    except (TypeError, ValueError):
        return False
    return True


def read(path: str | Path) -> Any:
    """The parsed file (JSON or YAML); ``TuningError`` naming it if it cannot be read."""
    return parse_text(read_text(path, "tuning file", TuningError), str(path))


def inspect_any(path: str | Path, target: str | None = None) -> tuple[str | None, list[Issue]]:
    """(what the file is, every finding) for a Raspberry Pi or a soft-ISP tuning file; (None, [the reason]) when
    it cannot be read as either. ``target`` (vc4/pisp) also requires a Raspberry Pi file for that ISP."""
    from .checked import inspect

    try:
        data = read(path)
    except TuningError:
        data = None  # inspect() says why, as for any file
    if looks_softisp(data):
        issues = check_softisp(data, str(path))
        if target:
            issues.insert(0, Issue("error", "", "", f"a soft-ISP file (libcamera's simple IPA), not a Raspberry "
                                                    f"Pi {target} one", str(path)))
        return f"soft-ISP file, {len(data['algorithms'])} blocks", issues
    tf, issues = inspect(path, target)  # the same check the daemon runs at start and on SIGHUP
    return (None if tf is None else f"{tf.platform}, {len(tf.algorithms)} blocks"), issues


def check_softisp(data: Any, source: str) -> list[Issue]:
    """Every finding about a soft-ISP file, by libcamera's rules."""
    issues: list[Issue] = []

    def add(level: str, block: str, key: str, message: str) -> None:
        issues.append(Issue(level, block, key, message, source))

    version = data.get("version")
    if version != 1:
        add("warning", "", "version", f"is {version!r}; the soft ISP's files say version 1 (libcamera reads it "
                                      "as an unsigned number and ignores it)")
    for i, entry in enumerate(data["algorithms"]):
        if not isinstance(entry, dict) or not entry:
            add("error", f"algorithms[{i}]", "", "must be a mapping of one algorithm name to its parameters "
                                                 "(libcamera: \"Invalid YAML syntax for algorithm\")")
            continue
        name, params = next(iter(entry.items()))
        if len(entry) > 1:
            add("warning", str(name), "", f"algorithms[{i}] has {len(entry)} keys; libcamera reads only the first")
        if name not in ALGORITHMS:
            hint = " (a Raspberry Pi block: this is a soft-ISP file)" if str(name).startswith("rpi.") else ""
            add("error", str(name), "", f"no such soft-ISP algorithm{hint}; libcamera: \"Algorithm '{name}' not "
                                        f"found\" (it has {', '.join(ALGORITHMS)})")
            continue
        if params is None:
            params = {}
        if not isinstance(params, dict):
            add("error", name, "", f"parameters must be a mapping, got {type(params).__name__}")
            continue
        if name == "Lut":
            add("info", name, "", "the tone table of libcamera before 0.7; later versions call it Adjust")
        if name == "Ccm":
            issues += _ccms(params.get("ccms"), source)
        if name == "BlackLevel" and "blackLevel" in params:
            level = params["blackLevel"]
            if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 65535:
                add("error", name, "blackLevel", f"must be a whole number 0..65535 (16-bit scale), got {level!r}")
        for key, value in params.items():
            if key in ALGORITHMS[name]:
                continue
            lo_hi = PR19_KEYS.get(name, {}).get(key)
            if lo_hi is None:
                add("info", name, str(key), "not read by the released soft ISP (ignored)")
            elif not _number(value) or not lo_hi[0] <= value <= lo_hi[1]:
                add("error", name, str(key), f"must be a number {lo_hi[0]:g}..{lo_hi[1]:g}, got {value!r}")
            else:
                add("info", name, str(key), "a key of the unmerged libcamera PR #19; released libcamera ignores "
                                            "it (set the control instead)")
    return issues


def _ccms(ccms: Any, source: str) -> list[Issue]:
    def err(key: str, message: str) -> Issue:
        return Issue("error", "Ccm", key, message, source)

    if not isinstance(ccms, list) or not ccms:
        return [err("ccms", "needs a list of at least one {ct, ccm} (libcamera: \"Failed to parse 'ccm' "
                            "parameter from tuning file\")")]
    out, seen = [], set()
    for i, entry in enumerate(ccms):
        where = f"ccms[{i}]"
        if not isinstance(entry, dict):
            out.append(err(where, "must be a mapping with ct and ccm"))
            continue
        ct, m = entry.get("ct"), entry.get("ccm")
        if isinstance(ct, bool) or not isinstance(ct, int) or ct <= 0:
            out.append(err(f"{where}.ct", f"must be a colour temperature in whole kelvin, got {ct!r}"))
        elif ct in seen:
            out.append(err(f"{where}.ct", f"{ct} K appears twice"))
        else:
            seen.add(ct)
        if not isinstance(m, list) or len(m) != 9 or not all(_number(v) for v in m):
            out.append(err(f"{where}.ccm", "must be 9 finite numbers (a 3x3 matrix, row by row)"))
    return out


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
