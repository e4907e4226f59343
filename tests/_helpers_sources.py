"""Writes small fakenect recordings byte by byte with numpy, independently of depthview's
reader, so tests can compare what a source returns against np.fromfile of the same files."""

from __future__ import annotations

import os
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DATA = Path(
    os.environ.get("DEPTHVIEW_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)
PERSON = DATA / "kinect-v1-person"
TUM = DATA / "tum-rgbd-frame"
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
) -> Written:
    """A recording of ``n`` depth frames (d, then r, then a per frame), random 11-bit depth."""
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
        w.lines.append(name)
        w.times.append(float(f"{t:.6f}"))
        if video:
            v = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
            vname = f"r-{t + 0.001:.6f}-{ts}.ppm"
            (folder / vname).write_bytes(b"P6 %d %d 255\n" % (width, height) + v.tobytes())
            w.video_files.append(vname)
            w.lines.append(vname)
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
    """A writable copy of the read-only sample recording."""
    dst = tmp / "person"
    shutil.copytree(PERSON, dst)
    for p in [dst, *dst.iterdir()]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


def read_pgm(path: Path) -> np.ndarray:
    """Golden depth: the header is one line; pixels are little-endian uint16 after it."""
    raw = path.read_bytes()
    offset = raw.index(b"\n") + 1
    return np.fromfile(path, dtype="<u2", offset=offset).reshape(480, 640)


def read_ppm(path: Path) -> np.ndarray:
    raw = path.read_bytes()
    offset = raw.index(b"\n") + 1
    return np.fromfile(path, dtype=np.uint8, offset=offset).reshape(480, 640, 3)
