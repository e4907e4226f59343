"""Export's ``.npz``, streamed (``writers.npz``: each frame to spill files, copied into the
archive at the end, so memory stays flat however many frames) against the simple approach
export used before: every frame stacked in memory and saved with ``np.savez``. Both write
the same demo frames' depth, colour and times. The figure is what streaming costs in speed
(reported, no target); the memory goal (flat in frames) is tested in tests/test_writers.py."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import depthview as dv
from depthview.benchmarking import Result


def _stacked(frames: list[dv.Frame], path: Path) -> None:
    """The simple approach: stack everything, then one ``np.savez``."""
    video = [f.video for f in frames]
    assert all(v is not None for v in video)
    np.savez(
        path,
        depth=np.stack([f.depth for f in frames]),
        video=np.stack(video),  # type: ignore[arg-type]
        timestamp=np.array([f.timestamp for f in frames]),
    )


def _streamed(frames: list[dv.Frame], path: Path) -> None:
    dv.export(frames, path, overwrite=True)


def _best_rate(
    fn: Callable[[list[dv.Frame], Path], None], frames: list[dv.Frame], root: Path, rounds: int
) -> float:
    best = 0.0
    for _ in range(rounds):
        out = root / "frames.npz"
        t0 = time.perf_counter()
        fn(frames, out)
        best = max(best, len(frames) / (time.perf_counter() - t0))
        out.unlink()
    return best


def run(quick: bool = False) -> list[Result]:
    n = 60 if quick else 300
    with dv.open("demo", fps=0, frames=n) as src:
        frames = list(src)
    root = Path(tempfile.mkdtemp(prefix="dv-bench-export-"))
    try:
        rounds = 2 if quick else 3
        stacked = _best_rate(_stacked, frames, root, rounds)
        ours = _best_rate(_streamed, frames, root, rounds)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return [
        Result(
            "export .npz 640x480 d+RGB, streamed",
            "frames/s",
            ours,
            stacked,
            "np.savez of the stacked frames",
            target="(report; memory flat in frames)",
            met=None,
            extra=f"{n} frames, {rounds} rounds, best",
        )
    ]
