"""The viewer as users run it: ``depthview view SRC --layout L --frames 300 --stats`` in a
real X window (Xvfb with Mesa; a private one when there is no ``DISPLAY``), the rows of
issue 23's table, natively and with AVX2 code (``NUMBA_CPU_NAME=haswell``,
``LP_NATIVE_VECTOR_WIDTH=256``: the vector width of the slowest machines of this kind, not
their clocks).

Ours: the default choice (on a software OpenGL renderer, points drawn on the CPU and a
plain window). Baseline, measured in the same run: ``DEPTHVIEW_POINTS=gpu``, the OpenGL
window and the compute passes that every machine used before. Rates are frames per CPU
second of the whole process (the ``--stats`` figure); frames/s, drops and latency are the
wall clock's and need a quiet machine: the load average is printed beside them. The real
RGB-D recording row plays the recording or dataset folder ``DEPTHVIEW_BENCH_RGBD`` names in
``--layout 3d-video``, else the shipped sample (a real Kinect v1 recording, depth only: its
video panel stays empty, so name one with video to count a decoder's cost).

``python benchmarks/bench_viewer_runs.py`` prints the issue's table in Markdown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from depthview.benchmarking import Result, system_info, system_line

SETTINGS = {
    "native": {},
    "AVX2": {"NUMBA_CPU_NAME": "haswell", "LP_NATIVE_VECTOR_WIDTH": "256"},
}


@dataclass(frozen=True)
class Row:
    """One row of the table: what runs, and the issue's goals for it."""

    name: str
    source: str
    layout: str
    cpu_ms: float  # the most process CPU a frame
    busy: bool = False  # another program busy on one core meanwhile
    fps: float = 30.0
    dropped: int = 0
    latency_p95_ms: float = 50.0


def rows() -> list[Row]:
    """The issue's table; its real RGB-D recording is the one ``DEPTHVIEW_BENCH_RGBD``
    names, else the shipped sample, so the table is complete on a fresh clone."""
    table = [Row("sample --layout 3d", "sample", "3d", 12.5)]
    recording = os.environ.get("DEPTHVIEW_BENCH_RGBD") or "sample"
    table.append(Row("a real RGB-D recording, --layout 3d-video", recording, "3d-video", 15.0))
    table += [
        Row("sample --layout 3d, a program busy on one core", "sample", "3d", 12.5, True, 29, 3),
        Row("sample --layout both", "sample", "both", 4.0, latency_p95_ms=33.0),
        Row("demo --layout 3d-video", "demo", "3d-video", 15.0),
    ]
    return table


