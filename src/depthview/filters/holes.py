"""Hole filling: librealsense's three ways to give a hole a neighbour's value.

0 ``fill_from_left``: the value to the left (holes run on until the next valid one);
1 ``farest_from_around`` (the default): the largest of the up, up-left, left, down-left
and down neighbours (farthest for depth, nearest for disparity); 2 ``nearest_from_around``:
the smallest valid one of them, starting from the one above (so a hole under a hole stays).
Modes 1 and 2 leave the first and last rows and the first column as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Z16, Depth, Filter, check_depth, check_out, copy_into, kernels, number

MODES = ("fill_from_left", "farest_from_around", "nearest_from_around")


class HoleFilling(Filter):
    """Fill holes (0) in place of librealsense's hole filling filter: mode 0, 1 or 2."""

    name = "holes"

    def __init__(self, mode: int = 1) -> None:
        self.mode = number(mode, "holes mode", 0, 2, integer=True)

    def params(self) -> dict[str, Any]:
        return {"mode": self.mode}

    def __call__(self, depth: Depth, *, out: Depth | None = None) -> Depth:
        arr = check_depth(depth, "holes")
        dst = copy_into(arr, check_out(out, "holes", arr.shape, arr.dtype))
        empty = dst if dst.dtype == Z16 else dst.view(np.int32)
        kernels().holes(dst, empty, self.mode)
        return dst
