"""The scanner's parameters, with their units and defaults, in one place."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

#: Voxel sizes a scan takes (m): finer than 1 mm is far below a Kinect's noise and takes
#: minutes a frame; coarser than 20 cm is no model of a room.
VOXEL_RANGE_M = (0.001, 0.2)
#: The truncation band's bounds: a band wider than this many voxels, or than 1 m, smears
#: surfaces together and allocates blocks without end.
MAX_TRUNCATION_VOXELS = 16
MAX_TRUNCATION_M = 1.0
#: A tracking level moves the camera only with at least this many pixels that have a
#: right and a lower neighbour (where its normals are): ICP solves for 6 unknowns.
MIN_LEVEL_NORMALS = 6
#: A frame is halved towards ``track_width`` only while it stays this wide.
MIN_FINEST_WIDTH = 16
#: ICP iterations per level by default (40x30, 80x60, 160x120 on 640x480 input).
DEFAULT_ICP_ITERATIONS = (6, 4, 3)


class TooManyLevels(ValueError):
    """More ``icp_iterations`` levels than the frames can be tracked at."""


class FramesTooSmall(TooManyLevels):
    """Frames too small to hold one tracking level: the source's fault, not the levels'
    (trial AQ D3: a 2x2 frame was said as ``--icp-iterations``, an option not given)."""


def tracking_size(width: int, height: int, track_width: int) -> tuple[int, int]:
    """The finest tracking level's size for frames of ``width`` x ``height``: halved
    while wider than ``track_width`` and at least twice ``MIN_FINEST_WIDTH``."""
    while width > track_width and width >= 2 * MIN_FINEST_WIDTH:
        width, height = width // 2, height // 2
    return width, height


def levels_held(width: int, height: int) -> int:
    """How many tracking levels an image of ``width`` x ``height`` holds: each level halves
    the one before, and a level with too few normals (``MIN_LEVEL_NORMALS``) cannot move
    the camera (trial AK D1: a 160x120 image halved to 2x1 left the camera still while
    every frame was fused)."""
    n = 0
    while (width - 1) * (height - 1) >= MIN_LEVEL_NORMALS:
        n, width, height = n + 1, width // 2, height // 2
    return n


@dataclass(frozen=True)
class ScanParams:
    """What a scan is made with; every length is in metres.

    The defaults are KinectFusion's for a Kinect v1 at room scale: 1 cm voxels, a 4 cm
    truncation band (about the sensor's noise at 3 m, twice over), readings between 0.4 m
    and 4 m (beyond, the disparity steps exceed the voxel), tracking at 40x30, 80x60 and
    160x120 (coarsest first) against the model seen at 160x120.
    """

    voxel_m: float = 0.01
    truncation_m: float = 0.04
    depth_min_m: float = 0.4
    depth_max_m: float = 4.0
    #: ICP iterations per pyramid level, coarsest first (each level halves the one after).
    icp_iterations: tuple[int, ...] = DEFAULT_ICP_ITERATIONS
    #: The finest tracking level's width: 160 tracks at 160x120 on 640x480 input (as
    #: accurate as 320x240 on a real Kinect sequence here, and a quarter of the work).
    track_width: int = 160
    #: Corresponding points farther apart than this are not paired (the finest level;
    #: coarser levels allow twice as far per level).
    icp_max_dist_m: float = 0.05
    #: Normals more than this many degrees apart are not paired (wider than KinectFusion's
    #: 20: at 3 m a Kinect's disparity steps are 2.5 cm, which tilts neighbour normals).
    icp_max_angle_deg: float = 60.0
    #: Tracking is lost below this share of the frame's readings paired with the model...
    min_inlier_share: float = 0.3
    #: ... or when the camera would move more than this between two frames (m, degrees) ...
    max_jump_m: float = 0.15
    max_jump_deg: float = 15.0
    #: ... or when the surfaces seen leave a direction of motion unconstrained (a lone wall):
    #: the smallest eigenvalue of the translation's normal equations per paired point.
    min_constraint: float = 0.02
    #: A voxel's weight stops growing here, so the model follows a changing scene.
    max_weight: float = 64.0
    #: The volume's memory budget (MB): a scan that would need more stops there, in one
    #: line, rather than take the machine's memory (a 5 m x 5 m room at 1 cm needs about
    #: 380 MB of blocks, twice that with the pool's spare room).
    max_volume_mb: float = 2000.0

    def __post_init__(self) -> None:
        def positive(name: str, value: float) -> None:
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name}: expected a positive number, got {value!r}")

        for name in (
            "voxel_m",
            "truncation_m",
            "depth_min_m",
            "depth_max_m",
            "icp_max_dist_m",
            "max_jump_m",
            "max_jump_deg",
            "max_weight",
            "max_volume_mb",
        ):
            positive(name, getattr(self, name))
        if not (VOXEL_RANGE_M[0] <= self.voxel_m <= VOXEL_RANGE_M[1]):
            raise ValueError(
                f"voxel_m: expected {VOXEL_RANGE_M[0]:g} to {VOXEL_RANGE_M[1]:g} m "
                f"(1 mm to 20 cm), got {self.voxel_m:g}"
            )
        most = min(MAX_TRUNCATION_VOXELS * self.voxel_m, MAX_TRUNCATION_M)
        if self.truncation_m > most:
            raise ValueError(
                f"truncation_m: expected at most {most:g} m ({MAX_TRUNCATION_VOXELS} voxels "
                f"and {MAX_TRUNCATION_M:g} m), got {self.truncation_m:g}"
            )
        if self.truncation_m < 2 * self.voxel_m:
            raise ValueError(
                f"truncation_m: expected at least twice voxel_m ({2 * self.voxel_m:g} m), "
                f"got {self.truncation_m:g}"
            )
        if self.depth_max_m <= self.depth_min_m:
            raise ValueError(
                f"depth_max_m: expected more than depth_min_m ({self.depth_min_m:g} m), "
                f"got {self.depth_max_m:g}"
            )
        iters = self.icp_iterations
        if (
            not isinstance(iters, tuple)
            or not iters
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in iters)
            or sum(iters) == 0
        ):
            raise ValueError(
                "icp_iterations: expected whole numbers >= 0 per level, coarsest first, "
                f"not all 0, got {iters!r}"
            )
        if not (isinstance(self.track_width, int) and 16 <= self.track_width <= 640):
            raise ValueError(f"track_width: expected 16 to 640 pixels, got {self.track_width!r}")
        # At most what a track_width-wide image of any height holds; the frames' own size
        # is checked when the first comes (``check_levels``).
        self.check_levels(self.track_width, 1 << 30)
        if not (0 <= self.min_inlier_share < 1):
            raise ValueError(
                f"min_inlier_share: expected a share in [0, 1), got {self.min_inlier_share!r}"
            )
        if not (0 < self.icp_max_angle_deg <= 90):
            raise ValueError(
                f"icp_max_angle_deg: expected 0 < degrees <= 90, got {self.icp_max_angle_deg!r}"
            )
        if not (self.min_constraint >= 0 and math.isfinite(self.min_constraint)):
            raise ValueError(f"min_constraint: expected a number >= 0, got {self.min_constraint!r}")

    def check_levels(self, width: int, height: int) -> None:
        """Refuse more ``icp_iterations`` levels than frames of ``width`` x ``height``
        can be tracked at (``levels_held`` of their finest tracking level). The defaults
        stay usable on small frames (a 10x10 one: its 2x2 level does nothing, the two
        finer ones track) unless no level the frames hold has iterations."""
        w, h = tracking_size(width, height, self.track_width)
        held = levels_held(w, h)
        if held == 0:
            raise FramesTooSmall(
                "expected frames big enough to track ((width - 1) x (height - 1) >= "
                f"{MIN_LEVEL_NORMALS}, as 4x3), got {width}x{height}"
            )
        iters = self.icp_iterations
        held_idle = sum(iters[len(iters) - held :]) == 0 if held else True
        if len(iters) > held and (iters != DEFAULT_ICP_ITERATIONS or held_idle):
            size = (
                f"a {w}-px-wide tracking image holds at most {held}"
                if h >= 1 << 29
                else f"the frames are tracked at {w}x{h}, which holds {held}"
            )
            raise TooManyLevels(
                f"icp_iterations: expected at most {held} levels (each halves the one after; "
                f"{size}), got {len(self.icp_iterations)}: "
                f"{','.join(map(str, self.icp_iterations))}"
            )

    def as_dict(self) -> dict[str, Any]:
        """The parameters as JSON-ready values (what ``depthview scan`` writes beside OUT)."""
        out = asdict(self)
        out["icp_iterations"] = list(self.icp_iterations)
        return out

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))
