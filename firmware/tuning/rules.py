"""Per-block rules: what each ``src/ipa/rpi/controller/rpi/<algo>.cpp`` ``read()`` accepts.

Each function takes a ``BlockChecker`` for one block and records its problems. Messages quote libcamera's own
log line where it has one, so a tuning engineer can grep for it.
"""

from __future__ import annotations

from .validate import BlockChecker


def black_level(c: BlockChecker) -> None:
    # black_level.cpp reads uint16 values on the 16-bit scale.
    c.keys(("black_level", "black_level_r", "black_level_g", "black_level_b"), integer=True, lo=0, hi=65535)
    c.unknown_keys(("black_level", "black_level_r", "black_level_g", "black_level_b"))


def dpc(c: BlockChecker) -> None:
    c.key("strength", integer=True, lo=0, hi=2)
    c.unknown_keys(("strength",))


def lux(c: BlockChecker) -> None:
    c.key("reference_shutter_speed", required=True, lo=0, lo_open=True)
    c.key("reference_gain", required=True, lo=0, lo_open=True)
    c.key("reference_aperture", lo=0, lo_open=True)
    c.key("reference_lux", required=True, lo=0, lo_open=True)
    c.key("reference_Y", required=True, lo=0, lo_open=True)
    c.unknown_keys(("reference_shutter_speed", "reference_gain", "reference_aperture", "reference_lux",
                    "reference_Y"))


def noise(c: BlockChecker) -> None:
    c.key("reference_constant", required=True)
    c.key("reference_slope", required=True, lo=0)
    c.unknown_keys(("reference_constant", "reference_slope"))


def geq(c: BlockChecker) -> None:
    c.key("offset", integer=True, lo=0, hi=65535)
    slope = c.key("slope", lo=0)
    if slope is not None and slope >= 1.0:
        c.error("slope", f"{slope:g} must be below 1 (libcamera: \"Bad slope value\")")
    if "strength" in c.params:
        c.pwl(c.params["strength"], "strength")
    c.unknown_keys(("offset", "slope", "strength"))


def sdn(c: BlockChecker) -> None:
    c.keys(("deviation", "strength"), lo=0)
    c.key("mode", integer=True)


def denoise(c: BlockChecker) -> None:
    modes = [m for m in ("normal", "hdr", "night") if m in c.params]
    if not modes:
        _denoise_mode(c, c.params, "")
        return
    if "normal" not in c.params:
        c.error("normal", "missing: with denoise modes, \"normal\" is required")
    for m in modes:
        mode = c.mapping(c.params[m], m)
        if mode is not None:
            _denoise_mode(c, mode, f"{m}.")


def _denoise_mode(c: BlockChecker, mode: dict, prefix: str) -> None:
    for part in ("sdn", "cdn", "tdn"):
        if part in mode:
            sub = c.mapping(mode[part], f"{prefix}{part}")
            if sub is not None:
                for k, v in sub.items():
                    c.number(v, f"{prefix}{part}.{k}", lo=0)


