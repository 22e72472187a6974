"""camerad: firmware of a prototype still camera built on libcamera."""

__version__ = "0.1.0"
