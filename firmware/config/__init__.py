"""Typed, frozen configuration read from one TOML file."""

from .load import DEFAULT_PATH, load, loads, parse
from .model import Config

__all__ = ["Config", "DEFAULT_PATH", "load", "loads", "parse"]