@contextmanager
def busy_core(on: bool) -> Iterator[None]:
    """Another program spinning on one core while the viewer runs."""
    if not on:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def cli_stats(args: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    """One run of ``depthview ARGS`` in an X window (``SDL_VIDEODRIVER=x11``): its
    ``--stats`` line with the load average after it, or its error."""
    proc = subprocess.run(
        [sys.executable, "-m", "depthview", *args],
        env={**os.environ, "SDL_VIDEODRIVER": "x11", **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    load = os.getloadavg()[0]
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines or not lines[-1].startswith("{"):
        error = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {proc.returncode}: {error}", "load": load}
    stats: dict[str, object] = json.loads(lines[-1])
    stats["load"] = load
    return stats


def view_stats(row: Row, env: dict[str, str], frames: int) -> dict[str, object]:
    """One run of the real command; its ``--stats`` line (with the load average)."""
    command = ["view", row.source, "--layout", row.layout]
    command += ["--frames", str(frames), "--stats", "--no-hud"]
    with busy_core(row.busy):
        return cli_stats(command, env)


def _num(stats: dict[str, object], key: str) -> float:
    value = stats.get(key, 0.0)
    return float(value) if isinstance(value, (int, float)) else 0.0


@cache
def source_rate(source: str, frames: int = 300) -> float:
    """Frames a second the source itself gives over ``frames`` frames, looping as the viewer
    does, from its own clock: a window can show no more. The shipped sample is a real
    recording with two frames the Kinect dropped and a seam where it loops (every stream
    continues its clock), so it gives about 28.8, not 30."""
    import depthview as dv

    endless = {} if source.partition(":")[0] == "demo" else {"loop": True}
    with dv.open(source, realtime=False, **endless) as src:
        times = [src.read().timestamp for _ in range(frames)]
    return (frames - 1) / (times[-1] - times[0])


def met(row: Row, stats: dict[str, object]) -> bool:
    """Whether a run meets the row's goals; the frame rate's is the row's or, for a source
    that gives fewer frames a second, showing them all at the source's own rate."""
    rate = min(row.fps, 0.99 * source_rate(row.source))
    return (
        "error" not in stats
        and _num(stats, "process_cpu_ms_per_frame") <= row.cpu_ms
        and _num(stats, "display_fps") >= rate
        and _num(stats, "dropped_source_frames") <= row.dropped
        and _num(stats, "latency_ms_p95") <= row.latency_p95_ms
    )


def figures(stats: dict[str, object]) -> str:
    """A run's figures in the issue's order."""
    if "error" in stats:
        return f"failed ({stats['error']})"
    return (
        f"{_num(stats, 'process_cpu_ms_per_frame'):.1f} ms CPU, "
        f"{_num(stats, 'display_fps'):.1f} frames/s, "
        f"{int(_num(stats, 'dropped_source_frames'))} dropped, "
        f"p95 {_num(stats, 'latency_ms_p95'):.0f} ms, points {stats.get('points') or '-'}, "
        f"load {_num(stats, 'load'):.2f}"
    )


def measure(quick: bool) -> list[tuple[str, Row, dict[str, object], dict[str, object]]]:
    """Every row in every setting: ours and the GPU path's stats."""
    from bench_viewer3d import _display  # type: ignore[import-not-found, unused-ignore]

    frames = 90 if quick else 300
    out = []
    with _display():
        for setting, env in SETTINGS.items():
            for row in rows():
                ours = view_stats(row, env, frames)
                gpu = view_stats(row, {**env, "DEPTHVIEW_POINTS": "gpu"}, frames)
                out.append((setting, row, ours, gpu))
    return out


def run(quick: bool = False) -> list[Result]:
    """Frames per CPU second of the real viewer, ours against the OpenGL path."""
    sys.path.insert(0, os.path.dirname(__file__))
    results = []
    for setting, row, ours, gpu in measure(quick):
        cpu, base = _num(ours, "process_cpu_ms_per_frame"), _num(gpu, "process_cpu_ms_per_frame")
        results.append(
            Result(
                name=f"view {row.name} ({setting})",
                unit="frames/CPU-s",
                ours=1000.0 / cpu if cpu > 0 else 0.0,
                baseline=1000.0 / base if base > 0 else 0.0,
                baseline_name="DEPTHVIEW_POINTS=gpu: the OpenGL window and compute passes",
                target=f"<= {row.cpu_ms:g} ms CPU, >= {row.fps:g} frames/s (or all the "
                f"source's {source_rate(row.source):.1f}), "
                f"<= {row.dropped} dropped, p95 <= {row.latency_p95_ms:g} ms",
                met=met(row, ours),
                extra=f"ours: {figures(ours)}; gpu: {figures(gpu)}",
            )
        )
    return results


def table(quick: bool = False) -> str:
    """The issue's table in Markdown, both settings, both paths."""
    sys.path.insert(0, os.path.dirname(__file__))
    lines = [
        f"machine: {system_line(system_info())}",
        "",
        "| run (`view SRC --layout L --frames 300 --stats`) | setting | points | "
        "process CPU a frame | frames/s (the source's own) | dropped | latency p95 | "
        "load average |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for setting, row, ours, gpu in measure(quick):
        for stats in (ours, gpu):
            if "error" in stats:
                lines.append(f"| `{row.name}` | {setting} | - | {stats['error']} | | | | |")
                continue
            lines.append(
                f"| `{row.name}` | {setting} | {stats.get('points') or '-'} | "
                f"{_num(stats, 'process_cpu_ms_per_frame'):.1f} ms | "
                f"{_num(stats, 'display_fps'):.1f} ({source_rate(row.source):.1f}) | "
                f"{int(_num(stats, 'dropped_source_frames'))} | "
                f"{_num(stats, 'latency_ms_p95'):.0f} ms | {_num(stats, 'load'):.2f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(quick="--quick" in sys.argv))
