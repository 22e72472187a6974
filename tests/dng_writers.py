"""DNG writers for the reading tests: every file is made here, none downloaded.

* ``picamera2_dng``: picamera2's own ``Helpers.save_dng`` (the real wheel, over the fake libcamera) on a
  CSI-2 packed buffer, written by the installed PiDNG. picamera2 0.3.38 calls PiDNG with the API of PiDNG
  PR #95 (``Picamera2Camera(config, metadata, model)`` and ``convert(raw, file=...)``), which PyPI's PiDNG
  4.0.9 predates; ``_PiDNG95`` adds exactly those two arguments on top of it, so the bytes are PiDNG's.
* ``tiff_dng``: tifffile with DNG tags, for every layout tifffile writes (tiles, strips, byte orders,
  deflate, lossless JPEG, floats), and ``packed_dng`` for packed samples in either byte order.
"""

from __future__ import annotations

import io
import struct
import sys
from pathlib import Path

import imagecodecs
import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parent / "fakes"))
from picamera2_env import libcamera_importable, picamera2_importable  # noqa: E402

CFA_CODES = {"R": 0, "G": 1, "B": 2}


def dng_tags(cfa: str = "RGGB", white: int | None = 4095, black=None, neutral=None, make: str = "",
             model: str = "", unique: str = "") -> list[tuple]:
    """Tifffile ``extratags`` for a Bayer DNG; None leaves a tag out."""
    tags = [(50706, "B", 4, b"\x01\x04\x00\x00", True),  # DNGVersion
            (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
            (33422, "B", 4, bytes(CFA_CODES[c] for c in cfa), True)]  # CFAPattern
    if white is not None:
        tags.append((50717, "I", 1, white, True))
    if black is not None:
        tags += [(50713, "H", 2, (2, 2), True), (50714, "f", 4, tuple(black), True)]
    if neutral is not None:
        tags.append((50728, "d", 3, tuple(neutral), True))  # AsShotNeutral
    for code, text in ((271, make), (272, model), (50708, unique)):
        if text:
            tags.append((code, "s", 0, text, True))
    return tags


def tiff_dng(path: Path, raw: np.ndarray, tags=None, extra=(), **layout) -> Path:
    tifffile.imwrite(path, raw, photometric=32803, extratags=list(tags or dng_tags()) + list(extra), **layout)
    return path


def packed_rows(raw: np.ndarray, bits: int) -> bytes:
    """Rows packed MSB first, each starting on a byte (TIFF/DNG packing)."""
    h, w = raw.shape
    pad = (-w) % 8  # whole bytes per padded row; the padding is cut off again
    padded = np.zeros((h, w + pad), np.uint16)
    padded[:, :w] = raw
    row_bytes = -(-w * bits // 8)
    return b"".join(imagecodecs.packints_encode(r[None], bits)[:row_bytes] for r in padded)


def packed_dng(path: Path, raw: np.ndarray, bits: int, tags=None, byteorder: str = "<", **layout) -> Path:
    """Packed ``bits``-bit samples in one strip or tile (tifffile writes big-endian packing wrongly)."""
    tifffile.imwrite(path, iter([packed_rows(raw, bits)]), shape=raw.shape, dtype="uint16", bitspersample=bits,
                     compression=1, photometric=32803, byteorder=byteorder,
                     extratags=list(tags or dng_tags(white=(1 << bits) - 1)), **layout)
    return path


def ljpeg_dng(path: Path, raw: np.ndarray, tile: tuple[int, int], bits: int = 12, components: int = 1,
              tags=None) -> Path:
    """Lossless JPEG (compression 7) tiles as cameras write them: one component, two of half width, or (0)
    one component with two rows per JPEG line, as PiDNG's ``compress`` lays them out."""
    th, tw = tile

    def tiles():
        for y in range(0, raw.shape[0], th):
            for x in range(0, raw.shape[1], tw):
                t = np.zeros(tile, np.uint16)
                part = raw[y:y + th, x:x + tw]
                t[:part.shape[0], :part.shape[1]] = part
                if components == 2:
                    t = t.reshape(th, tw // 2, 2)
                elif components == 0:
                    t = t.reshape(th // 2, tw * 2)
                yield imagecodecs.jpeg8_encode(np.ascontiguousarray(t), lossless=True, bitspersample=bits)

    tifffile.imwrite(path, tiles(), shape=raw.shape, dtype="uint16", photometric=32803, tile=tile, compression=7,
                     bitspersample=bits, extratags=list(tags or dng_tags(white=(1 << bits) - 1)))
    return path


def csi2_buffer(raw: np.ndarray, bits: int) -> tuple[np.ndarray, int]:
    """The 1-D buffer libcamera hands picamera2 for ``S<cfa><bits>_CSI2P``, and its stride."""
    with libcamera_importable() as lc:
        fmt = f"SRGGB{bits}_CSI2P"
        stride = lc.sim.stride_of(fmt, raw.shape[1])
        return np.frombuffer(lc.sim.encode(raw, fmt, stride, bits), np.uint8).copy(), stride


def picamera2_dng(path: Path, raw: np.ndarray, metadata: dict, bits: int, cfa: str = "RGGB",
                  model: str | None = "imx477") -> Path:
    """A DNG exactly as ``picamera2`` writes one (``request.save_dng``); ``model`` None: older picamera2."""
    buffer, stride = csi2_buffer(raw, bits)
    h, w = raw.shape
    config = {"format": f"S{cfa}{bits}_CSI2P", "size": (w, h), "stride": stride, "framesize": stride * h}
    with picamera2_importable():
        import picamera2.request as request
        from pidng.camdefs import Picamera2Camera
        from pidng.core import PICAM2DNG
        from pidng.dng import Tag

        class Camera95(Picamera2Camera):
            def __init__(self, fmt, md, model_name=None):
                super().__init__(fmt, md)
                if model is not None:  # PR #95: the sensor's name as Model, as rpicam-still writes it
                    self.tags.set(Tag.Model, model_name)

        class Dng95(PICAM2DNG):
            def convert(self, image, filename="", file=None):
                data = super().convert(image, filename)
                if file is None:
                    return data
                file.write(data)

        class Picam2:
            camera_properties = {"Model": model}
            options = {"compress_level": 0}

        saved = request.Picamera2Camera, request.PICAM2DNG
        request.Picamera2Camera, request.PICAM2DNG = Camera95, Dng95
        try:
            out = io.BytesIO()
            md = dict(metadata)
            md.setdefault("DigitalGain", 1.0)
            md.setdefault("SensorTimestamp", 1_000_000)
            request.Helpers(Picam2()).save_dng(buffer, md, config, out)
        finally:
            request.Picamera2Camera, request.PICAM2DNG = saved
    Path(path).write_bytes(out.getvalue())
    return Path(path)


def rpicam_dng(path: Path, raw: np.ndarray, metadata: dict, bits: int, cam_name: str = "imx477",
               cfa: str = "RGGB") -> Path:
    """A DNG laid out as rpicam-still's ``image/dng.cpp`` writes one: an RGB thumbnail in IFD0 carrying the
    camera tags, the 16-bit CFA image in a SubIFD with per-site black levels. ``cam_name`` is the sensor
    (rpicam-apps today) or, from older libcamera-apps, the camera's device-tree path."""
    gains = metadata["ColourGains"]
    black = [v * (1 << bits) / 65536.0 for v in metadata["SensorBlackLevels"]]
    h, w = raw.shape
    thumb = np.repeat((raw[::16, ::16] >> (bits - 8)).astype(np.uint8)[..., None], 3, axis=2)
    camera = [(271, "s", 0, "Raspberry Pi", True), (272, "s", 0, cam_name, True),
              (50706, "B", 4, b"\x01\x01\x00\x00", True), (50707, "B", 4, b"\x01\x00\x00\x00", True),
              (50708, "s", 0, cam_name, True), (50728, "f", 3, (1 / gains[0], 1.0, 1 / gains[1]), True),
              (50778, "H", 1, 21, True), (33434, "2I", 1, (int(metadata["ExposureTime"]), 1_000_000), True),
              (34855, "H", 1, int(metadata["AnalogueGain"] * 100), True)]
    cfa_tags = [(33421, "H", 2, (2, 2), True), (33422, "B", 4, bytes(CFA_CODES[c] for c in cfa), True),
                (50717, "I", 1, (1 << bits) - 1, True), (50713, "H", 2, (2, 2), True),
                (50714, "f", 4, tuple(black), True)]
    with tifffile.TiffWriter(path) as tif:
        tif.write(thumb, photometric="rgb", subfiletype=1, subifds=1, extratags=camera)
        tif.write(raw, photometric=32803, subfiletype=0, extratags=cfa_tags)
    return Path(path)


def opcode_list(*ops: tuple[int, int, bytes]) -> bytes:
    """An OpcodeList tag value: (opcode ID, flags, parameters) each, big-endian as DNG 1.3 lays it out."""
    out = struct.pack(">I", len(ops))
    for code, flags, params in ops:
        out += struct.pack(">4I", code, 0x01030000, flags, len(params)) + params
    return out


def gain_map(gains: np.ndarray, area=(0, 0, 1 << 30, 1 << 30), plane=0, planes=1, pitch=(1, 1)) -> bytes:
    """GainMap parameters: ``gains`` (points v, points h, map planes) spanning the image, origin 0."""
    pv, ph, mp = gains.shape
    head = struct.pack(">8I", *area, plane, planes, *pitch)
    head += struct.pack(">2I4dI", pv, ph, 1 / max(pv - 1, 1), 1 / max(ph - 1, 1), 0.0, 0.0, mp)
    return head + gains.astype(">f4").tobytes()
