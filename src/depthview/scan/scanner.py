"""``Scanner``: frames in, a growing 3D model out (KinectFusion's loop on the CPU).

Each frame is tracked against the model raycast from the last good pose, then fused at the
pose found. After a gap in the frames (skipped or missing), ICP also starts from where the
camera would be had it kept its speed, and the start whose result pairs more of the frame
with the model wins: from the last pose alone, ICP can slide to a wrong minimum a few
centimetres off and fuse a second copy of the scene (trial AM D7).

A frame whose tracking fails (too few readings paired with the model, a jump
too large, a lone plane that leaves a motion free) is not fused; the next frames are
tracked from the last good pose again, so tracking resumes when the camera comes back
near it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..camera_models import Intrinsics, Registration
from ..frame import Frame
from ..geometry import KINECT_V1_DEPTH, colour_lines_up, point_cloud
from . import mesh as mesh_mod
from ._loops import K
from .params import ScanParams
from .tracking import IcpResult, extrapolated, levels, motion, pyramid, track
from .volume import BlockVolume, ModelView

F64 = npt.NDArray[np.float64]

#: A gap: the time since the last fused frame is at least this many of the last step's
#: (a frame or more missed at its pace; a steady pace, also of skipped frames, costs no
#: second start) and at most this many (a second at 30 frames a second).
GAP_STEPS = (1.5, 30.0)
#: A guess this far from the last pose (metres, degrees) is tried as a second ICP start.
GUESS_APART_M = 0.02
GUESS_APART_DEG = 2.0


@dataclass(frozen=True)
class Tracked:
    """What ``Scanner.add`` made of a frame: ``pose`` (4x4 camera to world; the last good
    pose when lost), whether tracking held (``ok``, and then the frame was fused), the RMS
    point-to-plane residual in metres, the share of the frame's readings paired with the
    model, and ``reason`` (empty when ok: why tracking was lost, with its figures) and
    ``loss``, its kind without figures (what a summary counts)."""

    pose: F64
    ok: bool
    residual_m: float
    inlier_share: float
    reason: str = ""
    timestamp: float = 0.0
    loss: str = ""


@dataclass(frozen=True)
class PoseStamp:
    """One frame's place on the trajectory."""

    timestamp: float
    pose: F64
    ok: bool


