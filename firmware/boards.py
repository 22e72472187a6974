"""Which board we are running on, from the device tree (the one place that decides)."""

from __future__ import annotations

from pathlib import Path

DEVICE_TREE_MODEL = Path("/proc/device-tree/model")


def read_model(path: Path = DEVICE_TREE_MODEL) -> str:
    try:
        return path.read_bytes().rstrip(b"\0").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def detect_board(model: str | None = None) -> str:
    """``rpi5``, ``rpi4``, ``rpi`` (another Pi), ``qcom`` (a Qualcomm dev kit) or ``host``."""
    model = read_model() if model is None else model
    if model.startswith("Raspberry Pi 5") or model.startswith("Raspberry Pi Compute Module 5"):
        return "rpi5"
    if model.startswith("Raspberry Pi 4") or model.startswith("Raspberry Pi Compute Module 4"):
        return "rpi4"
    if model.startswith("Raspberry Pi"):
        return "rpi"
    if "Qualcomm" in model or "Robotics RB" in model or "qcs" in model.lower():
        return "qcom"
    return "host"


def detect_profile(model: str | None = None) -> str | None:
    """The hw/ profile for this board (``rpi5``, ``rpi4``, ``qcom-rb5``), or None when there is none."""
    model = read_model() if model is None else model
    board = detect_board(model)
    if board in ("rpi4", "rpi5"):
        return board
    if board == "qcom" and "RB5" in model:
        return "qcom-rb5"
    return None
