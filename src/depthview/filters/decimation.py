"""Decimation: shrink depth by a whole factor (librealsense's decimation filter).

Blocks of ``magnitude`` x ``magnitude`` pixels become one: the median of the block's
non-zero values for 2 and 3 (the lower one of an even count), their mean (rounded down)
for 4 to 8, 0 for a block with none. As librealsense does, the output is padded with zero
rows and columns up to a multiple of 4: 640x480 by 3 is 213x160 of data in a 216x160 frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Z16, Depth, Filter, check_depth, check_out, kernels, number


def output_shape(shape: tuple[int, ...], magnitude: int) -> tuple[int, int]:
    """librealsense's padded output size for an (H, W) input."""
    h, w = shape[0] // magnitude, shape[1] // magnitude
    return (h + 3) // 4 * 4, (w + 3) // 4 * 4


class Decimation(Filter):
    """Shrink z16 depth ``magnitude`` (1..8) times in each direction."""

    name = "decimation"

    def __init__(self, magnitude: int = 2) -> None:
        self.magnitude = number(magnitude, "decimation magnitude", 1, 8, integer=True)

    def params(self) -> dict[str, Any]:
        return {"magnitude": self.magnitude}

    def __call__(self, depth: Depth, *, out: Depth | None = None) -> Depth:
        arr = check_depth(depth, "decimation", (Z16,))
        shape = output_shape(arr.shape, self.magnitude)
        dst = check_out(out, "decimation", shape, Z16)
        if dst is None:
            dst = np.empty(shape, dtype=np.uint16)
        h, w = arr.shape[0] // self.magnitude, arr.shape[1] // self.magnitude
        dst[h:, :] = 0
        dst[:h, w:] = 0
        kernels().decimate(arr, self.magnitude, dst)
        return dst
