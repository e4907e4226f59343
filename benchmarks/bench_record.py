"""Recording writer (threaded, writev, one INDEX append per frame) vs a naive writer that
opens each file with Python, writes the header and ``tofile``s the array, and appends to
INDEX.txt through a reopened file."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import depthview as dv
from depthview.benchmarking import Result
from depthview.fakenect_format import DEPTH_HEADER, VIDEO_HEADER, entry_name
from depthview.recording import RecordingWriter


def _naive(frames: list[dv.Frame], folder: Path) -> None:
    folder.mkdir()
    for i, f in enumerate(frames):
        t = 1_700_000_000 + i / 30
        for kind, header, array in (("r", VIDEO_HEADER, f.video), ("d", DEPTH_HEADER, f.depth)):
            name = entry_name(kind, t, i)
            with open(folder / name, "wb") as fh:
                fh.write(header)
                array.tofile(fh)  # type: ignore[union-attr]
            with open(folder / "INDEX.txt", "a") as index:
                index.write(name + "\n")


def _ours(frames: list[dv.Frame], folder: Path) -> None:
    with RecordingWriter(folder, on_full="block") as writer:
        for f in frames:
            writer.write(f)


def _measure(fn: object, frames: list[dv.Frame], rounds: int) -> tuple[float, float]:
    """Best frames/s (wall) and CPU ms per frame of the round with the best wall time."""
    best = (0.0, 0.0)
    for _ in range(rounds):
        root = Path(tempfile.mkdtemp(prefix="dv-bench-record-"))
        try:
            w0, c0 = time.perf_counter(), time.process_time()
            fn(frames, root / "rec")  # type: ignore[operator]
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        finally:
            shutil.rmtree(root, ignore_errors=True)
        fps = len(frames) / wall
        if fps > best[0]:
            best = (fps, cpu * 1000 / len(frames))
    return best


def run(quick: bool) -> list[Result]:
    n = 30 if quick else 120
    with dv.open("demo", fps=0, frames=n) as src:
        # Same work on both sides: depth + RGB files and their INDEX lines, no tilt records.
        frames = [dataclasses.replace(f, accel=None, tilt_deg=None) for f in src]
    rounds = 2 if quick else 4
    ours_fps, ours_cpu = _measure(_ours, frames, rounds)
    base_fps, base_cpu = _measure(_naive, frames, rounds)
    return [
        Result(
            "record depth+RGB 640x480",
            "frames/s",
            ours_fps,
            base_fps,
            "open/write/tofile per file",
            target=">= 30 frames/s",
            met=ours_fps >= 30,
            extra=f"CPU {ours_cpu:.2f} vs {base_cpu:.2f} ms/frame (ours: writer thread)",
        )
    ]
