"""What the mouse points at: the stored depth value, its distance and the point in metres
(x right, y down, z forward), through the same ``CloudGeometry`` as the 3D view, so the
probe and the point cloud agree. With the source's registration, raw depth reads in
millimetres from libfreenect's table (``dv.to_mm``), as libfreenect's FREENECT_DEPTH_MM
gives them.

Kept apart from the window so the text is tested against the pure layers directly."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..frame import DepthFormat
from ..registration import Registration, to_mm
from .view3d import CloudGeometry, cloud_geometry, point_at


@dataclass(frozen=True, slots=True)
class Reading:
    """One probe reading at depth pixel (x, y)."""

    x: int
    y: int
    raw: int  # the value stored in the frame
    metres: float  # NaN: no reading
    xyz: tuple[float, float, float] | None = None
    mm: int | None = None  # libfreenect's millimetres of a raw value, with a registration
    registered: bool = False  # the value is registered depth (millimetres)
    #: What the stored value counts: "raw" (disparity), else its unit ("mm", "tum").
    unit: str = "raw"
    #: A reading past the range (raw disparity beyond 10 m), not the "no reading" value:
    #: libfreenect gives it its 10000 mm ceiling and the point cloud leaves it out.
    past_range: bool = False

    @property
    def text(self) -> str:
        """For the HUD: ``"(320, 240) raw 812 = 1.234 m  X +0.012 Y -0.004 Z 1.234"``,
        ``"(320, 240) 1185 mm = 1.185 m  X ..."`` on millimetres (filtered depth too),
        ``"(320, 240) raw 812 = 1234 mm  X ..."`` with a registration, ``"(320, 240)
        registered 1234 mm  X ..."`` on registered depth, ``"... no reading"``, or ``"(320,
        240) raw 1500 = 10000 mm, past the 10 m range"`` (libfreenect's ceiling)."""
        if self.registered:
            where, value = f"({self.x}, {self.y}) registered {self.raw}", " mm"
        elif self.unit != "raw":  # a metric value (filtered depth is millimetres)
            where = f"({self.x}, {self.y}) {self.raw} {self.unit}"
            value = f" = {self.metres:.3f} m"
        else:
            where = f"({self.x}, {self.y}) raw {self.raw}"
            value = f" = {self.metres:.3f} m" if self.mm is None else f" = {self.mm} mm"
        if self.past_range:
            ceiling = "" if self.mm is None else f" = {self.mm} mm,"
            return f"{where}{ceiling} past the 10 m range"
        if math.isnan(self.metres):
            return f"{where} no reading"
        text = where + value
        if self.xyz is not None:
            x, y, z = self.xyz
            text += f"  X {x:+.3f} Y {y:+.3f} Z {z:.3f}"
        return text


def read(
    depth: npt.NDArray[np.uint16],
    depth_format: DepthFormat,
    x: int,
    y: int,
    geometry: CloudGeometry | None = None,
    registration: Registration | None = None,
) -> Reading | None:
    """The reading at (x, y), or None when outside the frame.

    Distance and point come from ``geometry`` (default: ``cloud_geometry`` of the format,
    without a registration), one table lookup rather than converting the whole frame;
    with a ``registration``, raw depth also reads in ``to_mm``'s millimetres."""
    h, w = depth.shape
    if not (0 <= x < w and 0 <= y < h):
        return None
    if geometry is None:
        geometry = cloud_geometry(depth_format, (h, w))
    raw = int(depth[y, x])
    metres = float(geometry.metres[raw])
    mm = None
    if registration is not None and depth_format is DepthFormat.RAW_11BIT:
        mm = int(
            to_mm(depth[y : y + 1, x : x + 1].copy(), registration, depth_format=depth_format)[0, 0]
        )
    registered = depth_format is DepthFormat.REGISTERED
    unit = {DepthFormat.MM: "mm", DepthFormat.TUM: "tum"}.get(depth_format, "raw")
    xyz = point_at(depth, geometry, x, y)
    past = math.isnan(metres) and raw != depth_format.invalid_value
    return Reading(x, y, raw, metres, xyz, mm, registered, unit, past)
