"""Recording replay as fast as possible (depth + video) against plain np.fromfile of the
same files, measured in the same run on a temporary 60-frame recording."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np

import depthview as dv
from depthview.benchmarking import Result, rate
from depthview.fakenect_format import DEPTH_HEADER, VIDEO_HEADER, entry_name


def _write(folder: Path, n: int) -> list[tuple[Path, Path]]:
    rng = np.random.default_rng(1)
    depth = rng.integers(0, 2048, size=(480, 640), dtype=np.uint16).astype("<u2").tobytes()
    video = rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8).tobytes()
    lines, pairs = [], []
    for i in range(n):
        t = 1700000000.0 + i / 30
        d, r = entry_name("d", t, i), entry_name("r", t + 0.001, i)
        (folder / d).write_bytes(DEPTH_HEADER + depth)
        (folder / r).write_bytes(VIDEO_HEADER + video)
        lines += [d, r]
        pairs.append((folder / d, folder / r))
    (folder / "INDEX.txt").write_text("".join(x + "\n" for x in lines))
    return pairs


def run(quick: bool) -> list[Result]:
    n = 60
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pairs = _write(folder, n)
        src = dv.open(str(folder), realtime=False, loop=True)

        def ours() -> None:
            for _ in range(n):
                src.read()

        def plain() -> None:
            for d, r in pairs:
                np.fromfile(d, dtype="<u2", offset=len(DEPTH_HEADER)).reshape(480, 640)
                np.fromfile(r, dtype=np.uint8, offset=len(VIDEO_HEADER)).reshape(480, 640, 3)

        seconds = 0.5 if quick else 2.0
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a skipped frame would flatter the figure
            ours_fps = rate(ours, seconds=seconds) * n
        plain_fps = rate(plain, seconds=seconds) * n
        src.close()
    ratio = ours_fps / plain_fps
    return [
        Result(
            name="replay depth+video (realtime=False)",
            unit="frames/s",
            ours=ours_fps,
            baseline=plain_fps,
            baseline_name="np.fromfile of the same .pgm/.ppm files",
            target=">= 600 frames/s and >= 0.67x plain",
            met=ours_fps >= 600 and ratio >= 0.67,
        )
    ]
