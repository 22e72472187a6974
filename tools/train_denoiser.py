"""Train the raw denoiser, evaluate it on the held-out set and write the .tflite models beside their metrics.

    .venv/bin/pip install -e '.[train]'
    nice .venv/bin/python tools/train_denoiser.py                   # hq: 32 channels, 9000 steps, ~28 min
    nice .venv/bin/python tools/train_denoiser.py --channels 16 --steps 6000   # fast: 16 channels, ~13 min
    nice .venv/bin/python tools/train_denoiser.py --steps 200 --out /tmp/dn   # a smoke run
    nice .venv/bin/python tools/train_denoiser.py --from-float firmware/denoise/models/raw_cnn32_fp16.tflite
                                                     # re-quantise trained weights without training again

The network is a small CNN on packed Bayer (h/2, w/2, 4, RGGB) in the variance-stabilised domain of
``firmware.denoise.conditioning``: noise there has unit variance at every gain, so one model serves every ISO.
It predicts the residual; the loss is taken after the algebraic inverse transform, on linear raw, so the model
learns outputs whose inverse is unbiased. Training data is ``firmware.denoise.synthetic``: package-shipped
pictures and dead leaves, unprocessed to raw, with noise from real sensor profiles at analogue gain 1-22.
Everything is drawn from ``--seed``, so the same seed, tuning files and machine give the same data; the
data go through the mock sensors' tuning (colour matrices, white balance), so a change there changes them.

Quantisation. int8 post-training quantisation gives every tensor one scale, set by the largest value seen while
calibrating. The stabilised input spans 0..~0.125/sqrt(S) (12 at analogue gain 1, 2.8 at gain 16, in units where
noise is 1/16), and the first layers' activations carry that whole range, so one scale for every gain makes
the input step 0.75x the noise at gain 8 and costs 0.3-0.5 dB there. Instead each network is quantised several
times, into *range banks*: bank i is calibrated only on examples whose stabilised white level is at most
``--banks[i]`` (a ramp to that level included, so the range reaches it), the last on everything; and the first
convolution stays float (selective quantisation), which halves what is left of the loss. At run time the
denoiser picks the first bank whose bound holds the frame's white level (``firmware.denoise.model``). Weights
are the same float weights in every bank.

Writes, for ``--name NAME`` (default ``raw_cnn<channels>``): ``NAME_fp16.tflite`` (the float model: the
reference the int8 loss is measured against), ``NAME_int8_z<bound>.tflite`` per bank, ``NAME.json`` (tiling,
receptive field, banks, held-out metrics) and ``NAME_training.log``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firmware.denoise import conditioning, synthetic  # noqa: E402
from firmware.frame import NoiseProfile  # noqa: E402

MODELS = Path(__file__).resolve().parent.parent / "firmware" / "denoise" / "models"
CHANNELS = 32
LAYERS = 7
BANKS = (3.0, 4.2, 6.0, 8.5)  # white levels bounding the int8 range banks, ~sqrt(2) apart (a doubling of gain
# each); the last bank takes the rest
EVAL_GAINS = (1, 2, 4, 8, 16)  # held-out gains logged; 8 and 16 are the figures the issue sets
ALIGN = 1  # no down-sampling: tiles may start anywhere
# Packed pixels. Small tiles cost little time and much less memory: at 528² (4 x 3 tiles over a 12.3 MP frame,
# 1.09x redundancy) the interpreter's tensors held ~190 MB for 310 ms a frame; at 192² (108 tiles, 1.16x)
# ~30 MB for ~370 ms - memory a camera keeping a ZSL ring needs more than 60 ms.
TILE = (192, 192)
log = logging.getLogger("train_denoiser")


# -- the network --------------------------------------------------------------------------------------------

def build_model(channels: int = CHANNELS, layers: int = LAYERS, linear: bool = False):
    """Plain CNN at full packed resolution: ``layers`` 3x3 convolutions, ``channels`` wide, ReLU between.

    Width at full resolution is what buys quality here: in equal training time a 32-channel 7-layer CNN
    came within 0.3 dB of BM3D where a 16-channel one and a 16/32/64 U-Net of twice its cost stayed 1 dB
    short. The last layer starts at zero, so training starts from "change nothing". ``linear`` drops the
    activations and sets every weight to one: a twin for measuring the receptive field.
    """
    import keras
    from keras import layers as L

    init = "ones" if linear else "glorot_uniform"
    h = inp = keras.Input((None, None, 4), name="stabilised")
    for _ in range(layers - 1):
        h = L.Conv2D(channels, 3, padding="same", activation=None if linear else "relu",
                     kernel_initializer=init)(h)
    out = L.Conv2D(4, 3, padding="same", kernel_initializer="ones" if linear else "zeros")(h)
    return keras.Model(inp, out, name="raw_cnn")


def receptive_radius(channels: int = CHANNELS, size: int = 128) -> int:
    """How far (packed px) an input can reach an output: the gradient support of one centre pixel."""
    import tensorflow as tf

    model = build_model(channels, linear=True)
    x = tf.Variable(np.ones((1, size, size, 4), np.float32))
    radius = 0
    for c in range(size // 2, size // 2 + ALIGN):  # the reach depends on the pixel's place in the pooling grid
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(model(x)[0, c, c, :])
        g = np.abs(tape.gradient(total, x).numpy()[0]).sum(axis=-1)
        ys, xs = np.nonzero(g > 0)
        radius = max(radius, int(np.abs(ys - c).max()), int(np.abs(xs - c).max()))
    return radius


# -- data ---------------------------------------------------------------------------------------------------

class Sources:
    """Linear-light pictures to crop from: scikit-image's training pictures and dead leaves."""

    def __init__(self, rng: np.random.Generator, dead_leaves: int):
        import cv2

        self.images = []
        for name in synthetic.TRAIN_COLOUR + synthetic.TRAIN_GREY:
            srgb = synthetic.skimage_picture(name)
            for scale in (1.0, 0.6):
                img = srgb if scale == 1.0 else cv2.resize(srgb, None, fx=scale, fy=scale,
                                                            interpolation=cv2.INTER_AREA)
                if min(img.shape[:2]) >= 128:
                    self.images.append((name in synthetic.TRAIN_GREY, synthetic.srgb_to_linear(img)))
        for _ in range(dead_leaves):
            self.images.append((False, synthetic.srgb_to_linear(synthetic.dead_leaves(640, rng))))
        # Each picture's 98th percentile, so exposures are drawn relative to a well-exposed frame.
        self.p98 = [float(np.percentile(img, 98)) for _, img in self.images]


