"""Writes small fakenect recordings byte by byte with numpy, independently of depthview's
reader, so tests can compare what a source returns against np.fromfile of the same files."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from depthview.sources import sample

#: The real Kinect v1 recording shipped with the package (``dv.open("sample")``), unpacked
#: once into depthview's cache. Read it only; ``copy_person`` gives a writable copy.
PERSON = sample.folder()
# Debian's fakenect, in the multiarch folder of whichever machine this is.
FAKENECT_LIB = next(
    iter(sorted(Path("/usr/lib").glob("*/fakenect/libfreenect.so.0.5"))),
    Path("/usr/lib/x86_64-linux-gnu/fakenect/libfreenect.so.0.5"),
)


@dataclass
class Written:
    """What a test recording holds, for golden comparisons."""

    folder: Path
    depth_files: list[str] = field(default_factory=list)
    video_files: list[str] = field(default_factory=list)
    accel: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def write_recording(
    folder: Path,
    n: int = 5,
    *,
    video: bool = True,
    accel: bool = True,
    seed: int = 0,
    dt: float = 1 / 30,
    width: int = 640,
    height: int = 480,
    video_first: bool = False,
) -> Written:
    """A recording of ``n`` depth frames (d, then r, then a per frame, as libfreenect's
    record writes them: frame 0 then shows no image, frame i image i-1), random 11-bit
    depth; ``video_first``: each r 1 ms before its d, as depthview's record writes them, so
    every frame shows an image, frame i image i."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    w = Written(folder)
    t0 = 1700000000.25
    for i in range(n):
        t = t0 + i * dt
        ts = 1000 + i * 1001
        d = rng.integers(0, 2048, size=(height, width), dtype=np.uint16)
        name = f"d-{t:.6f}-{ts}.pgm"
        (folder / name).write_bytes(
            b"P5 %d %d 65535\n" % (width, height) + d.astype("<u2").tobytes()
        )
        w.depth_files.append(name)
        w.times.append(float(f"{t:.6f}"))
        if not video_first:
            w.lines.append(name)
        if video:
            v = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
            vname = f"r-{t + (-0.001 if video_first else 0.001):.6f}-{ts}.ppm"
            (folder / vname).write_bytes(b"P6 %d %d 255\n" % (width, height) + v.tobytes())
            w.video_files.append(vname)
            w.lines.append(vname)
        if video_first:
            w.lines.append(name)
        if accel:
            rec = (
                int(rng.integers(-900, 900)),
                int(rng.integers(-900, 900)),
                int(rng.integers(-900, 900)),
                int(rng.integers(-60, 60)),
                0,
            )
            aname = f"a-{t + 0.002:.6f}-{ts}.dump"
            (folder / aname).write_bytes(struct.pack("<hhhbxi", *rec))
            w.accel.append(rec)
            w.lines.append(aname)
    (folder / "INDEX.txt").write_text("".join(line + "\n" for line in w.lines))
    return w


def copy_person(tmp: Path) -> Path:
    """A writable copy of the sample recording."""
    return sample.write_to(tmp / "person")


def read_pgm(path: Path) -> np.ndarray:
    """Golden depth: the header is one line; pixels are little-endian uint16 after it."""
    raw = path.read_bytes()
    offset = raw.index(b"\n") + 1
    return np.fromfile(path, dtype="<u2", offset=offset).reshape(480, 640)


def read_ppm(path: Path) -> np.ndarray:
    raw = path.read_bytes()
    offset = raw.index(b"\n") + 1
    return np.fromfile(path, dtype=np.uint8, offset=offset).reshape(480, 640, 3)


def write_entries(folder: Path, kinds: str, *, seed: int = 0) -> list[str]:
    """A recording whose INDEX.txt lists records in exactly the order ``kinds`` gives
    (``"rdarrd"``: video, depth, accel, video, video, depth), each with its own increasing
    host time and device timestamp, random payloads and a non-zero tilt-state pad byte.
    Returns the index lines."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    ext = {"d": "pgm", "r": "ppm", "a": "dump"}
    for i, kind in enumerate(kinds):
        t = 1700000000.0 + i * 0.011 + rng.integers(0, 999) * 1e-6
        name = f"{kind}-{t:f}-{1000 + i * 16_666 * 60}.{ext[kind]}"
        if kind == "d":
            d = rng.integers(0, 2048, size=(480, 640), dtype=np.uint16)
            data = b"P5 640 480 65535\n" + d.astype("<u2").tobytes()
        elif kind == "r":
            data = b"P6 640 480 255\n" + rng.integers(0, 256, 640 * 480 * 3, np.uint8).tobytes()
        else:
            x, y, z = (int(v) for v in rng.integers(-900, 900, 3))
            data = struct.pack("<hhhbBi", x, y, z, int(rng.integers(-60, 60)), 0xA5, 4)
        (folder / name).write_bytes(data)
        lines.append(name)
    (folder / "INDEX.txt").write_text("".join(line + "\n" for line in lines))
    return lines
