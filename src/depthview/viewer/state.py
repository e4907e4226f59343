"""Everything the user can change in the viewer, as plain data apart from the window.

``ViewState`` is what the key and mouse actions (``actions``) change and what the renderer
and the overlays read; nothing here touches pygame, a source or the disk, so a test builds
one, applies actions to it and checks the result without opening a window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..filters import PRESETS
from ..frame import VideoFormat
from .layout import Layout

#: Where the 3D view's pivot sits on reset: this far in front of the Kinect (metres).
PIVOT_DISTANCE = 2.0
#: The 3D view's point sizes, in footprints of a depth pixel as seen from the eye.
POINT_SIZES = (1.0, 1.5, 2.0, 3.0, 4.0)
#: Degrees the 3D view turns per pixel of drag.
ORBIT_DEG_PER_PIXEL = 0.3
#: The eye's distance to the pivot is multiplied by this per wheel notch towards it.
ZOOM_PER_NOTCH = 0.9
#: The eye comes no closer to the pivot than this (metres).
MIN_DISTANCE = 0.05
#: Nor goes farther than this: ten times a Kinect's range (trial AA: zooming out without
#: end overflowed into a 200-digit distance and numpy's warnings).
MAX_DISTANCE = 100.0


def wrap_yaw(degrees: float) -> float:
    """A yaw as the 3D view keeps and shows it: within -180..180 degrees (270 is -90)."""
    return (degrees + 180.0) % 360.0 - 180.0


@dataclass
class Camera3D:
    """The 3D view's virtual camera, orbiting a pivot point.

    Coordinates are the depth camera's (metres, x right, y down, z forward). ``yaw`` turns
    about the camera's vertical axis, ``pitch`` about its horizontal one (degrees); the eye
    sits ``distance`` behind the pivot along the viewing direction. The reset pose puts the
    eye at the Kinect itself looking straight ahead, so the cloud first appears exactly as
    the depth image does.
    """

    yaw: float = 0.0
    pitch: float = 0.0
    distance: float = PIVOT_DISTANCE
    pivot: tuple[float, float, float] = (0.0, 0.0, PIVOT_DISTANCE)
    point_size: float = 1.0
    guides: bool = True  # axes at the origin and the Kinect's frustum
    #: The pivot was set on the scene (its median point); False at the start and on reset.
    centred: bool = False

    def rotation(self) -> npt.NDArray[np.float64]:
        """3x3 matrix whose columns are the eye's right, down and forward axes."""
        y, p = math.radians(self.yaw), math.radians(self.pitch)
        turn = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
        tilt = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
        axes: npt.NDArray[np.float64] = turn @ tilt
        return axes

    def turn(self, dx: float, dy: float) -> None:
        """Orbit the pivot by a drag of (dx, dy) pixels: the scene turns with the pointer
        (yaw ``-dx``, pitch ``+dy`` times ``ORBIT_DEG_PER_PIXEL``, pitch within +-89)."""
        self.yaw = wrap_yaw(self.yaw - dx * ORBIT_DEG_PER_PIXEL)
        self.pitch = min(89.0, max(-89.0, self.pitch + dy * ORBIT_DEG_PER_PIXEL))

    def zoom(self, notches: int) -> None:
        """Move the eye towards the pivot (``notches`` > 0) or away, 10 % per notch, within
        ``MIN_DISTANCE`` .. ``MAX_DISTANCE``."""
        far = self.distance * ZOOM_PER_NOTCH ** max(notches, -1000)  # (no float overflow)
        self.distance = min(MAX_DISTANCE, max(MIN_DISTANCE, far))

    def eye(self) -> npt.NDArray[np.float64]:
        """Where the eye is, in metres."""
        return np.asarray(self.pivot, dtype=np.float64) - self.distance * self.rotation()[:, 2]


@dataclass(frozen=True, slots=True)
class MeasurePoint:
    """One end of a measurement: the depth pixel it came from and its point in metres."""

    pixel: tuple[int, int]
    xyz: tuple[float, float, float]


@dataclass
class ViewState:
    """What the user has chosen. Source-confirmed settings (flags, video format, IR
    brightness) change only once the source has accepted them."""

    palette: str = "glview"
    near: float | None = None
    far: float | None = None
    layout: Layout = Layout.BOTH
    hud: bool = True
    help: bool = False
    mirror: bool = False
    flip: bool = False  # the viewer mirrors the picture itself because the source cannot
    rotate: bool = False
    opacity: float = 0.5
    #: Line depth up with colour where the source has a registration (``registered``).
    registered: bool = True
    tilt: float = 0.0
    flags: dict[str, bool] = field(default_factory=dict)
    video_format: VideoFormat | None = None
    ir_brightness: int | None = None
    paused: bool = False
    mouse: tuple[int, int] | None = None  # window pixel under the pointer
    pinned: tuple[int, int] | None = None  # depth pixel pinned for the probe
    measuring: bool = False
    measure: list[MeasurePoint] = field(default_factory=list)
    camera: Camera3D = field(default_factory=Camera3D)
    seek_target: int | None = None  # frame a step or restart asked for, until shown
    seek_back: bool = False  # ... going back: a broken frame passed over lands before it
    recording: Path | None = None
    user_sized: bool = False  # the user sized the window: layouts keep its size
    #: Depth post-processing (``depthview.filters``): whether it runs, the ``--filter`` specs
    #: the preset key cycles through (a ``--filter`` given first), and which one is chosen.
    filters_on: bool = False
    filter_specs: tuple[str, ...] = tuple(PRESETS)
    filter_index: int = 0
    #: The layout to go back to when the split view is left.
    before_split: Layout | None = None
    message: str = ""
    message_until: float = 0.0
    quit: bool = False

    @property
    def filter_spec(self) -> str:
        """The chosen ``--filter`` spec (whether or not it runs)."""
        return self.filter_specs[self.filter_index % len(self.filter_specs)]

    def distance(self) -> float | None:
        """Metres between the two measured points, once both are set."""
        if len(self.measure) < 2:
            return None
        a, b = (np.asarray(p.xyz, dtype=np.float64) for p in self.measure[:2])
        return float(np.linalg.norm(a - b))
