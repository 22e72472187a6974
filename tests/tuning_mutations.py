"""Broken (and a few odd but valid) variants of a stock libcamera tuning file, built in memory.

``mutations(base)`` takes the parsed stock ``imx477.json`` (vc4) and returns ``Mutation``s: a name, the block the
refusal must name ("" for the file's own keys, with ``key`` then naming the key), and the file's text. Each is
either refused by ``load_checked`` with a one-line message naming that block, or, where ``valid`` is set, loads
and develops a picture. Tests build every input here; nothing is downloaded.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Mutation:
    name: str
    block: str  # the block the message must name ("" = the file itself)
    text: str
    key: str = ""  # for file-level problems: the key the message must name
    valid: bool = False  # loads, and a capture develops with it


def _block(data: dict, name: str) -> dict:
    for entry in data["algorithms"]:
        if name in entry:
            return entry[name]
    raise KeyError(name)


def _edit(base: dict, block: str, change: Callable[[dict], Any]) -> str:
    data = copy.deepcopy(base)
    change(_block(data, block))
    return json.dumps(data)  # NaN and Infinity are written as the tokens Python's json reads back


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """A change that sets ``path`` (dots and [i] indices, relative to the block) to ``value``."""
    def change(params: dict) -> None:
        parts = path.replace("]", "").replace("[", ".").split(".")
        target = params
        for p in parts[:-1]:
            target = target[int(p)] if isinstance(target, list) else target[p]
        last = parts[-1]
        if isinstance(target, list):
            target[int(last)] = value
        elif value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return change


_DELETE = object()

# (name, block, path in the block, value[, valid])
_VALUES = [
    ("ccm_nan", "rpi.ccm", "ccms[1].ccm[4]", float("nan")),
    ("ccm_inf", "rpi.ccm", "ccms[0].ccm[0]", float("inf")),
    ("ccm_eight_values", "rpi.ccm", "ccms[0].ccm", [1, 0, 0, 0, 1, 0, 0, 0]),
    ("ccm_ct_string", "rpi.ccm", "ccms[0].ct", "warm"),
    ("ccm_none", "rpi.ccm", "ccms", []),
    ("ccm_ct_repeated", "rpi.ccm", "ccms[1].ct", 2850),
    ("ccm_saturation_x_decreasing", "rpi.ccm", "saturation", [1000, 1.0, 0, 0.5]),
    ("ccm_matrix_string", "rpi.ccm", "ccms[0].ccm", "identity"),
    ("contrast_gamma_empty", "rpi.contrast", "gamma_curve", []),
    ("contrast_gamma_odd", "rpi.contrast", "gamma_curve", [0, 0, 65535]),
    ("contrast_gamma_x_decreasing", "rpi.contrast", "gamma_curve", [0, 0, 40000, 30000, 30000, 50000, 65535, 65535]),
    ("contrast_gamma_over_range", "rpi.contrast", "gamma_curve", [0, 0, 65535, 900000]),
    ("contrast_gamma_missing", "rpi.contrast", "gamma_curve", _DELETE),
    ("contrast_ce_enable_word", "rpi.contrast", "ce_enable", "yes"),
    ("sharpen_huge_strength", "rpi.sharpen", "strength", 1e12),
    ("sharpen_negative", "rpi.sharpen", "strength", -1.0),
    ("sharpen_limit_word", "rpi.sharpen", "limit", "sharp"),
    ("awb_bayes_word", "rpi.awb", "bayes", "x"),
    ("awb_bayes_inf", "rpi.awb", "bayes", float("inf")),
    ("awb_bayes_list", "rpi.awb", "bayes", [1]),
    ("awb_ct_curve_string", "rpi.awb", "ct_curve", "planckian"),
    ("awb_ct_curve_seven", "rpi.awb", "ct_curve", [2850, 0.5, 0.3, 6500, 0.3, 0.6, 7000]),
    ("awb_ct_curve_negative", "rpi.awb", "ct_curve", [2850, -0.5, 0.3, 6500, 0.3, 0.6]),
    ("awb_priors_empty", "rpi.awb", "priors", []),
    ("awb_transverse_zero", "rpi.awb", "transverse_pos", 0),
    ("awb_mode_lo_missing", "rpi.awb", "modes.auto.lo", _DELETE),
    ("awb_speed_nan", "rpi.awb", "speed", float("nan")),
    ("agc_channels_word", "rpi.agc", "channels", "x"),
    ("agc_channels_empty", "rpi.agc", "channels", []),
    ("agc_gain_pairs", "rpi.agc", "channels[0].exposure_modes.normal.gain", [1.0, 2.0]),
    ("agc_weights_fourteen", "rpi.agc", "channels[0].metering_modes.centre-weighted.weights", [1] * 14),
    ("agc_bound_middle", "rpi.agc", "channels[0].constraint_modes.normal[0].bound", "MIDDLE"),
    ("agc_y_target_missing", "rpi.agc", "channels[0].y_target", _DELETE),
    ("agc_speed_nan", "rpi.agc", "channels[0].speed", float("nan")),
    ("agc_shutter_word", "rpi.agc", "channels[0].exposure_modes.normal.shutter", "long"),
    ("alsc_strength_word", "rpi.alsc", "luminance_strength", "x"),
    ("alsc_table_191", "rpi.alsc", "calibrations_Cr[1].table", [1.5] * 191),
    ("alsc_table_negative", "rpi.alsc", "calibrations_Cb[0].table", [-1.0] * 192),
    ("alsc_lut_string", "rpi.alsc", "luminance_lut", "vignette"),
    ("alsc_calibrations_object", "rpi.alsc", "calibrations_Cr", {"ct": 3000}),
    ("lux_reference_y_word", "rpi.lux", "reference_Y", "x"),
    ("lux_reference_y_zero", "rpi.lux", "reference_Y", 0),
    ("lux_shutter_missing", "rpi.lux", "reference_shutter_speed", _DELETE),
    ("lux_gain_inf", "rpi.lux", "reference_gain", float("inf")),
    ("noise_slope_null", "rpi.noise", "reference_slope", None),
    ("black_level_too_big", "rpi.black_level", "black_level", 70000),
    ("black_level_true", "rpi.black_level", "black_level", True),
    ("geq_slope_two", "rpi.geq", "slope", 2.0),
    ("dpc_strength_seven", "rpi.dpc", "strength", 7),
    ("sdn_deviation_word", "rpi.sdn", "deviation", "x"),
    # Odd but valid: libcamera reads these, so must we - and develop with them.
    ("alsc_strength_zero", "rpi.alsc", "luminance_strength", 0, True),
    ("awb_grey_world", "rpi.awb", "bayes", 0, True),
    ("ccm_saturation_quoted", "rpi.ccm", "saturation", "1.2", True),
    ("sharpen_typo_key", "rpi.sharpen", "strenght", 2.0, True),
    ("lux_reference_y_quoted", "rpi.lux", "reference_Y", "17755", True),
]


def mutations(base: dict) -> list[Mutation]:
    out = [Mutation(name, block, _edit(base, block, _set(path, value)), valid=bool(rest and rest[0]))
           for name, block, path, value, *rest in _VALUES]
    text = json.dumps(base)

    def whole(change: Callable[[dict], Any]) -> str:
        data = copy.deepcopy(base)
        change(data)
        return json.dumps(data)

    out += [
        Mutation("version_nan", "", whole(lambda d: d.update(version=float("nan"))), key="version"),
        Mutation("version_word", "", whole(lambda d: d.update(version="two")), key="version"),
        Mutation("version_quoted", "", whole(lambda d: d.update(version="2.0")), valid=True),
        Mutation("version_3", "", whole(lambda d: d.update(version=3.0)), key="version"),
        Mutation("target_unknown", "", whole(lambda d: d.update(target="bcm2711")), key="target"),
        Mutation("algorithms_object", "", whole(lambda d: d.update(algorithms={})), key="algorithms"),
        Mutation("block_is_a_list", "rpi.ccm", whole(lambda d: d["algorithms"].append({"rpi.ccm": [1, 2]}))),
        Mutation("second_awb", "rpi.nn.awb", whole(lambda d: _block(d, "rpi.nn.awb").update(enabled=True))),
        # 100 000 levels of nesting inside a block: one line, no RecursionError.
        Mutation("nesting_100000", "", text.replace('"rpi.dpc": {}', '"rpi.dpc": {"x": ' + "[" * 100_000
                                                       + "]" * 100_000 + "}"), key="nested"),
        Mutation("nesting_40", "rpi.dpc", text.replace('"rpi.dpc": {}', '"rpi.dpc": {"x": ' + "[" * 40 + "]" * 40
                                                         + "}")),
        # YAML (libcamera's parser reads it): an integer as a block name, and as a key inside a block.
        Mutation("yaml_integer_block", "", key="block name 1", text="version: 2.0\ntarget: bcm2835\nalgorithms:\n  - 1: {}\n"
                                           "  - rpi.black_level: {black_level: 4096}\n"),
        Mutation("yaml_integer_key", "rpi.dpc", text.replace('"rpi.dpc": {}', '"rpi.dpc": {7: 1}')),
        Mutation("unknown_block_kept", "x.vendor", whole(lambda d: d["algorithms"].append(
            {"x.vendor": {"table": list(range(5000))}})), valid=True),
        Mutation("stock_as_is", "", text, valid=True),
    ]
    return out
