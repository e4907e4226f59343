"""Disparity transform: depth to librealsense's float disparity and back.

librealsense smooths in disparity (inverse depth), where a stereo camera's error is even:
``d = baseline_m * focal_px * 32 / depth_units / z`` (1/32 pixel units, float32), and
back ``z = (uint16)(factor / d + 0.5)``. Every step is float32, in librealsense's order. For a
Kinect the baseline (IR camera to projector, 7.5 cm) and the focal length (about 580 px)
come from the source's registration unless given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .base import DISPARITY, Z16, Depth, Filter, check_depth, check_out, kernels, number
from .threshold import MM_UNITS

if TYPE_CHECKING:
    from ..registration import Registration


def kinect_baseline_focal(registration: Registration | None = None) -> tuple[float, float]:
    """(baseline mm, focal px) of a Kinect v1 from its registration (the default one when
    None): IR camera to projector, and the depth image's focal length."""
    from ..registration import Registration

    reg = registration if registration is not None else Registration.default()
    baseline_mm = float(reg.zero_plane_info.dcmos_emitter_dist) * 10.0
    return baseline_mm, float(reg.depth_intrinsics().fx)


def convert_factor(baseline_mm: float, focal_px: float) -> np.float32:
    """librealsense's d2d_convert_factor: (baseline_mm * 0.001f * fx * 32) / 0.001f in float32."""
    baseline_m = np.float32(baseline_mm) * np.float32(0.001)
    return np.float32(baseline_m * np.float32(focal_px) * np.float32(32)) / MM_UNITS


class DisparityTransform(Filter):
    """z16 millimetres to float32 disparity (``to_disparity=True``) or back (False)."""

    def __init__(
        self,
        to_disparity: bool = True,
        baseline_mm: float | None = None,
        focal_px: float | None = None,
    ) -> None:
        if not isinstance(to_disparity, (bool, np.bool_)) and to_disparity not in (0, 1):
            raise ValueError(f"expected to_disparity as True or False, got {to_disparity!r}")
        self.to_disparity = bool(to_disparity)
        base, focal = (None, None)
        if baseline_mm is None or focal_px is None:
            base, focal = kinect_baseline_focal()
        self.baseline_mm = number(
            base if baseline_mm is None else baseline_mm, "baseline_mm", 1e-3, 1e4
        )
        self.focal_px = number(focal if focal_px is None else focal_px, "focal_px", 1e-3, 1e6)
        self.factor = convert_factor(self.baseline_mm, self.focal_px)

    @property
    def name(self) -> str:  # type: ignore[override]
        return "disparity" if self.to_disparity else "depth"

    def params(self) -> dict[str, Any]:
        return {"baseline_mm": self.baseline_mm, "focal_px": self.focal_px}

    def fresh(self) -> Filter:
        return DisparityTransform(self.to_disparity, self.baseline_mm, self.focal_px)

    def __repr__(self) -> str:
        return (
            f"DisparityTransform(to_disparity={self.to_disparity}, "
            f"baseline_mm={self.baseline_mm!r}, focal_px={self.focal_px!r})"
        )

    def __call__(self, depth: Depth, *, out: Depth | None = None) -> Depth:
        if self.to_disparity:
            arr = check_depth(depth, "to disparity", (Z16,))
            dst = check_out(out, "to disparity", arr.shape, DISPARITY)
            if dst is None:
                dst = np.empty(arr.shape, dtype=np.float32)
            kernels().to_disparity(self.factor, arr, dst)
            return dst
        arr = check_depth(depth, "to depth", (DISPARITY,))
        dst = check_out(out, "to depth", arr.shape, Z16)
        if dst is None:
            dst = np.empty(arr.shape, dtype=np.uint16)
        kernels().to_depth(self.factor, arr, dst)
        return dst