def sample(src: Sources, rng: np.random.Generator, bayer: int):
    """One training example: (stabilised noisy packed, clean packed, shot S, offset term c)."""
    i = int(rng.integers(len(src.images)))
    grey, img = src.images[i]
    h, w = img.shape[:2]
    size = min(bayer, h // 2 * 2, w // 2 * 2)
    y, x = int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))
    crop = img[y:y + size, x:x + size]
    crop = np.rot90(crop, int(rng.integers(4)))
    if rng.uniform() < 0.5:
        crop = crop[:, ::-1]
    crop = np.ascontiguousarray(crop, dtype=np.float32)
    if grey:  # give grey pictures a colour cast, so they are not all neutral in raw
        crop = crop * rng.uniform(0.7, 1.0, 3).astype(np.float32)
    if size < bayer:
        crop = np.pad(crop, ((0, bayer - size), (0, bayer - size), (0, 0)), mode="reflect")
    model = "imx477" if rng.uniform() < 0.6 else "imx708"
    rgb2cam, (r, b) = synthetic.camera_colour(model, float(rng.uniform(2500, 8000)))
    gains = (r * rng.uniform(0.93, 1.07), b * rng.uniform(0.93, 1.07))
    exposure = 0.85 / src.p98[i] * float(np.exp(rng.uniform(np.log(0.15), np.log(1.4))))
    clean = synthetic.unprocess(crop, rgb2cam, gains, exposure)
    sensor = list(synthetic.SENSORS.values())[int(rng.integers(len(synthetic.SENSORS)))]
    gain = float(np.exp(rng.uniform(0, np.log(22)))) if rng.uniform() < 0.5 else float(rng.uniform(6, 22))
    profile = sensor.profile(gain)
    noisy = synthetic.add_noise(clean, profile, sensor.bits, rng)
    s, c = conditioning._terms(profile)
    return (conditioning.forward(pack(noisy), profile), pack(clean), np.float32(s), np.float32(c))


