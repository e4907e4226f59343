"""Threshold: keep depth between two distances, zero elsewhere (librealsense's threshold)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from .base import Z16, Depth, Filter, check_depth, check_out, kernels, number

#: librealsense's depth units for z16 millimetres (a float: 0.001f).
MM_UNITS = np.float32(0.001)


@lru_cache(maxsize=16)
def kept_range(min_m: float, max_m: float) -> tuple[int, int]:
    """The values (lo..hi) librealsense's float test ``min <= 0.001f * value <= max`` keeps,
    found by running that test (float32) on every uint16. 0.001f * value never decreases
    as value grows, so they are one run; (1, 0) when none."""
    values = np.arange(65536, dtype=np.uint32)
    dist = MM_UNITS * values.astype(np.float32)
    kept = np.flatnonzero((dist >= np.float32(min_m)) & (dist <= np.float32(max_m)))
    if kept.size == 0:
        return 1, 0
    assert kept[-1] - kept[0] + 1 == kept.size  # one run, as said
    return int(kept[0]), int(kept[-1])


class Threshold(Filter):
    """Zero every pixel nearer than ``min_m`` or farther than ``max_m`` metres (0..16).
    z16 only, as in librealsense (its threshold passes disparity through untouched)."""

    name = "threshold"

    def __init__(self, min_m: float = 0.1, max_m: float = 4.0) -> None:
        self.min_m = number(min_m, "threshold min_m (metres)", 0.0, 16.0)
        self.max_m = number(max_m, "threshold max_m (metres)", 0.0, 16.0)
        if self.min_m > self.max_m:
            raise ValueError(f"expected threshold min_m <= max_m, got {self.min_m} > {self.max_m}")

    def params(self) -> dict[str, Any]:
        return {"min_m": self.min_m, "max_m": self.max_m}

    def __call__(self, depth: Depth, *, out: Depth | None = None) -> Depth:
        arr = check_depth(depth, "threshold", (Z16,))
        dst = check_out(out, "threshold", arr.shape, Z16)
        if dst is None:
            dst = np.empty(arr.shape, dtype=np.uint16)
        lo, hi = kept_range(self.min_m, self.max_m)
        # The kernel walks both as flat runs: a reversed, transposed or Fortran-order view
        # is copied to C order first (the other filters index rows and columns).
        kernels().keep_between(np.ascontiguousarray(arr), lo, hi, dst)
        return dst
