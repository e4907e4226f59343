"""Registration of one 640x480 frame against libfreenect's own C routine, and millimetres by
table against the per-pixel formula.

The C side is libfreenect's ``freenect_apply_registration`` (and ``map_rgb_to_depth``)
compiled from Debian's source by the tests' oracle (tests/oracle), on the packed frame the
device sends, exactly as libfreenect runs it for FREENECT_DEPTH_REGISTERED: one thread, in
this process, on the same frame. Results are checked equal before timing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

import depthview as dv
from depthview import registration
from depthview.benchmarking import Result, rate
from depthview.errors import DepthviewError

TESTS = Path(__file__).resolve().parents[1] / "tests"  # the oracle is the tests' own


def _formula_mm(depth: npt.NDArray[np.uint16], reg: dv.Registration) -> npt.NDArray[np.uint16]:
    """The simple approach: libfreenect's raw-to-mm formula evaluated on every pixel."""
    zp = reg.zero_plane_info
    metric = ((depth - 4.0 * reg.const_shift) / 4.0 - 0.375) * zp.reference_pixel_size
    mm = 10.0 * (metric * zp.reference_distance / (zp.dcmos_emitter_dist - metric))
    mm += 10.0 * zp.reference_distance
    mm[depth >= 2047] = 0
    return np.clip(mm, 0, 10000).astype(np.uint16)


def run(quick: bool = False) -> list[Result]:
    seconds = 0.3 if quick else 1.0
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    from oracle.freenect_oracle import Oracle, OracleUnavailable

    try:
        oracle = Oracle()
    except OracleUnavailable as exc:
        raise DepthviewError(f"bench_registration needs libfreenect's C code: {exc}") from None
    reg = registration.Registration.default()
    oracle.load(reg.as_dict())
    with dv.open("demo", fps=0) as src:
        frame = src.read()
    depth = frame.depth
    rgb = (
        np.ascontiguousarray(frame.video)
        if frame.video is not None
        else np.zeros((480, 640, 3), np.uint8)
    )
    packed = oracle.pack(depth)
    out = np.empty(depth.shape, dtype=np.uint16)
    c_out = np.empty(depth.shape, dtype=np.uint16)
    oracle.registered_packed(packed, c_out)
    np.testing.assert_array_equal(dv.register(depth, reg, out=out), c_out)
    mm = oracle.depth_mm(depth)
    mm[mm >= 10000] = 0
    rgb_out = np.empty((480, 640, 3), dtype=np.uint8)
    np.testing.assert_array_equal(
        dv.map_rgb_to_depth(mm, rgb, reg, depth_format="mm", out=rgb_out),
        oracle.map_rgb_to_depth(mm, rgb),
    )

    ours = rate(lambda: dv.register(depth, reg, out=out), seconds=seconds)
    c = rate(lambda: oracle.registered_packed(packed, c_out), seconds=seconds)
    ours_map = rate(
        lambda: dv.map_rgb_to_depth(mm, rgb, reg, depth_format="mm", out=rgb_out), seconds=seconds
    )
    c_rgb_out = np.zeros((480, 640, 3), dtype=np.uint8)
    c_map = rate(lambda: oracle.map_rgb_to_depth(mm, rgb, out=c_rgb_out), seconds=seconds)
    ours_mm = rate(lambda: dv.to_mm(depth, reg, out=out), seconds=seconds)
    formula = rate(lambda: _formula_mm(depth, reg), seconds=seconds)
    backend = registration.backend()
    return [
        Result(
            "register 640x480",
            "frames/s",
            ours,
            c,
            "libfreenect's C (apply_registration)",
            target=">= 1x the C, one thread",
            met=ours >= c,
            extra=f"{backend} loop, bit-exact",
        ),
        Result(
            "map_rgb_to_depth 640x480",
            "frames/s",
            ours_map,
            c_map,
            "libfreenect's C (map_rgb_to_depth)",
            target=">= 1x the C, one thread",
            met=ours_map >= c_map,
            extra=f"{backend} loop, bit-exact",
        ),
        Result(
            "to_mm 640x480",
            "frames/s",
            ours_mm,
            formula,
            "per-pixel float formula (numpy)",
            target=">= 5x",
            met=ours_mm >= 5 * formula,
            extra="one table lookup",
        ),
    ]