def awb(c: BlockChecker) -> None:
    p = c.params
    for k in ("frame_period", "startup_frames", "convergence_frames", "bayes", "min_regions", "min_G"):
        c.key(k, integer=True, lo=0)
    c.keys(("speed", "delta_limit", "sensitivity_r", "sensitivity_b", "min_pixels", "coarse_step",
            "whitepoint_r", "whitepoint_b", "bias_proportion", "bias_ct"), lo=0)
    for k in ("transverse_pos", "transverse_neg"):
        # awb.cpp: "AwbConfig: transverse_pos/neg must be > 0"
        c.key(k, lo=0, lo_open=True)
    curve = None
    if "ct_curve" in p:
        curve = c.numbers(p["ct_curve"], "ct_curve")
        if curve is not None:
            if len(curve) % 3:
                c.error("ct_curve", f"{len(curve)} numbers is not a list of [ct, r, b] triplets "
                                    "(libcamera: \"AwbConfig: incomplete CT curve entry\")")
                curve = None
            elif len(curve) < 6:
                c.error("ct_curve", "needs at least two [ct, r, b] points "
                                    "(libcamera: \"AwbConfig: insufficient points in CT curve\")")
                curve = None
    if curve is not None:
        cts = curve[0::3]
        for i in range(1, len(cts)):
            if cts[i] <= cts[i - 1]:
                c.error("ct_curve", f"colour temperatures must increase: {cts[i]:g} K after {cts[i - 1]:g} K")
                break
        for i, v in enumerate(curve):
            if i % 3 and v <= 0:
                c.error("ct_curve", f"r and b must be positive, got {v:g} at point {i // 3}")
                break
    modes = None
    if "modes" in p:
        modes = c.mapping(p["modes"], "modes")
        if modes is not None and not modes:
            c.error("modes", "no AWB modes configured (libcamera: \"AwbConfig: no AWB modes configured\")")
        for name, m in (modes or {}).items():
            m = c.mapping(m, f"modes.{name}")
            if m is None:
                continue
            lo = c.number(m.get("lo"), f"modes.{name}.lo", lo=0, lo_open=True)
            hi = c.number(m.get("hi"), f"modes.{name}.hi", lo=0, lo_open=True)
            if lo is not None and hi is not None and lo > hi:
                c.warn(f"modes.{name}", f"lo {lo:g} K is above hi {hi:g} K: the search covers one point")
    priors = None
    if "priors" in p:
        priors = c.sequence(p["priors"], "priors")
        if priors is not None and not priors:
            c.error("priors", "no AWB priors configured (libcamera: \"AwbConfig: no AWB priors configured\")")
        for i, e, _ in c.ordered(priors, "priors", "lux", "{v:g} after {last:g}: priors must be in increasing lux "
                                 "(libcamera: \"AwbConfig: Prior must be ordered in increasing lux value\")", lo=0):
            c.pwl(e.get("prior"), f"priors[{i}].prior")
    if int(p.get("bayes", 1) or 0) and not (curve and modes and priors):
        missing = [k for k, v in (("ct_curve", curve), ("modes", modes), ("priors", priors)) if not v]
        c.warn("bayes", f"Bayesian AWB without {', '.join(missing)}: libcamera falls back to grey world")
    c.unknown_keys(("frame_period", "startup_frames", "convergence_frames", "speed", "ct_curve", "modes",
                    "delta_limit", "transverse_pos", "transverse_neg", "sensitivity_r", "sensitivity_b",
                    "priors", "bayes", "min_pixels", "min_G", "min_regions", "coarse_step", "whitepoint_r",
                    "whitepoint_b", "bias_proportion", "bias_ct", "use_derivatives", "greyworld",
                    # rpi.nn.awb
                    "ccm", "enable_nn", "model", "min_temp", "max_temp", "zone_size", "sat_threshold"))


def agc(c: BlockChecker) -> None:
    channels = c.params.get("channels")
    if channels is None:
        _agc_channel(c, c.params, "")
        return
    channels = c.sequence(channels, "channels")
    if channels is not None and not channels:
        c.error("channels", "empty: AGC needs at least one channel")
    for i, ch in enumerate(channels or []):
        ch = c.mapping(ch, f"channels[{i}]")
        if ch is not None:
            _agc_channel(c, ch, f"channels[{i}].")


def _agc_channel(c: BlockChecker, ch: dict, prefix: str) -> None:
    for name, mode in (c.mapping(ch.get("metering_modes", {}), f"{prefix}metering_modes") or {}).items():
        key = f"{prefix}metering_modes.{name}.weights"
        w = c.numbers(mode.get("weights") if isinstance(mode, dict) else mode, key)
        if w is not None and len(w) != c.platform.agc_weights:
            c.error(key, f"has {len(w)} weights, the {c.platform.name} ISP meters {c.platform.agc_weights} zones "
                         "(libcamera: \"AgcMeteringMode: Incorrect number of weights\")")
    for name, mode in (c.mapping(ch.get("exposure_modes", {}), f"{prefix}exposure_modes") or {}).items():
        key = f"{prefix}exposure_modes.{name}"
        mode = c.mapping(mode, key)
        if mode is None:
            continue
        shutter = c.numbers(mode.get("shutter"), f"{key}.shutter", lo=0)
        gain = c.numbers(mode.get("gain"), f"{key}.gain", lo=0)
        if shutter is None or gain is None:
            continue
        if len(shutter) < 2 or len(gain) < 2:
            c.error(key, "needs at least two shutter and gain entries "
                         "(libcamera: \"AgcExposureMode: must have at least two entries in exposure profile\")")
        elif len(shutter) != len(gain):
            c.error(key, f"{len(shutter)} shutter values but {len(gain)} gains: they must pair up")
    for name, mode in (c.mapping(ch.get("constraint_modes", {}), f"{prefix}constraint_modes") or {}).items():
        key = f"{prefix}constraint_modes.{name}"
        for j, con in enumerate(c.sequence(mode, key) or []):
            ckey = f"{key}[{j}]"
            con = c.mapping(con, ckey)
            if con is None:
                continue
            if str(con.get("bound", "")).upper() not in ("UPPER", "LOWER"):
                c.error(f"{ckey}.bound", f"{con.get('bound')!r} must be UPPER or LOWER "
                                         "(libcamera: \"AGC constraint type should be UPPER or LOWER\")")
            c.number(con.get("q_lo"), f"{ckey}.q_lo", lo=0, hi=1)
            c.number(con.get("q_hi"), f"{ckey}.q_hi", lo=0, hi=1)
            c.pwl(con.get("y_target"), f"{ckey}.y_target")
    if "y_target" not in ch:
        c.error(f"{prefix}y_target", "missing (required)")
    else:
        c.pwl(ch["y_target"], f"{prefix}y_target")
    for k in ("startup_frames", "convergence_frames"):
        if k in ch:
            c.number(ch[k], f"{prefix}{k}", integer=True, lo=0)
    for k in ("speed", "base_ev", "default_exposure_time", "default_analogue_gain", "max_digital_gain",
              "fast_reduce_threshold", "stable_region"):
        if k in ch:
            c.number(ch[k], f"{prefix}{k}", lo=0)


