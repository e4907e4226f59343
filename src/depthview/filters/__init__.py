"""librealsense's depth post-processing filters, bit for bit, on numpy arrays.

The filters Intel's RealSense SDK offers (and people quote by their parameters), for any
depth in millimetres; a Kinect's raw depth goes in through ``dv.to_mm``::

    from depthview import filters as F

    mm = dv.to_mm(frame.depth, registration)
    chain = F.Chain([F.DisparityTransform(), F.Spatial(), F.Temporal(),
                     F.DisparityTransform(to_disparity=False), F.HoleFilling()])
    smooth = chain(mm)                    # uint16 mm, holes filled, steadier over time
    chain = F.parse_filter_spec("spatial:alpha=0.6,temporal")()   # the same, from a spec

Each filter takes uint16 depth (z16) or float32 disparity as librealsense does, returns a
new array (or writes ``out=``), and matches pyrealsense2 2.59 pixel for pixel (the tests
compare them); the few deliberate differences are listed in docs/DESIGN.md. The loops are
compiled with numba: filters need the ``fast`` extra.
"""

from __future__ import annotations

from .base import Filter, FilterError
from .chain import Chain
from .decimation import Decimation
from .disparity import DisparityTransform, kinect_baseline_focal
from .frames import depth_mm, filter_frame, filter_frames
from .holes import HoleFilling
from .spatial import Spatial
from .spec import PRESETS, FilterSpec, filters_argument, parse_filter_spec
from .temporal import Temporal
from .threshold import Threshold

__all__ = [
    "PRESETS",
    "Chain",
    "Decimation",
    "DisparityTransform",
    "Filter",
    "FilterError",
    "FilterSpec",
    "HoleFilling",
    "Spatial",
    "Temporal",
    "Threshold",
    "depth_mm",
    "filter_frame",
    "filter_frames",
    "filters_argument",
    "kinect_baseline_focal",
    "parse_filter_spec",
]
