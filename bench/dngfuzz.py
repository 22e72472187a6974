"""DNG fuzz: malformed DNGs through ``camtune develop``; every one must develop or be refused in one line.

Seeds are valid DNGs of every layout the reader takes (strips and tiles, both byte orders, packed 12-bit,
lossless JPEG, deflate, float, an rpicam-style SubIFD, opcode lists, crops). Each case is a seed mutated once,
from a seeded random generator: truncated anywhere, bytes overwritten anywhere, one IFD entry's tag, type,
count or value/offset replaced (offsets past the end, huge counts, wrong types), the IFD0 offset or the
next-IFD link bent (loops), or the image dimensions inflated. Each case goes through ``camtune develop``'s
entry point exactly as a user's batch would.

Counted: cases tried; developed; refused in one line with a named reason; refused by the reader's last net
(``corrupt TIFF structure (...)``: tifffile's own exception, quoted); tracebacks (must be 0). ``run`` adds
the slowest case and the peak memory growth over the run (``python -m bench dngfuzz``: 2000 cases;
``--quick``: 300; the test suite runs 300 with ``cases()`` too).
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import tifffile

_BASE = [(50706, "B", 4, b"\x01\x04\x00\x00", True), (33421, "H", 2, (2, 2), True),
         (33422, "B", 4, b"\x00\x01\x01\x02", True), (50717, "I", 1, 4095, True),
         (50713, "H", 2, (2, 2), True), (50714, "f", 4, (256.0,) * 4, True),
         (50728, "d", 3, (0.5, 1.0, 0.6), True), (271, "s", 0, "Raspberry Pi", True), (272, "s", 0, "imx477", True)]


def _gain_map_list(h: int, w: int) -> bytes:
    params = struct.pack(">8I", 0, 0, h, w, 0, 1, 1, 1) + struct.pack(">2I4dI", 2, 2, 1.0, 1.0, 0.0, 0.0, 1)
    params += np.array([1.0, 1.5, 1.2, 2.0], ">f4").tobytes()
    return struct.pack(">I4I", 1, 9, 0x01030000, 0, len(params)) + params


def seeds() -> dict[str, bytes]:
    """Valid small DNGs, one per layout the reader handles."""
    import imagecodecs

    rng = np.random.default_rng(0)
    raw = rng.integers(200, 4000, (48, 64), dtype=np.uint16)
    out: dict[str, bytes] = {}

    def write(name, data, extra=(), **kw):
        buf = io.BytesIO()
        kw.setdefault("photometric", 32803)
        tifffile.imwrite(buf, data, extratags=_BASE + list(extra), **kw)
        out[name] = buf.getvalue()

    write("strips", raw, rowsperstrip=8)
    write("tiles-be", raw, tile=(16, 32), byteorder=">")
    packed = b"".join(imagecodecs.packints_encode(r[None], 12) for r in raw)
    write("packed12", iter([packed]), shape=raw.shape, dtype="uint16", bitspersample=12, compression=1,
          tile=(48, 64))
    tiles = [imagecodecs.jpeg8_encode(np.ascontiguousarray(raw[y:y + 16, x:x + 32]), lossless=True,
                                      bitspersample=12) for y in range(0, 48, 16) for x in range(0, 64, 32)]
    write("ljpeg", iter(tiles), shape=raw.shape, dtype="uint16", tile=(16, 32), compression=7, bitspersample=12)
    write("deflate", raw, compression="zlib", predictor=2, rowsperstrip=16)
    write("float", (raw / 4095.0).astype(np.float32), extra=[(50719, "2I", 2, (1, 1, 1, 1), True),
                                                            (50720, "2I", 2, (60, 1, 44, 1), True)])
    write("opcodes", raw, extra=[(51009, 7, len(_gain_map_list(48, 64)), _gain_map_list(48, 64), True),
                                 (50829, "I", 4, (0, 0, 48, 64), True),
                                 (50712, "H", 4096, tuple(range(4096)), True)])
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf) as tif:
        tif.write(np.zeros((3, 4, 3), np.uint8), photometric="rgb", subfiletype=1, subifds=1, extratags=_BASE[:1]
                  + _BASE[6:])
        tif.write(raw, photometric=32803, extratags=_BASE[1:6])
    out["subifd"] = buf.getvalue()
    return out


def _entries(data: bytes) -> tuple[str, list[int]]:
    """Byte order and the file offsets of every IFD entry in IFD0, its chain and SubIFDs (best effort)."""
    bo = "<" if data[:2] == b"II" else ">"
    found, todo, seen = [], [struct.unpack_from(bo + "I", data, 4)[0]], set()
    while todo and len(seen) < 16:
        off = todo.pop()
        if off in seen or off + 2 > len(data):
            continue
        seen.add(off)
        n = struct.unpack_from(bo + "H", data, off)[0]
        for i in range(min(n, 200)):
            pos = off + 2 + 12 * i
            if pos + 12 > len(data):
                break
            found.append(pos)
            tag, typ, count, value = struct.unpack_from(bo + "HHII", data, pos)
            if tag == 330 and count == 1:
                todo.append(value)
        nxt = off + 2 + 12 * n
        if nxt + 4 <= len(data):
            todo.append(struct.unpack_from(bo + "I", data, nxt)[0])
    return bo, found


def mutate(data: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """One malformed variant of ``data`` and what was done to it."""
    b = bytearray(data)
    bo, entries = _entries(data)
    kind = int(rng.integers(6)) if entries else 0
    if kind == 0:
        cut = int(rng.integers(0, len(b)))
        return f"truncated at {cut}", bytes(b[:cut])
    if kind == 1:
        for _ in range(int(rng.integers(1, 9))):
            b[int(rng.integers(len(b)))] = int(rng.integers(256))
        return "bytes overwritten", bytes(b)
    pos = entries[int(rng.integers(len(entries)))]
    tag = struct.unpack_from(bo + "H", b, pos)[0]
    if kind == 2:
        field = int(rng.integers(4))
        fmt, at = (("H", 0), ("H", 2), ("I", 4), ("I", 8))[field]
        value = int(rng.choice([0, 1, 2, 7, 12, 13, 255, 65535, 1 << 16, 1 << 24, 0x7FFFFFFF, 0xFFFFFFFF,
                                len(b), len(b) - 1, int(rng.integers(1 << 32))]))
        value &= 0xFFFF if fmt == "H" else 0xFFFFFFFF
        struct.pack_into(bo + fmt, b, pos + at, value)
        return f"entry {tag}: {('tag', 'type', 'count', 'value')[field]} = {value}", bytes(b)
    if kind == 3:
        struct.pack_into(bo + "I", b, 4, int(rng.choice([0, 1, 8, len(b), len(b) - 2, 1 << 31])))
        return "IFD0 offset bent", bytes(b)
    if kind == 4:
        ifd = struct.unpack_from(bo + "I", b, 4)[0]
        n = struct.unpack_from(bo + "H", b, ifd)[0]
        struct.pack_into(bo + "I", b, ifd + 2 + 12 * n, ifd)  # IFD0 links to itself
        return "IFD loop", bytes(b)
    for p in entries:
        t, typ = struct.unpack_from(bo + "HH", b, p)
        if t in (256, 257, 322, 323):  # ImageWidth, ImageLength, TileWidth, TileLength
            struct.pack_into(bo + "HHI", b, p + 2, 4, 1, int(rng.choice([0, 24000, 65535, 200000, 1 << 30])))
    return "dimensions inflated", bytes(b)


def cases(n: int, seed: int = 1):
    """``n`` (name, bytes) malformed DNGs, the same for the same ``seed``."""
    rng = np.random.default_rng(seed)
    pool = list(seeds().items())
    for i in range(n):
        name, data = pool[i % len(pool)]
        what, bad = mutate(data, rng)
        yield f"{name}: {what}", bad


def develop_case(data: bytes, workdir: Path, tuning: Path) -> tuple[str, str]:
    """('developed' | 'refused' | 'net' | 'traceback', detail) for one file through ``camtune develop``."""
    from firmware.camtune.cli import main

    src = workdir / "case.dng"
    src.write_bytes(data)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(["develop", str(src), "-o", str(workdir / "case.jpg"), "--tuning", str(tuning)])
    except BaseException:  # noqa: BLE001 - what escapes main() is exactly what a user would see as a traceback
        return "traceback", traceback.format_exc(limit=3)
    lines = [line for line in err.getvalue().splitlines() if line.startswith("camtune")]
    if rc == 0:
        return "developed", ""
    if len(lines) != 1 or "Traceback" in err.getvalue():
        return "traceback", err.getvalue()
    return ("net" if "corrupt TIFF structure" in lines[0] else "refused"), lines[0]


def fuzz(n: int, seed: int = 1) -> dict:
    from firmware.sensor.mock.tuning_default import mock_tuning_path

    from .timing import peak_rss_mb

    counts = {"developed": 0, "refused": 0, "net": 0, "traceback": 0}
    failures, slowest, times = [], (0.0, ""), []
    rss0 = peak_rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in cases(n, seed):
            t = time.perf_counter()
            outcome, detail = develop_case(data, Path(tmp), mock_tuning_path("imx477"))
            dt = time.perf_counter() - t
            slowest = max(slowest, (dt, name)) if times else slowest  # the first builds the pipeline
            times.append(dt)
            counts[outcome] += 1
            if outcome == "traceback":
                failures.append(f"{name}: {detail}")
    return {"counts": counts, "failures": failures, "slowest": slowest, "median_s": float(np.median(times)),
            "rss_growth_mb": peak_rss_mb() - rss0}


def packed_read(repeat: int) -> dict[str, float]:
    """A 12.3 MP picamera2-style 12-bit packed DNG read and unpacked, against LibRaw (rawpy) reading it."""
    import rawpy

    from firmware.formats.dng_read import read_dng

    from .timing import best_of

    raw = np.random.default_rng(0).integers(0, 4096, (3040, 4056), dtype=np.uint16)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "packed.dng"
        tifffile.imwrite(path, raw, bitspersample=12, photometric=32803, rowsperstrip=3040, extratags=_BASE)
        assert np.array_equal(read_dng(path).raw, raw)
        ours = best_of(lambda: read_dng(path), repeat)
        def libraw():
            with rawpy.imread(str(path)) as rp:
                return rp.raw_image.copy()

        assert np.array_equal(libraw(), raw)
        ref = best_of(libraw, repeat)
    return {"12.3 MP 12-bit packed DNG read (ms)": ours * 1e3, "reference: LibRaw reading it (ms)": ref * 1e3,
            "read / LibRaw": ours / ref}


def run(quick: bool) -> dict[str, float | str]:
    n = 300 if quick else 2000
    out: dict[str, float | str] = {"load average at start (1 min)": os.getloadavg()[0]}
    r = fuzz(n)
    c = r["counts"]
    out.update({"cases tried": float(n), "developed": float(c["developed"]), "refused in one line": float(c["refused"]),
                "refused by the reader's net (tifffile's error quoted)": float(c["net"]),
                "tracebacks (must be 0)": float(c["traceback"]),
                "median case (ms)": r["median_s"] * 1e3,
                "slowest case (s)": r["slowest"][0], "slowest case": r["slowest"][1],
                "peak RSS growth over the run (MB)": r["rss_growth_mb"],
                **packed_read(3 if quick else 7),
                "load average at end (1 min)": os.getloadavg()[0]})
    for line in r["failures"][:5]:
        print("traceback:", line)
    return out
