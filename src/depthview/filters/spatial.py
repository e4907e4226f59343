"""Spatial: librealsense's edge-preserving smoothing (a recursive domain transform).

Each of ``magnitude`` passes runs along every row (left to right, then back) and every
column (down, then up), blending a pixel with its filtered neighbour when they differ by
less than ``delta``: ``alpha`` weighs the pixel itself (1: no smoothing). ``holes_fill``
also spreads valid values into holes along rows: radius 2, 4, 8, 16 pixels, or unlimited
(modes 1..5). z16 and disparity take librealsense's two different code paths (rounding to
whole millimetres and its quirks on z16; exact float on disparity), both reproduced.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .base import DISPARITY, Z16, Depth, Filter, check_depth, check_out, copy_into, kernels, number

#: holes_fill mode -> librealsense's radius (0: off; 5: "unlimited", 255).
RADIUS = (0, 2, 4, 8, 16, 255)


class Spatial(Filter):
    """Edge-preserving smoothing: alpha 0.25..1, delta 1..50, magnitude 1..5 passes,
    holes_fill 0..5. Keeps its scratch memory between calls (sized on first use): a call
    borrows it and gives it back, so calls from two threads at once each get their own
    (the second allocates), and one object per stream keeps the scratch sized."""

    name = "spatial"

    def __init__(
        self, alpha: float = 0.5, delta: int = 20, magnitude: int = 2, holes_fill: int = 0
    ) -> None:
        self.alpha = number(alpha, "spatial alpha", 0.25, 1.0)
        self.delta = number(delta, "spatial delta", 1, 50, integer=True)
        self.magnitude = number(magnitude, "spatial magnitude", 1, 5, integer=True)
        self.holes_fill = number(holes_fill, "spatial holes_fill", 0, 5, integer=True)
        self._spare: list[npt.NDArray[Any]] = []  # scratch between calls: 0 or 1 array

    def _borrow(self, size: int, dtype: np.dtype[Any]) -> npt.NDArray[Any]:
        """A flat scratch array of ``size`` items: the last call's when it fits (list.pop
        is atomic, so a concurrent call never gets the same one)."""
        try:
            work = self._spare.pop()
        except IndexError:
            work = None
        if work is None or work.dtype != dtype or work.size != size:
            work = np.empty(size, dtype=dtype)
        return work

    def params(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "delta": self.delta,
            "magnitude": self.magnitude,
            "holes_fill": self.holes_fill,
        }

    def __call__(self, depth: Depth, *, out: Depth | None = None) -> Depth:
        arr = check_depth(depth, "spatial")
        dst = copy_into(arr, check_out(out, "spatial", arr.shape, arr.dtype))
        k = kernels()
        radius = RADIUS[self.holes_fill]
        alpha = np.float32(self.alpha)
        work = self._borrow(2 * dst.size, dst.dtype)
        if arr.dtype == Z16:
            k.spatial_z16(dst, work, alpha, self.delta, self.magnitude, radius)
        else:
            assert dst.dtype == DISPARITY
            np.copyto(dst, 0, where=np.isnan(dst))  # NaN: no reading (see _sweep_fp)
            k.spatial_fp(dst, dst.view(np.int32), work, alpha, self.delta, self.magnitude, radius)
        self._spare[:] = [work]
        return dst
