"""``camtune merge``: bursts of DNGs in, one merged DNG out that real readers (LibRaw, tifffile) accept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from firmware.camtune.cli import main
from firmware.develop import frame_facts
from firmware.formats.dng import encode_dng
from firmware.formats.dng_read import read_dng
from firmware.formats.identity import CameraIdentity
from firmware.sensor.mock.models import sensor_model
from firmware.sensor.mock.render import Renderer
from firmware.sensor.mock.scenes import make_scene
from firmware.sensor.mock.spectral import Lighting
from firmware.sensor.mock.tuning_default import default_tuning
from firmware.sensor.protocol import SensorMode

MODEL = sensor_model("imx477")
MODE = SensorMode((512, 384), 12, 10.0, (1700, 1400, 512, 384), 1)


def _burst(directory: Path, exposures, gain: float = 8.0, size=MODE, bggr: bool = False,
           tuning=None) -> list[Path]:
    """DNGs of a hand-held burst from the mock, written by the capture path's own DNG writer; ``bggr`` crops
    a row and a column off (another camera's CFA order), ``tuning`` without ``rpi.noise`` leaves out the
    NoiseProfile (as picamera2's DNGs do)."""
    r = Renderer(MODEL, make_scene("night-street+shake", MODEL.info.pixel_array_size, 6), seed=6)
    tuning = tuning or default_tuning("imx477")
    paths = []
    for i, e in enumerate(exposures):
        ts = 1_000_000_000 + i * 100_000_000
        md = {"ExposureTime": e, "AnalogueGain": gain, "DigitalGain": 1.0, "ColourGains": (1.9, 2.1),
              "SensorBlackLevels": (4096,) * 4, "SensorTimestamp": ts, "ColourTemperature": 4000}
        raw = r.render(size, Lighting(4000, "auto", 3.0), e, gain, ts)
        if bggr:
            raw = np.ascontiguousarray(raw[1:-1, 1:-1])
        path = directory / f"burst_{i}.dng"
        frame = frame_facts(md, cfa="BGGR" if bggr else "RGGB", bit_depth=12, tuning=tuning)  # as the writer does
        path.write_bytes(encode_dng(raw, md, frame, tuning=tuning, wall_ns=0,
                                    identity=CameraIdentity(make="camerad", model="imx477 (mock)")))
        paths.append(path)
    return paths


def test_merge_cli_writes_a_cleaner_dng_libraw_reads(tmp_path, capsys):
    import rawpy

    inputs = _burst(tmp_path, [40_000] * 5)
    out = tmp_path / "merged.dng"
    assert main(["merge", *map(str, inputs), "-o", str(out), "--jpeg", str(tmp_path / "merged.jpg")]) == 0
    said = capsys.readouterr().out
    assert "5 frames onto frame" in said and "merged.jpg" in said
    merged, single = read_dng(out), read_dng(inputs[0])
    assert merged.raw.shape == single.raw.shape and merged.cfa == "RGGB"
    assert merged.white_level == 65535 and merged.black_levels == (4096.0,) * 4
    # The merged frame's own noise profile: several times lower than one frame's.
    assert merged.noise_profile.shot < single.noise_profile.shot / 3
    assert merged.noise_profile.read < single.noise_profile.read / 3
    assert merged.make == "camerad" and merged.exposure_us == 40_000 and merged.iso == 800
    with rawpy.imread(str(out)) as raw:
        assert raw.raw_image.shape == (384, 512)
        assert raw.white_level == 65535 and list(raw.black_level_per_channel) == [4096] * 4
        rgb = raw.postprocess()
    assert rgb.shape == (384, 512, 3) and rgb.mean() > 5
    import cv2

    assert cv2.imread(str(tmp_path / "merged.jpg")).shape == (384, 512, 3)


def test_merge_cli_takes_other_cfa_orders_and_dngs_without_a_noise_profile(tmp_path):
    import rawpy

    from firmware.sensor.mock.tuning_default import uncalibrated

    inputs = _burst(tmp_path, [40_000] * 4, bggr=True, tuning=uncalibrated("imx477"))
    assert read_dng(inputs[0]).noise_profile is None and read_dng(inputs[0]).cfa == "BGGR"
    out = tmp_path / "merged.dng"
    assert main(["merge", *map(str, inputs), "-o", str(out)]) == 0
    merged = read_dng(out)
    assert merged.cfa == "BGGR" and merged.raw.shape == (382, 510)
    assert merged.noise_profile is not None and merged.noise_profile.shot > 0  # estimated, then merged
    with rawpy.imread(str(out)) as raw:
        assert "".join(raw.color_desc.decode()[i] for i in raw.raw_pattern.ravel()) == "BGGR"


def test_merge_cli_bracket_keeps_the_shortest_frame_as_reference(tmp_path, capsys):
    inputs = _burst(tmp_path, [10_000, 40_000, 160_000])
    out = tmp_path / "hdr.dng"
    assert main(["merge", *map(str, inputs), "-o", str(out), "--jpeg", str(tmp_path / "hdr.jpg")]) == 0
    assert "2.0 EV darker than the burst's middle exposure" in capsys.readouterr().out
    merged = read_dng(out)
    assert merged.exposure_us == 10_000 and merged.baseline_exposure == 0.0  # highlights kept, not lifted
    short, middle = read_dng(inputs[0]), read_dng(inputs[1])
    def level(d):
        return (d.raw.astype(float) - d.black_levels[0]).mean() / (d.white_level - d.black_levels[0])
    assert level(merged) == pytest.approx(level(short), rel=0.05)  # on the reference's scale
    assert level(middle) == pytest.approx(4 * level(short), rel=0.1)


def test_merge_cli_reference_is_chosen_by_position(tmp_path, capsys):
    inputs = _burst(tmp_path, [40_000] * 3)
    assert main(["merge", *map(str, inputs), "-o", str(tmp_path / "m.dng"), "--reference", "3"]) == 0
    assert "onto frame 3" in capsys.readouterr().out


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    pair = _burst(d, [40_000] * 2)
    small = _burst(d / "x" if (d / "x").mkdir() is None else d, [40_000],
                   size=SensorMode((256, 192), 12, 10.0, (1700, 1400, 256, 192), 1))[0]
    (d / "junk.dng").write_bytes(b"not a dng at all")
    return d, pair, small


@pytest.mark.parametrize("make_args, words", [
    (lambda d, p, s: [str(p[0]), "-o", str(d / "o.dng")], "at least 2"),
    (lambda d, p, s: [str(p[0]), str(d / "nope.dng"), "-o", str(d / "o.dng")], "no such file"),
    (lambda d, p, s: [*map(str, p), "-o", str(d / "o.dng"), "--reference", "9"], "--reference 9"),
    (lambda d, p, s: [*map(str, p), "-o", str(d / "o.dng"), "--jpeg", str(d / "o.jpg"), "--look", "nope"], "nope"),
    (lambda d, p, s: [str(p[0]), str(s), "-o", str(d / "o.dng")], "256x192"),
    (lambda d, p, s: [str(p[0]), str(d / "junk.dng"), "-o", str(d / "o.dng")], "junk.dng"),
])
def test_merge_cli_errors_are_one_line(bad_inputs, capsys, make_args, words):
    assert main(["merge", *make_args(*bad_inputs)]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err and "Traceback" not in err


def test_merge_dng_of_the_daemons_own_burst_carries_the_tunings_profile(tmp_path):
    import rawpy

    from firmware.merge import BurstFrame, merge_burst
    from firmware.merge.dng_out import colour_from_tuning, write_merged_dng

    dngs = [read_dng(p) for p in _burst(tmp_path, [40_000] * 3)]
    frames = [BurstFrame(d.raw, d.black_levels, d.white_level, d.noise_profile, 40_000 * 8.0) for d in dngs]
    merged = merge_burst(frames, 0)
    md = {"ExposureTime": 40_000, "AnalogueGain": 8.0, "DigitalGain": 1.0, "ColourGains": (1.9, 2.1),
          "ColourTemperature": 4000}
    source = colour_from_tuning(default_tuning("imx477"), md, CameraIdentity(make="camerad", model="imx477 (mock)"))
    write_merged_dng(tmp_path / "m.dng", merged, "RGGB", source)
    back = read_dng(tmp_path / "m.dng")
    assert back.noise_profile.shot == pytest.approx(merged.noise.shot)
    assert back.as_shot_neutral == pytest.approx((1 / 1.9, 1.0, 1 / 2.1), rel=1e-3) and not back.warnings
    with rawpy.imread(str(tmp_path / "m.dng")) as raw:
        assert raw.postprocess(use_camera_wb=True).mean() > 5