def pack(bayer: np.ndarray) -> np.ndarray:
    h, w = bayer.shape
    return np.ascontiguousarray(bayer.reshape(h // 2, 2, w // 2, 2).transpose(0, 2, 1, 3).reshape(h // 2, w // 2, 4))


def batches(src: Sources, seed: int, batch: int, bayer: int):
    rng = np.random.default_rng(seed)
    while True:
        items = [sample(src, rng, bayer) for _ in range(batch)]
        yield tuple(np.stack(parts) for parts in zip(*items))


# -- training -----------------------------------------------------------------------------------------------

def train(args) -> object:
    import keras
    import tensorflow as tf
    from tqdm import tqdm

    keras.utils.set_random_seed(args.seed)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    src = Sources(rng, args.dead_leaves)
    log.info("sources: %d pictures (scikit-image at two scales + %d dead leaves) in %.1f s",
             len(src.images), args.dead_leaves, time.perf_counter() - t0)
    model = build_model(args.channels)
    radius = receptive_radius(args.channels)
    if args.from_float:
        load_float_weights(model, args.from_float)
        log.info("model: %d parameters, receptive-field radius %d packed px, float weights from %s (no training)",
                 model.count_params(), radius, args.from_float)
        return model, radius, src
    log.info("model: %d parameters, receptive-field radius %d packed px", model.count_params(), radius)
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, args.steps, alpha=0.01)
    opt = keras.optimizers.Adam(schedule)
    k = conditioning.INPUT_SCALE

    @tf.function(jit_compile=False)
    def step(z, clean, s, c):
        s4 = tf.reshape(s, (-1, 1, 1, 1))
        c4 = tf.reshape(c, (-1, 1, 1, 1))
        with tf.GradientTape() as tape:
            zhat = z + model(z, training=True)
            est = (tf.square(zhat * s4 / (2 * k)) - c4) / s4
            est = tf.clip_by_value(est, 0.0, 1.0)
            # Squared error on linear raw (what raw PSNR measures), in units of each example's shot-noise
            # variance so every gain weighs alike.
            loss = tf.reduce_mean(tf.square(est - clean) / s4)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    data = tf.data.Dataset.from_generator(
        lambda: batches(src, args.seed + 1, args.batch, args.patch),
        output_signature=(tf.TensorSpec((None, None, None, 4), tf.float32),) * 2 + (tf.TensorSpec((None,), tf.float32),) * 2,
    ).prefetch(4)
    running = None
    t1 = time.perf_counter()
    bar = tqdm(zip(range(args.steps), data), total=args.steps, desc="training", unit="step", file=sys.stderr,
               mininterval=5)
    for i, (z, clean, s, c) in bar:
        loss = float(step(z, clean, s, c))
        running = loss if running is None else 0.98 * running + 0.02 * loss
        if (i + 1) % args.log_every == 0 or i + 1 == args.steps:
            log.info("step %d/%d: loss %.4f (running %.4f), %.1f min", i + 1, args.steps, loss, running,
                     (time.perf_counter() - t1) / 60)
        bar.set_postfix(loss=f"{running:.4f}", refresh=False)
    log.info("trained %d steps of %d x %d^2 Bayer in %.1f min", args.steps, args.batch, args.patch,
             (time.perf_counter() - t1) / 60)
    return model, radius, src


def load_float_weights(model, path: Path) -> None:
    """Set ``model``'s convolutions from a float .tflite of the same network (float16 weights widen exactly)."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path))
    ops = interp._get_ops_details()
    made_by = {out: op for op in ops for out in op["outputs"]}

    def constant(index):
        op = made_by.get(index)
        if op is not None and op["op_name"] == "DEQUANTIZE":  # float16 weights are widened by an op
            index = op["inputs"][0]
        return interp.get_tensor(index).astype(np.float32)

    convs = [op for op in ops if op["op_name"] == "CONV_2D"]
    layers = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    if len(convs) != len(layers):
        raise SystemExit(f"{path}: {len(convs)} convolutions, the network has {len(layers)}")
    for op, layer in zip(convs, layers):
        kernel = constant(op["inputs"][1]).transpose(1, 2, 3, 0)  # TFLite OHWI -> Keras HWIO
        if kernel.shape != tuple(layer.kernel.shape):
            raise SystemExit(f"{path}: kernel {kernel.shape} does not fit {layer.name} {tuple(layer.kernel.shape)}")
        layer.set_weights([kernel, constant(op["inputs"][2])])


# -- conversion and evaluation ------------------------------------------------------------------------------

def white(s: float, c: float) -> float:
    """The stabilised value of a full-scale signal for shot term ``s`` and offset ``c`` (the input's range)."""
    return 2.0 * float(np.sqrt(s + c)) / s * conditioning.INPUT_SCALE


def calibration(src: Sources, seed: int, count: int, bound: float):
    """Representative inputs for one range bank: ``count`` examples whose white level is within ``bound``.

    A ramp from black to ``bound`` comes first, so the calibrated input range reaches the bank's bound even
    when no example happens to be exposed that far.
    """
    def examples():
        rng = np.random.default_rng(seed)
        ramp = np.linspace(0, bound, 256, dtype=np.float32)[None, :, None]
        yield [np.ascontiguousarray(np.broadcast_to(ramp, (256, 256, 4)))[None]]
        kept = 0
        while kept < count:
            z, _, s, c = sample(src, rng, 256)
            if white(float(s), float(c)) <= bound:
                kept += 1
                yield [z[None]]
    return examples


def first_conv_output(tflite: bytes) -> str:
    """The name of the first convolution's output in a converted model (what the quantiser calls the node)."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=tflite)
    names = {d["index"]: d["name"] for d in interp.get_tensor_details()}
    return next(names[op["outputs"][0]] for op in interp._get_ops_details() if op["op_name"] == "CONV_2D")


def convert(model, args, src: Sources) -> dict:
    """The float16 model and one int8 model per range bank; returns their files and the banks' bounds."""
    import shutil

    import tensorflow as tf

    saved = args.out / f"_{args.name}_saved_model"
    model.export(str(saved), format="tf_saved_model", verbose=False)
    conv = tf.lite.TFLiteConverter.from_saved_model(str(saved))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.target_spec.supported_types = [tf.float16]
    out = {"float": args.out / f"{args.name}_fp16.tflite", "int8": []}
    out["float"].write_bytes(conv.convert())
    top = max(white(*conditioning._terms(sensor.profile(1.0))) for sensor in synthetic.SENSORS.values())
    first = None
    for bound in [*args.banks, top]:
        t = time.perf_counter()
        conv = tf.lite.TFLiteConverter.from_saved_model(str(saved))
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = calibration(src, args.seed + 2, args.calibration, bound)
        # Float I/O; int8 inside, but for the first convolution: float there costs ~2 % of the time and
        # halves the loss, as the input carries the whole signal range at a step finer than int8's.
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
        if first is None:
            first = first_conv_output(conv.convert())
        options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=[first])
        selective = tf.lite.experimental.QuantizationDebugger(
            converter=conv, debug_dataset=calibration(src, args.seed + 2, args.calibration, bound),
            debug_options=options)
        name = f"{args.name}_int8_z{bound:g}.tflite" if bound != top else f"{args.name}_int8_zall.tflite"
        path = args.out / name
        path.write_bytes(selective.get_nondebug_quantized_model())
        out["int8"].append((round(float(bound), 4), path))
        log.info("int8 bank %s: first convolution float, the rest calibrated on %d examples with white level "
                 "<= %.2f, %.1f s", name, args.calibration, bound, time.perf_counter() - t)
    shutil.rmtree(saved)
    return out


def evaluate(models, meta: dict, threads: int, gains=EVAL_GAINS) -> dict[str, float]:
    """Raw PSNR on the held-out crops (IMX477) at ``gains``, through the firmware's own denoiser."""
    from firmware.denoise.model import TFLiteDenoiser
    from firmware.frame import FrameInfo

    den = TFLiteDenoiser(models, meta, mode="eval", threads=threads)
    res = {}
    crops = synthetic.test_crops()
    for gain in gains:
        before, after = [], []
        for i, crop in enumerate(crops):
            noisy, profile = synthetic.noisy_test_crop(crop, gain, i)
            frame = FrameInfo(cfa="RGGB", white_level=4095, black_levels=(256.0,) * 4, noise=profile)
            before.append(synthetic.psnr(crop.clean, noisy))
            after.append(synthetic.psnr(crop.clean, den.denoise(noisy, frame)))
        res[f"gain{gain}_noisy_db"] = round(float(np.mean(before)), 3)
        res[f"gain{gain}_denoised_db"] = round(float(np.mean(after)), 3)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--steps", type=int, default=9000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--patch", type=int, default=256, help="training crop, Bayer pixels")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--channels", type=int, default=CHANNELS, help="width of every hidden layer")
    ap.add_argument("--name", help="file names' stem (default raw_cnn<channels>)")
    ap.add_argument("--banks", type=lambda v: sorted(float(b) for b in v.split(",")), default=list(BANKS),
                    help="white levels bounding the int8 range banks, comma-separated (default %(default)s)")
    ap.add_argument("--calibration", type=int, default=128, help="representative examples per int8 bank")
    ap.add_argument("--from-float", type=Path, help="take the weights from this float .tflite of the same "
                    "network instead of training (re-quantises; the log is appended to)")
    ap.add_argument("--dead-leaves", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=250)
    ap.add_argument("--out", type=Path, default=MODELS)
    args = ap.parse_args(argv)
    args.name = args.name or f"raw_cnn{args.channels}"
    args.out.mkdir(parents=True, exist_ok=True)
    logfile = args.out / f"{args.name}_training.log"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        handlers=[logging.FileHandler(logfile, mode="a" if args.from_float else "w"),
                                  logging.StreamHandler(sys.stderr)])
    log.info("train_denoiser %s", " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()))
    t0 = time.perf_counter()
    meta_path = args.out / f"{args.name}.json"
    previous = json.loads(meta_path.read_text()) if args.from_float and meta_path.is_file() else {}
    model, radius, src = train(args)
    margin = -(-radius // ALIGN) * ALIGN
    files = convert(model, args, src)
    meta = {
        "network": args.name, "channels": args.channels, "layers": LAYERS, "parameters": int(model.count_params()),
        "input": "packed Bayer RGGB (h/2, w/2, 4), generalised Anscombe domain times input_scale",
        "output": "residual in the same domain", "input_scale": conditioning.INPUT_SCALE,
        "tile": list(TILE), "margin": margin, "align": ALIGN, "receptive_radius": radius,
        "float": files["float"].name,
        "int8": [{"input_max": m, "file": p.name} for m, p in files["int8"]],
        "seed": args.seed, "steps": args.steps, "batch": args.batch, "patch": args.patch,
        "train_minutes": round((time.perf_counter() - t0) / 60, 1),
    }
    if args.from_float:  # the training run's figures stay; this run only re-quantised
        meta.update({k: previous[k] for k in ("seed", "steps", "batch", "patch", "train_minutes") if k in previous})
        meta["requantised_minutes"] = round((time.perf_counter() - t0) / 60, 1)
    metrics = {}
    for kind, models in (("float", files["float"]), ("int8", files["int8"])):
        metrics[kind] = evaluate(models, meta, args.threads)
        log.info("held-out %s: %s", kind, metrics[kind])
    metrics["size_kb"] = {p.name: round(p.stat().st_size / 1024, 1)
                          for p in [files["float"], *(p for _, p in files["int8"])]}
    meta["held_out"] = metrics
    loss = {g: round(metrics["float"][f"gain{g}_denoised_db"] - metrics["int8"][f"gain{g}_denoised_db"], 3)
            for g in EVAL_GAINS}
    meta["int8_loss_db"] = {f"gain{g}": v for g, v in loss.items()}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    log.info("int8 loses %s dB against float (held-out raw PSNR); at gain 8 and 16: %.3f, %.3f (%s 0.1 dB)",
             loss, loss[8], loss[16], "within" if max(loss[8], loss[16]) <= 0.1 else "NOT within")
    log.info("done in %.1f min; wrote %s", (time.perf_counter() - t0) / 60,
             ", ".join(p.name for p in [files["float"], *(p for _, p in files["int8"])]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
