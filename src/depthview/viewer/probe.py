"""What the mouse points at: the raw depth value and metres (through ``dv.to_metres``).

Kept apart from the window so the text is tested against the units layer directly."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..frame import DepthFormat
from ..units import metres_table


@dataclass(frozen=True, slots=True)
class Reading:
    """One probe reading at depth pixel (x, y)."""

    x: int
    y: int
    raw: int
    metres: float  # NaN: no reading

    @property
    def text(self) -> str:
        """For the HUD: ``"(320, 240) raw 812 = 1.234 m"`` or ``"... no reading"``."""
        where = f"({self.x}, {self.y}) raw {self.raw}"
        if math.isnan(self.metres):
            return f"{where} no reading"
        return f"{where} = {self.metres:.3f} m"


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
    return Reading(x, y, raw, float(metres_table(depth_format)[raw]))
