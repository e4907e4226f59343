"""Opening a folder of depth PNGs (what ``depthview info`` does: open, read one frame) at
1000 and 3000 files, flat (``x_depth.png`` beside ``x_color.png``) and TUM-style
(``depth/`` + ``rgb/``, paired by nearest timestamps), against listing the same folders
with ``os.scandir`` in the same run. Goal: linear time, 3000 files under 2 s."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import depthview as dv
from depthview.benchmarking import Result


def _png_bytes(arr: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _flat(folder: Path, files: int) -> None:
    depth, colour = (
        _png_bytes(np.full((8, 8), 1234, np.uint16)),
        _png_bytes(np.zeros((8, 8, 3), np.uint8)),
    )
    for i in range(files // 2):
        (folder / f"{i:06d}_depth.png").write_bytes(depth)
        (folder / f"{i:06d}_color.png").write_bytes(colour)


def _tum(folder: Path, files: int) -> None:
    depth, colour = (
        _png_bytes(np.full((8, 8), 1234, np.uint16)),
        _png_bytes(np.zeros((8, 8, 3), np.uint8)),
    )
    (folder / "depth").mkdir()
    (folder / "rgb").mkdir()
    lines = []
    for i in range(files // 2):
        t = 1305031102.160407 + i / 30
        (folder / "depth" / f"{t:.6f}.png").write_bytes(depth)
        (folder / "rgb" / f"{t + 0.011:.6f}.png").write_bytes(colour)
        lines.append(f"{t:.6f} depth/{t:.6f}.png")
    (folder / "depth.txt").write_text("# depth maps\n" + "\n".join(lines) + "\n")


def _seconds(fn: object, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def _info(folder: Path) -> None:
    with dv.open(str(folder), realtime=False) as src:
        src.read()
        assert len(src) > 0


def _listing(folder: Path) -> None:
    for root, _dirs, names in os.walk(folder):
        sorted(names)
        for name in names:
            os.stat(os.path.join(root, name))


def run(quick: bool) -> list[Result]:
    results = []
    repeats = 2 if quick else 5
    for layout, write in (("flat", _flat), ("TUM depth/ + rgb/", _tum)):
        for files in (1000, 3000):
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                write(folder, files)
                ours = _seconds(lambda f=folder: _info(f), repeats)
                base = _seconds(lambda f=folder: _listing(f), repeats)
            results.append(
                Result(
                    name=f"open + first frame, {layout}, {files} files",
                    unit="folders/s",
                    ours=1.0 / ours,
                    baseline=1.0 / base,
                    baseline_name="os.walk + stat of the same files",
                    target="3000 files in under 2 s",
                    met=ours < 2.0 if files >= 3000 else None,
                    extra=f"{ours * 1000:.0f} ms",
                )
            )
    return results
