"""Board profiles in hw/: every shipped one is valid and documented; bad ones fail naming file, key and reason."""

import pytest

from firmware import paths
from firmware.boards import detect_profile
from firmware.errors import BoardProfileError, ConfigError
from firmware.board_profile import available_profiles, load_profile, loads_profile

HW = paths.hw_dir()
MOCK = (HW / "mock.toml").read_text()


def test_hw_ships_the_four_profiles():
    assert set(available_profiles()) >= {"mock", "rpi4", "rpi5", "qcom-rb5"}


@pytest.mark.parametrize("name", ["mock", "rpi4", "rpi5", "qcom-rb5"])
def test_hw_profile_is_valid_and_complete(name):
    p = load_profile(name)
    assert p.name == name and p.description
    assert p.controls.shutter and p.controls.half_press and p.controls.mode and p.status.led
    assert p.lens.focal_length_mm > 0 and p.lens.f_number > 0
    assert p.sensor.model and p.sensor.connector


def test_hw_pi_profiles_name_their_overlays_and_tuning_targets():
    rpi4, rpi5 = load_profile("rpi4"), load_profile("rpi5")
    assert rpi4.sensor.tuning_target == "vc4" and rpi5.sensor.tuning_target == "pisp"
    assert "dtoverlay=imx477" in rpi4.sensor.config_txt
    assert "dtoverlay=imx477,cam0" in rpi5.sensor.config_txt
    assert load_profile("qcom-rb5").sensor.tuning_target == "softisp"
    # The demo presses the daemon's historical shutter pin.
    assert load_profile("mock").controls.shutter.pin == 17 == rpi4.controls.shutter.pin


def test_hw_rb5_lines_match_the_upstream_device_tree_names():
    p = load_profile("qcom-rb5")
    lines = {k: (v.pin, v.label) for k, v in p.lines().items()}
    assert lines == {"controls.shutter": (4, "GPIO-A"), "controls.half_press": (5, "GPIO-C"),
                     "controls.mode": (6, "GPIO-E"), "status.led": (7, "GPIO-D"), "status.frame": (136, "GPIO-B")}
    assert p.gpio.backend == "gpiod" and p.is_unverified("gpio.chip") and p.is_unverified("lens.f_number")


@pytest.mark.parametrize("name", ["rpi4", "rpi5", "qcom-rb5"])
def test_hw_every_board_has_a_wiring_note_naming_its_pins(name):
    p = load_profile(name)
    note = (HW / ("rpi.md" if name.startswith("rpi") else f"{name}.md")).read_text()
    assert "```" in note  # the ASCII diagram
    for key, line in p.lines().items():
        assert (f"GPIO{line.pin}" in note) or (line.label and line.label in note), key


@pytest.mark.parametrize("model, profile", [
    ("Raspberry Pi 5 Model B Rev 1.0", "rpi5"), ("Raspberry Pi 4 Model B Rev 1.4", "rpi4"),
    ("Raspberry Pi Compute Module 4 Rev 1.0", "rpi4"), ("Qualcomm Technologies, Inc. Robotics RB5", "qcom-rb5"),
    ("Raspberry Pi 3 Model B Rev 1.2", None), ("", None)])
def test_hw_detect_profile_from_the_device_tree_model(model, profile):
    assert detect_profile(model) == profile


def test_hw_auto_profile():
    assert load_profile("auto", backend="mock").name == "mock"
    assert load_profile("auto", model="Raspberry Pi 5 Model B Rev 1.0").name == "rpi5"
    with pytest.raises(BoardProfileError, match="no board profile for this machine.*'Some Laptop'"):
        load_profile("auto", model="Some Laptop")


def test_hw_profile_by_path_and_unknown_name(tmp_path):
    f = tmp_path / "mycam.toml"
    f.write_text(MOCK)
    assert load_profile(str(f)).controls.mode.pin == 22
    with pytest.raises(BoardProfileError, match="no board profile 'rpi9'.*available: .*rpi5"):
        load_profile("rpi9")
    with pytest.raises(BoardProfileError, match="absent.toml: board profile not found"):
        load_profile(str(tmp_path / "absent.toml"))


