"""librealsense's post-processing filters: depthview.filters against pyrealsense2 itself.

Same run, same frame (the shipped Kinect recording in millimetres, 640x480), one thread
each: every filter with librealsense's defaults (spatial and hole filling in both domains),
and the chain to disparity, spatial, temporal, to depth, hole filling. pyrealsense2's side
runs on a software device (tests/_helpers_realsense.py, the tests' oracle); results are
checked equal before timing, then both are timed in alternating rounds (``paired_rates``).
Targets: every filter >= 2x, the chain >= 3x; a filter bound by memory bandwidth >= 1.5x,
shown by its bytes moved a frame (input, output and kept state, read and written once: a
floor) against the bandwidth a frame-sized copy gets in the same run: memory bound means
moving those bytes at that rate takes half the filter's time or more.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import depthview as dv
from depthview import filters as F
from depthview.benchmarking import Result, copy_bandwidth, paired_rates

TESTS = Path(__file__).resolve().parents[1] / "tests"  # the oracle is the tests' own
FILTER_TARGET = 2.0
CHAIN_TARGET = 3.0
MEMORY_BOUND_TARGET = 1.5  # when moving its bytes at copy bandwidth takes half its time


def moved(inp: Any, out: Any, state: int = 0) -> int:
    """Bytes a filter reads and writes a frame at least: input, output, and any state it
    keeps, read and written."""
    return int(inp.nbytes + out.nbytes + 2 * state)


def run(quick: bool = False) -> list[Result]:
    seconds = 0.3 if quick else 1.0
    with dv.open("sample") as src:
        frames = [dv.to_mm(f.depth, src.registration) for f in src]
    depth = frames[len(frames) // 2]
    try:
        if str(TESTS) not in sys.path:
            sys.path.insert(0, str(TESTS))
        from _helpers_realsense import BASELINE_MM, Oracle, block, data
    except ImportError as exc:  # pyrealsense2 is a dev dependency
        note = f"pyrealsense2 not installed ({exc}): pip install pyrealsense2"
        return [Result("filters", "frames/s", 0.0, 0.0, "pyrealsense2", extra=note)]

    oracle = Oracle(640, 480)
    frame = oracle.frame(depth)
    to_disp = F.DisparityTransform(True, BASELINE_MM, oracle.fx)
    to_depth = F.DisparityTransform(False, BASELINE_MM, oracle.fx)
    disp = to_disp(depth)
    rs_disp = block("disparity").process(frame)

    def pair(
        ours: Callable[[], Any], theirs: Callable[[], Any], state: int = 0
    ) -> tuple[float, float, int]:
        got, want = ours(), data(theirs())
        if got.shape != want.shape or not np.array_equal(got.view(np.uint8), want.view(np.uint8)):
            raise AssertionError("depthview and librealsense differ on the benchmark frame")
        mine, peer = paired_rates(ours, theirs, seconds=seconds)
        return mine, peer, moved(inp_of[0], got, state)

    inp_of = [depth]

    def stateful(
        make_ours: Callable[[], Any], kind: str, x: Any, rs_in: Any, state: int = 0
    ) -> tuple[float, float, int]:
        ours, theirs = make_ours(), block(kind)
        inp_of[0] = x
        return pair(lambda: ours(x), lambda: theirs.process(rs_in), state)

    pixels = depth.size
    # Temporal keeps the last frame (its input's type) and an int32 history a pixel.
    z16_state, disp_state = pixels * (2 + 4), pixels * (4 + 4)
    bandwidth = copy_bandwidth(disp.nbytes)  # a float32 frame: where the filters' arrays live

    cases: list[tuple[str, tuple[float, float, int]]] = [
        ("decimation 2 z16", stateful(F.Decimation, "decimation", depth, frame)),
        ("threshold z16", stateful(F.Threshold, "threshold", depth, frame)),
        ("to disparity", pair(lambda: to_disp(depth), lambda: block("disparity").process(frame))),
    ]
    inp_of[0] = disp
    cases += [
        ("to depth", pair(lambda: to_depth(disp), lambda: block("depth").process(rs_disp))),
        ("spatial z16", stateful(F.Spatial, "spatial", depth, frame)),
        ("spatial disparity", stateful(F.Spatial, "spatial", disp, rs_disp)),
        ("temporal z16", stateful(F.Temporal, "temporal", depth, frame, z16_state)),
        ("temporal disparity", stateful(F.Temporal, "temporal", disp, rs_disp, disp_state)),
        ("hole filling z16", stateful(F.HoleFilling, "holes", depth, frame)),
        ("hole filling disparity", stateful(F.HoleFilling, "holes", disp, rs_disp)),
    ]
    ours_chain = F.Chain([to_disp, F.Spatial(), F.Temporal(), to_depth, F.HoleFilling()])
    theirs_chain = [block(k) for k in ("disparity", "spatial", "temporal", "depth", "holes")]

    def rs_chain() -> Any:
        x = frame
        for b in theirs_chain:
            x = b.process(x)
        return x

    inp_of[0] = depth
    chain = pair(lambda: ours_chain(depth), rs_chain, disp_state)
    oracle.close()

    def memory(ours: float, nbytes: int) -> tuple[bool, str]:
        """Whether moving nbytes at copy bandwidth takes half of ours' time or more, and
        the figures that show it."""
        floor_us, ours_us = nbytes / bandwidth * 1e6, 1e6 / ours
        note = (
            f"moves >= {nbytes / 1e6:.1f} MB a frame: {floor_us:.0f} us at the copy "
            f"bandwidth measured now ({bandwidth / 1e9:.1f} GB/s), ours takes {ours_us:.0f} us"
        )
        return floor_us >= 0.5 * ours_us, note

    results = []
    for name, (ours, theirs, nbytes) in cases:
        bound, note = memory(ours, nbytes)
        target = MEMORY_BOUND_TARGET if bound else FILTER_TARGET
        results.append(
            Result(
                f"filter {name} 640x480",
                "frames/s",
                ours,
                theirs,
                "pyrealsense2",
                f">= {target:g}x" + (" (memory bound)" if bound else ""),
                ours / theirs >= target,
                extra=note,
            )
        )
    results.append(
        Result(
            "filter chain 640x480",
            "frames/s",
            chain[0],
            chain[1],
            "pyrealsense2",
            f">= {CHAIN_TARGET:.0f}x",
            chain[0] / chain[1] >= CHAIN_TARGET,
            extra="to disparity, spatial, temporal, to depth, hole filling; "
            + memory(chain[0], chain[2])[1],
        )
    )
    return results
