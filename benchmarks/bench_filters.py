"""librealsense's post-processing filters: depthview.filters against pyrealsense2 itself.

Same run, same frame (the shipped Kinect recording in millimetres, 640x480), one thread
each: every filter with librealsense's defaults (spatial and hole filling in both domains),
and the chain to disparity, spatial, temporal, to depth, hole filling. pyrealsense2's side
runs on a software device (tests/_helpers_realsense.py, the tests' oracle); results are
checked equal before timing. Targets: every filter >= 2x, the chain >= 3x.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import depthview as dv
from depthview import filters as F
from depthview.benchmarking import Result, rate

TESTS = Path(__file__).resolve().parents[1] / "tests"  # the oracle is the tests' own
FILTER_TARGET = 2.0
CHAIN_TARGET = 3.0


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

    def pair(ours: Callable[[], Any], theirs: Callable[[], Any]) -> tuple[float, float]:
        got, want = ours(), data(theirs())
        if got.shape != want.shape or not np.array_equal(got.view(np.uint8), want.view(np.uint8)):
            raise AssertionError("depthview and librealsense differ on the benchmark frame")
        return rate(ours, seconds=seconds), rate(theirs, seconds=seconds)

    def stateful(
        make_ours: Callable[[], Any], kind: str, x: Any, rs_in: Any
    ) -> tuple[float, float]:
        ours, theirs = make_ours(), block(kind)
        return pair(lambda: ours(x), lambda: theirs.process(rs_in))

    cases: list[tuple[str, tuple[float, float]]] = [
        ("decimation 2 z16", stateful(F.Decimation, "decimation", depth, frame)),
        ("threshold z16", stateful(F.Threshold, "threshold", depth, frame)),
        ("to disparity", pair(lambda: to_disp(depth), lambda: block("disparity").process(frame))),
        ("to depth", pair(lambda: to_depth(disp), lambda: block("depth").process(rs_disp))),
        ("spatial z16", stateful(F.Spatial, "spatial", depth, frame)),
        ("spatial disparity", stateful(F.Spatial, "spatial", disp, rs_disp)),
        ("temporal z16", stateful(F.Temporal, "temporal", depth, frame)),
        ("temporal disparity", stateful(F.Temporal, "temporal", disp, rs_disp)),
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

    chain = pair(lambda: ours_chain(depth), rs_chain)
    oracle.close()
    results = [
        Result(
            f"filter {name} 640x480",
            "frames/s",
            ours,
            theirs,
            "pyrealsense2",
            f">= {FILTER_TARGET:.0f}x",
            ours / theirs >= FILTER_TARGET,
        )
        for name, (ours, theirs) in cases
    ]
    results.append(
        Result(
            "filter chain 640x480",
            "frames/s",
            chain[0],
            chain[1],
            "pyrealsense2",
            f">= {CHAIN_TARGET:.0f}x",
            chain[0] / chain[1] >= CHAIN_TARGET,
            extra="to disparity, spatial, temporal, to depth, hole filling",
        )
    )
    return results
