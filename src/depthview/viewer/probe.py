"""What the mouse points at: the raw depth value, metres (through ``dv.to_metres``) and the
point in metres (x right, y down, z forward, through ``geometry``'s unprojection).

Kept apart from the window so the text is tested against the pure layers directly."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..frame import DepthFormat
from ..units import metres_table
from .view3d import point_at


@dataclass(frozen=True, slots=True)
class Reading:
    """One probe reading at depth pixel (x, y)."""

    x: int
    y: int
    raw: int
    metres: float  # NaN: no reading
    xyz: tuple[float, float, float] | None = None

    @property
    def text(self) -> str:
        """For the HUD: ``"(320, 240) raw 812 = 1.234 m  X +0.012 Y -0.004 Z 1.234"`` or
        ``"... no reading"``."""
        where = f"({self.x}, {self.y}) raw {self.raw}"
        if math.isnan(self.metres):
            return f"{where} no reading"
        text = f"{where} = {self.metres:.3f} m"
        if self.xyz is not None:
            x, y, z = self.xyz
            text += f"  X {x:+.3f} Y {y:+.3f} Z {z:.3f}"
        return text


def read(
    depth: npt.NDArray[np.uint16], depth_format: DepthFormat, x: int, y: int
) -> Reading | None:
    """The reading at (x, y), or None when outside the frame.

    Uses ``units.metres_table`` (the table behind ``dv.to_metres``) for one pixel, so a probe
    costs a lookup rather than converting the whole frame."""
    h, w = depth.shape
    if not (0 <= x < w and 0 <= y < h):
        return None
    raw = int(depth[y, x])
    metres = float(metres_table(depth_format)[raw])
    return Reading(x, y, raw, metres, point_at(depth, depth_format, x, y))