class Scanner:
    """Build a model from depth frames of a moving camera.

    ``intrinsics`` are the depth camera's (the source's); with a ``registration`` (a
    Kinect's or a recording's device.json) depth becomes metres and colour is mapped onto
    depth as libfreenect does. Without one, colour is taken as is where it lines up with
    the depth (``video_aligned``: the demo; or registered depth: ``colour_lines_up``, the
    rule export's clouds follow), else left out (``colour_left_out`` says so):
    7-Scenes' colour taken pixel for pixel coloured each vertex from a pixel 2.5 cm off.
    ``for_source`` takes ``video_aligned`` from the source; frames given directly are
    taken as aligned (the caller's own).
    """

    def __init__(
        self,
        params: ScanParams | None = None,
        *,
        intrinsics: Intrinsics | None = None,
        registration: Registration | None = None,
        first_pose: F64 | None = None,
        video_aligned: bool = True,
    ) -> None:
        self.params = params or ScanParams()
        self.video_aligned = video_aligned
        self.intrinsics = intrinsics
        self.registration = registration
        self._first_pose = np.eye(4) if first_pose is None else np.array(first_pose, float)
        p = self.params
        self.volume = BlockVolume(
            p.voxel_m, p.truncation_m, p.max_weight, max_bytes=p.max_volume_mb * 1e6
        )
        self.reset()

    @classmethod
    def for_source(cls, source: Any, params: ScanParams | None = None) -> Scanner:
        """A scanner for ``source``'s camera: its intrinsics, and its registration unless its
        video is already aligned with depth."""
        aligned = bool(getattr(source, "video_aligned", False))
        registration = None if aligned else source.registration
        return cls(
            params,
            intrinsics=source.intrinsics,
            registration=registration,
            video_aligned=aligned,
        )

    def reset(self) -> None:
        """Forget the model and the trajectory."""
        self.volume.reset()
        self.trajectory: list[PoseStamp] = []
        self.last_good: F64 = self._first_pose.copy()
        self.last_good_time = 0.0
        #: The fused frame before the last good one (its time and pose): the camera's speed.
        self.before_last_good: tuple[float, F64] | None = None
        self.fused = 0
        self.lost = 0
        #: The lost frames by kind (``Tracked.loss``): what the scan's last line counts, the
        #: same whether the frames came to a batch scan or to the window (trial AM D4).
        self.lost_why: Counter[str] = Counter()
        #: Whether a fused frame brought colour (else the mesh's colours are no colour).
        self.coloured = False
        #: Why a frame's colour was left out ("" when none was): it does not line up with
        #: the frame's depth and no registration maps it (``colour_lines_up``), or it is
        #: another size than the depth.
        self.colour_left_out = ""
        self.last: Tracked | None = None
        #: The last frame ``add`` took, as it took it (metres, colours, intrinsics): what the
        #: scan window draws from, rather than converting the frame again.
        self.last_input: tuple[npt.NDArray[np.float32], Any, Intrinsics] | None = None

    # -- input ----------------------------------------------------------------------------
    def metres(self, frame: Frame) -> tuple[npt.NDArray[np.float32], Any, Intrinsics]:
        """A frame's depth in metres (NaN: no reading or out of range), its colours on the
        depth pixels (or None) and the intrinsics they go with."""
        video = frame.video
        if video is not None and video.shape[:2] != frame.depth.shape:  # (trial AM D5: a
            h, w = video.shape[:2]  # traceback)
            self.colour_left_out = self.colour_left_out or (
                f"a {w}x{h} colour image, not the depth's "
                f"{frame.depth.shape[1]}x{frame.depth.shape[0]}"
            )
            video = None
        if self.registration is not None and frame.depth.shape == (480, 640):
            cloud = point_cloud(
                frame.depth,
                depth_format=frame.depth_format,
                video=video,
                organized=True,
                registration=self.registration,
            )
            k = self.registration.depth_intrinsics()
        else:
            h, w = frame.depth.shape
            # A source's intrinsics are already for its depth's size (``Source.intrinsics``):
            # only the Kinect's defaults are scaled to it (scaling again put a 10x10
            # frame's readings hundreds of metres apart).
            k = self.intrinsics if self.intrinsics is not None else KINECT_V1_DEPTH.for_size(w, h)
            # IR (2-D) is the depth camera's own picture; colour must line up (trial AI D1)
            lined_up = colour_lines_up(self.video_aligned, frame.depth_format)
            if video is not None and video.ndim == 3 and not lined_up:
                video = None
                self.colour_left_out = self.colour_left_out or (
                    "its colour does not line up with its depth, and it has no registration "
                    "to align them"
                )
            cloud = point_cloud(
                frame.depth,
                depth_format=frame.depth_format,
                video=video,
                organized=True,
                intrinsics=k,
            )
        z = np.ascontiguousarray(cloud.points[:, :, 2])
        p = self.params
        z[~((z >= p.depth_min_m) & (z <= p.depth_max_m))] = np.nan
        rgb = None if cloud.colors is None else np.ascontiguousarray(cloud.colors)
        return z, rgb, k

    def add(self, frame: Frame) -> Tracked:
        """Track ``frame`` and, when tracking holds, fuse it."""
        z, rgb, k = self.last_input = self.metres(frame)
        return self.add_metres(z, rgb, k, frame.timestamp)

    def add_metres(
        self,
        z: npt.NDArray[np.float32],
        rgb: npt.NDArray[np.uint8] | None,
        k: Intrinsics,
        timestamp: float = 0.0,
    ) -> Tracked:
        """``add`` for depth already in metres (NaN: no reading) and aligned colours."""
        p = self.params
        p.check_levels(z.shape[1], z.shape[0])  # a few integer steps: the frames' own size
        readings = int(np.count_nonzero(z > 0))
        if readings < 0.05 * z.size:
            return self._lost("too few readings", timestamp, kind="too few readings")
        if self.fused == 0:
            pose = self.last_good
            result = IcpResult(pose, 0.0, 1.0, math.inf, readings)
        else:
            guess = self._guess(timestamp)
            starts = [self.last_good] if guess is None else [guess, self.last_good]
            view, vk, vpose = self._raycast(
                z, k, self.last_good, hinted=guess is None and (self.last is None or self.last.ok)
            )
            frame_levels = pyramid(z, k, p)
            tried = [(track(frame_levels, view, vk, vpose, s, p), s) for s in starts]
            result, start = max(tried, key=lambda rs: (rs[0].inlier_share, -rs[0].residual_m))
            kind, reason = self._judge(result, start)
            if reason:
                return self._lost(reason, timestamp, result, kind=kind)
            pose = result.pose
        self.volume.integrate(z, rgb, k, pose, stride=self._allocation_stride(k))
        self.coloured = self.coloured or rgb is not None
        if self.fused:
            self.before_last_good = (self.last_good_time, self.last_good)
        self.last_good, self.last_good_time = pose, timestamp
        self.fused += 1
        tracked = Tracked(pose, True, result.residual_m, result.inlier_share, "", timestamp)
        self.trajectory.append(PoseStamp(timestamp, pose, True))
        self.last = tracked
        return tracked

    def _allocation_stride(self, k: Intrinsics) -> int:
        """Every how many pixels the blocks a frame touches are looked for: pixels at most a
        third of a block apart at the farthest reading (3 on 640x480 at 1 cm voxels and
        4 m), so that no block with readings in it is passed over, bar slivers at edges,
        which the next frames fill."""
        p = self.params
        block_m = p.voxel_m * K.B
        return max(1, int(block_m * min(k.fx, k.fy) / (3 * p.depth_max_m)))

    def _guess(self, timestamp: float) -> F64 | None:
        """Where the camera would be at ``timestamp`` had it kept the speed of the last two
        fused frames, after a gap (``GAP_STEPS``) that took it far enough from the last good
        pose to be worth a second ICP start; None otherwise, or when times do not tell."""
        if self.before_last_good is None:
            return None
        t0, pose0 = self.before_last_good
        step = self.last_good_time - t0
        share = (timestamp - self.last_good_time) / step if step > 0 else math.nan
        if not GAP_STEPS[0] <= share <= GAP_STEPS[1]:  # NaN too
            return None
        guess = extrapolated(pose0, self.last_good, share)
        metres, degrees = motion(self.last_good, guess)
        return guess if metres > GUESS_APART_M or degrees > GUESS_APART_DEG else None

    def _judge(self, r: IcpResult, start: F64) -> tuple[str, str]:
        """Why ``r`` is not to be fused: (its kind, the reason with figures); empty if it is.
        A jump is measured from where tracking started (the motion not expected)."""
        p = self.params
        if r.inlier_share < p.min_inlier_share:
            return "too few on the model", f"{r.inlier_share:.0%} of readings on the model"
        metres, degrees = motion(start, r.pose)
        if metres > p.max_jump_m or degrees > p.max_jump_deg:
            return "a jump", f"jump of {metres:.2f} m, {degrees:.0f} degrees"
        if r.constraint < p.min_constraint:
            return "a lone surface", "a lone surface leaves the motion free"
        return "", ""

    def _lost(
        self, reason: str, timestamp: float, r: IcpResult | None = None, *, kind: str = ""
    ) -> Tracked:
        self.lost += 1
        self.lost_why[kind or reason] += 1
        tracked = Tracked(
            self.last_good.copy(),
            False,
            math.inf if r is None else r.residual_m,
            0.0 if r is None else r.inlier_share,
            reason,
            timestamp,
            kind or reason,
        )
        self.trajectory.append(PoseStamp(timestamp, self.last_good.copy(), False))
        self.last = tracked
        return tracked

    def _raycast(
        self, z: npt.NDArray[np.float32], k: Intrinsics, pose: F64, hinted: bool
    ) -> tuple[ModelView, Intrinsics, F64]:
        """The model from ``pose`` at the finest tracking level's size; ``hinted``: the rays
        only search near the frame's own readings (the camera moved little since the last
        frame; after a lost frame it may have moved more, and the whole ray is searched)."""
        p = self.params
        hint, vk = levels(z, k, p.track_width)
        h, w = hint.shape
        view = self.volume.raycast(
            vk,
            w,
            h,
            pose,
            p.depth_min_m,
            p.depth_max_m + p.truncation_m,
            hint if hinted else None,
            colours=False,
        )
        return view, vk, pose

    # -- output ---------------------------------------------------------------------------
    def view(
        self, pose: F64 | None, k: Intrinsics, width: int, height: int, farther_m: float = 0.0
    ) -> ModelView:
        """The model from ``pose`` (the last good pose by default), for display; the rays
        reach ``farther_m`` past the depth range (an eye moved back from the camera)."""
        p = self.params
        return self.volume.raycast(
            k,
            width,
            height,
            self.last_good if pose is None else pose,
            p.depth_min_m,
            p.depth_max_m + p.truncation_m + max(0.0, farther_m),
        )

    def mesh(self) -> mesh_mod.Mesh:
        """The model's surface: vertices, triangles and vertex colours."""
        return mesh_mod.extract(self.volume)

    def points(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
        """The voxels on the surface (within a quarter truncation) and their colours."""
        pts = self.volume.surface_points()
        return pts, self.volume.colours_at(pts)