@pytest.mark.parametrize("old, new, where, reason", [
    ('pin = 22\n', 'pin = 17\n', "[controls.mode] pin", "already used by [controls.shutter]"),
    ('pin = 22\n', 'pin = 40\n', "[controls.mode] pin", "not a GPIO of the 40-pin header"),
    ('pin = 22\n', 'pin = "22"\n', "[controls.mode] pin", "expected an integer"),
    ('pin = 22\n', 'pin = -1\n', "[controls.mode] pin", "out of range"),
    ('pin = 22\n', 'pin = 22\npul = "up"\n', "[controls.mode] pul", "unknown key"),
    ('pin = 22\npull = "up"\n', 'pin = 22\npull = "sideways"\n', "[controls.mode] pull", "must be one of"),
    ('[controls.shutter]  # S2, full press: BCM 17\npin = 17\n', '[controls.shutter]\n',
     "[controls.shutter] pin", "missing key"),
    ('f_number = 1.2\n', 'f_number = 0.1\n', "[lens] f_number", "out of range"),
    ('tuning_target = "vc4"', 'tuning_target = "ipu3"', "[sensor] tuning_target", "must be one of"),
    ('name = "mock"\n', 'name = "mock"\nunverified = ["lens.aperture"]\n', "unverified",
     "'lens.aperture' is not a key"),
    ('name = "mock"\n', 'name = "mock"\nunverified = "lens"\n', "[unverified]", "array of strings"),
    ('pin = 22\n', 'pin = 22\nchip = "gpiochip0"\n', "[controls.mode] chip", "only the gpiod backend"),
    ('backend = "mock"', 'backend = "gpiod"', "[controls.shutter] chip", "needs a chip"),
    ('[gpio]\n', '[gpio]\nchip = "rp1"\n', "[gpio] chip", "takes a chip number"),
])
def test_hw_bad_profile_names_file_key_and_reason(old, new, where, reason):
    text = MOCK.replace(old, new, 1)
    if "chip number" in reason:
        text = text.replace('backend = "mock"', 'backend = "gpiozero"')
    assert text != MOCK
    with pytest.raises(BoardProfileError) as exc:
        loads_profile(text, source="cam.toml")
    msg = str(exc.value)
    assert msg.startswith("cam.toml: ") and where in msg and reason in msg, msg
    assert isinstance(exc.value, ConfigError)


def test_hw_profile_toml_syntax_error():
    with pytest.raises(BoardProfileError, match="x.toml: TOML syntax error"):
        loads_profile("[gpio\n", source="x.toml")


def test_hw_profile_name_must_match_its_file(tmp_path, monkeypatch):
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "other.toml").write_text(MOCK)
    monkeypatch.setenv("CAMERAD_DATA_DIR", str(tmp_path))
    with pytest.raises(BoardProfileError, match="other.toml: name: 'mock' does not match the file name 'other'"):
        load_profile("other")


def test_hw_check_command(capsys, tmp_path):
    from firmware.gpio.__main__ import main

    assert main([]) == 0
    out = capsys.readouterr().out
    assert "rpi5:" in out and "dtoverlay=imx477,cam0" in out and "GPIO-A" in out and "unverified" in out
    bad = tmp_path / "bad.toml"
    bad.write_text(MOCK.replace("pin = 22\n", "pin = 17\n"))
    assert main(["rpi4", str(bad)]) == 2
    assert "bad.toml: [controls.mode] pin: GPIO 17 is already used" in capsys.readouterr().err


def test_hw_auto_profile_follows_the_backend_override(monkeypatch):
    monkeypatch.setenv("CAMERAD_GPIO_BACKEND", "mock")
    assert load_profile("auto", backend="gpiozero", model="Raspberry Pi 5 Model B Rev 1.0").name == "mock"
