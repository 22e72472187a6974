"""Where the firmware finds its data (tuning files, looks, board profiles) and its runtime files."""

from __future__ import annotations

import os
from pathlib import Path

# An editable install (install.sh) runs from the checkout, so data sits beside the package; a packaged
# install puts it under /usr/share/camerad. CAMERAD_DATA_DIR overrides both (tests use it).
_CHECKOUT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    env = os.environ.get("CAMERAD_DATA_DIR")
    if env:
        return Path(env)
    if (_CHECKOUT / "tuning").is_dir():
        return _CHECKOUT
    return Path("/usr/share/camerad")


def tuning_dir() -> Path:
    return data_dir() / "tuning"


def hw_dir() -> Path:
    return data_dir() / "hw"


def cache_dir() -> Path:
    """Per-checkout cache (stock libcamera tuning files unpacked by install.sh, rendered mock scenes)."""
    env = os.environ.get("CAMERAD_CACHE_DIR")
    if env:
        return Path(env)
    if (_CHECKOUT / "pyproject.toml").is_file():
        return _CHECKOUT / ".cache"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "camerad"


def shared_reference_dir() -> Path | None:
    """The team's reference data (``../shared/reference`` beside the checkout), when present."""
    candidate = _CHECKOUT.parent / "shared" / "reference"
    return candidate if candidate.is_dir() else None
