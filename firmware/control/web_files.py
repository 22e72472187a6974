"""The preview page's captures: a capture file downloaded whole, and a small JPEG of one for the page.

Files are opened exactly as the control socket's ``fetch`` opens them (``methods_files.open_capture``: a plain
name directly in the captures directory, never through a link). The thumbnail is the capture's own JPEG decoded
at 1/2 .. 1/8 scale by libjpeg's DCT scaling (Pillow's ``draft``), so even a 12 MP picture costs a few ms.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from .methods_files import open_capture

THUMB_SIZE = 320
_TYPES = {"jpg": "image/jpeg", "dng": "image/x-adobe-dng", "json": "application/json"}


def content_type(name: str) -> str:
    return _TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def read_capture(directory: Path, name: str) -> tuple[int, int]:
    """(descriptor, size) of the capture file ``name``; ``RequestError`` as ``fetch`` gives it."""
    fd, st = open_capture(directory, name, "download")
    return fd, st.st_size


def thumbnail(directory: Path, name: str, size: int = THUMB_SIZE) -> bytes:
    """A JPEG of capture ``name`` (a .jpg) at most ``size`` pixels on its long side."""
    from PIL import Image

    from .protocol import RequestError

    if not name.lower().endswith(".jpg"):
        raise RequestError("invalid_params", f"thumbnail: {name!r} is not a JPEG capture")
    fd, _ = open_capture(directory, name, "thumbnail")
    with os.fdopen(fd, "rb") as f, Image.open(f) as im:
        im.draft("RGB", (size, size))
        im = im.convert("RGB")
        im.thumbnail((size, size))
        out = io.BytesIO()
        im.save(out, "JPEG", quality=80)
    return out.getvalue()