def alsc(c: BlockChecker) -> None:
    p = c.params
    cells = c.platform.alsc_cells
    cols, rows = c.platform.alsc_grid
    for k in ("frame_period", "startup_frames", "n_iter", "min_G"):
        c.key(k, integer=True, lo=0)
    c.keys(("speed", "sigma", "sigma_Cr", "sigma_Cb", "min_count", "omega", "threshold", "lambda_bound",
            "default_ct"), lo=0)
    strength = c.key("luminance_strength", lo=0)
    if strength is not None and strength > 1.0:
        c.warn("luminance_strength", f"{strength:g} over-corrects the light fall-off (corners brighter than "
                                     "the centre)")
    if "corner_strength" in p:
        cs = c.key("corner_strength")
        if cs is not None and cs <= 1.0:
            c.error("corner_strength", f"{cs:g} must be > 1.0 (libcamera: \"corner_strength must be > 1.0\")")
        c.key("asymmetry", lo=0)
    elif "luminance_lut" in p:
        lut = c.numbers(p["luminance_lut"], "luminance_lut")
        if lut is not None and len(lut) != cells:
            c.error("luminance_lut", f"has {len(lut)} values, the {c.platform.name} grid is {cols}x{rows} = {cells} "
                                     "(libcamera: \"Invalid number of entries in LSC table\")")
        elif lut is not None and min(lut) <= 0:
            c.error("luminance_lut", "gains must be positive")
    for key in ("calibrations_Cr", "calibrations_Cb"):
        if key not in p:
            continue
        for i, e, ct in c.ordered(c.sequence(p[key], key), key, "ct",
                                  "{v:g} K after {last:g} K: entries must be in increasing ct order "
                                  f"(libcamera: \"Entries in {key} must be in increasing ct order\")", lo=0, lo_open=True):
            table = c.numbers(e.get("table"), f"{key}[{i}].table")
            if table is not None and len(table) != cells:
                c.error(f"{key}[{i}].table", f"has {len(table)} values, the {c.platform.name} grid is {cols}x{rows} "
                                             f"= {cells} (libcamera: \"Incorrect number of values for ct "
                                             f"{ct if ct is None else f'{ct:g}'} in {key}\")")
            elif table is not None and min(table) <= 0:
                c.error(f"{key}[{i}].table", "gains must be positive")
    if ("calibrations_Cr" in p) != ("calibrations_Cb" in p):
        c.warn("calibrations_Cr" if "calibrations_Cb" in p else "calibrations_Cb",
               "missing while the other colour's tables exist: that colour gets no shading correction")
    c.unknown_keys(("frame_period", "startup_frames", "speed", "sigma", "sigma_Cr", "sigma_Cb", "min_count",
                    "min_G", "omega", "n_iter", "luminance_strength", "corner_strength", "asymmetry",
                    "luminance_lut", "calibrations_Cr", "calibrations_Cb", "default_ct", "threshold",
                    "lambda_bound"))


