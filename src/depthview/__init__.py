"""depthview: see what a Kinect sees, from Python.

Frames from any source as numpy arrays, exact and fast colour maps, raw-to-metres
conversion, and a desktop viewer::

    import depthview as dv

    with dv.open("demo") as src:
        for frame in src:
            rgb = dv.colorize(frame.depth)
            z = dv.to_metres(frame.depth)

librealsense's depth post-processing filters, bit for bit (``dv.filters``), and sinks for
Rerun and Foxglove (``dv.RerunSink``, ``dv.FoxgloveSink``, extras ``rerun`` and
``foxglove``), loaded on first use so ``import depthview`` never imports their SDKs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import filters as filters
from .camera_models import Distortion, StereoCalibration
from .colorize import Equalizer, colorize, colorize_packed, glview_table
from .datasets import ConvertSummary, convert
from .errors import (
    DepthviewError,
    ExportError,
    RecordingError,
    SinkError,
    SourceError,
    SourceTimeout,
    UnsupportedControl,
)
from .export import ExportSummary, export
from .frame import DepthFormat, Frame, LedMode, Record, Stamp, Stream, TiltState, VideoFormat
from .geometry import KINECT_V1_DEPTH, Intrinsics, PointCloud, point_cloud
from .palettes import PALETTES
from .recording import RecordingSummary, RecordingWriter, record
from .registration import Registration, map_rgb_to_depth, register, to_mm
from .sources import Source
from .sources import open as open
from .units import from_metres, to_metres

if TYPE_CHECKING:
    from .scan import Scanner, ScanParams, Tracked
    from .sinks.foxglove import FoxgloveSink
    from .sinks.rerun import RerunSink

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """The sinks and the scanner, imported on first use (``dv.RerunSink``,
    ``dv.FoxgloveSink``, ``dv.Scanner``: their extras are loaded only then)."""
    if name in ("RerunSink", "FoxgloveSink"):
        from . import sinks

        return getattr(sinks, name)
    if name in ("Scanner", "ScanParams", "Tracked"):
        from . import scan

        return getattr(scan, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: What ``from depthview import *`` brings in. ``open`` is left out on purpose, so a star
#: import never hides Python's built-in ``open``; use ``dv.open``.
__all__ = [
    "KINECT_V1_DEPTH",
    "PALETTES",
    "ConvertSummary",
    "DepthFormat",
    "DepthviewError",
    "Distortion",
    "Equalizer",
    "ExportError",
    "ExportSummary",
    "FoxgloveSink",
    "Frame",
    "Intrinsics",
    "LedMode",
    "PointCloud",
    "Record",
    "RecordingError",
    "RecordingSummary",
    "RecordingWriter",
    "Registration",
    "RerunSink",
    "ScanParams",
    "Scanner",
    "SinkError",
    "Source",
    "SourceError",
    "SourceTimeout",
    "Stamp",
    "StereoCalibration",
    "Stream",
    "TiltState",
    "Tracked",
    "UnsupportedControl",
    "VideoFormat",
    "__version__",
    "colorize",
    "colorize_packed",
    "convert",
    "export",
    "from_metres",
    "glview_table",
    "map_rgb_to_depth",
    "point_cloud",
    "record",
    "register",
    "to_metres",
    "to_mm",
]