def contrast(c: BlockChecker) -> None:
    c.key("ce_enable", integer=True, lo=0, hi=1)
    c.keys(("lo_histogram", "lo_level", "hi_histogram", "hi_level"), lo=0, hi=1)
    c.keys(("lo_max", "hi_max"), lo=0, hi=65535)
    if "gamma_curve" not in c.params:
        c.error("gamma_curve", "missing (required)")
    else:
        flat = c.pwl(c.params["gamma_curve"], "gamma_curve", x_range=(0, 65535))
        if flat is not None:
            xs, ys = flat[0::2], flat[1::2]
            if len(xs) < 2 or xs[0] != 0 or xs[-1] != 65535:
                c.error("gamma_curve", f"must span the whole input range 0..65535, spans {xs[0]:g}..{xs[-1]:g}")
            elif min(ys) < 0 or max(ys) > 65535:
                c.error("gamma_curve", f"outputs must lie in 0..65535, got {min(ys):g}..{max(ys):g}")
            elif any(b < a for a, b in zip(ys, ys[1:])):
                c.warn("gamma_curve", "output decreases somewhere: tones reverse (solarisation)")
    c.unknown_keys(("ce_enable", "lo_histogram", "lo_level", "lo_max", "hi_histogram", "hi_level", "hi_max",
                    "gamma_curve"))


def ccm(c: BlockChecker) -> None:
    p = c.params
    if "saturation" in p:
        c.pwl(p["saturation"], "saturation")
    entries = c.sequence(p.get("ccms"), "ccms") if "ccms" in p else []
    if entries is not None and not entries:
        c.error("ccms", "no CCMs specified (libcamera: \"No CCMs specified\")")
    for i, e, _ in c.ordered(entries, "ccms", "ct", "{v:g} K after {last:g} K (libcamera: \"CCM not in "
                             "increasing colour temperature order\")", lo=0, lo_open=True):
        m = c.numbers(e.get("ccm"), f"ccms[{i}].ccm", length=9)
        if m is None:
            continue
        sums = [sum(m[r * 3:r * 3 + 3]) for r in range(3)]
        if max(abs(s - 1.0) for s in sums) > 0.02:
            c.warn(f"ccms[{i}].ccm", "rows sum to " + ", ".join(f"{s:.3f}" for s in sums) +
                   ", not 1: greys will not stay grey")
        if max(abs(v) for v in m) > 8.0:
            c.warn(f"ccms[{i}].ccm", "values beyond +-8 are clamped by libcamera")
    c.unknown_keys(("ccms", "saturation"))


def sharpen(c: BlockChecker) -> None:
    c.keys(("threshold", "strength", "limit"), lo=0)
    c.unknown_keys(("threshold", "strength", "limit"))


def cac(c: BlockChecker) -> None:
    c.key("strength", lo=0)
    n = 81  # (8 + 1) x (8 + 1) grid points for the PiSP's 8x8 CAC regions
    for k in ("lut_rx", "lut_ry", "lut_bx", "lut_by"):
        if k in c.params:
            c.numbers(c.params[k], k, length=n)


def hdr(c: BlockChecker) -> None:
    for name, mode in c.params.items():
        if name == "enabled":
            continue
        mode = c.mapping(mode, name)
        if mode is not None and "cadence" in mode:
            c.numbers(mode["cadence"], f"{name}.cadence", integer=True, lo=0, min_length=1)


def tonemap(c: BlockChecker) -> None:
    if "tone_curve" in c.params:
        c.pwl(c.params["tone_curve"], "tone_curve")
    c.keys(("detail_constant", "detail_slope", "iir_strength", "strength"), lo=0)


def saturation(c: BlockChecker) -> None:
    c.keys(("shift_r", "shift_g", "shift_b"), integer=True)


def accept(c: BlockChecker) -> None:
    """A block libcamera knows but whose contents we do not model (af, sync, decompand): kept as it is."""


RULES = {
    "rpi.black_level": black_level, "rpi.dpc": dpc, "rpi.lux": lux, "rpi.noise": noise, "rpi.geq": geq,
    "rpi.sdn": sdn, "rpi.denoise": denoise, "rpi.awb": awb, "rpi.nn.awb": awb, "rpi.agc": agc,
    "rpi.alsc": alsc, "rpi.contrast": contrast, "rpi.ccm": ccm, "rpi.sharpen": sharpen, "rpi.cac": cac,
    "rpi.hdr": hdr, "rpi.tonemap": tonemap, "rpi.saturation": saturation, "rpi.af": accept,
    "rpi.sync": accept, "rpi.decompand": accept,
}
