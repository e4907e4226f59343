"""The demo room's still part seen from a moving camera along a known path: the scanner's
test bed, where the true poses and the true surfaces are known.

Pure numpy, no I/O. The room of ``scene`` (without the person and the ball) is ray-cast
from any pose (camera to world, the demo camera's frame at the identity: x right, y down,
z forward) and goes through the same sensor model as the demo (``DemoScene.sense``: IR
shadows, range, ragged edges, disparity steps and noise). ``distance_to_room`` is the
exact distance from points to the room's surfaces, for judging a reconstruction.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .frame import DEPTH_HEIGHT, DEPTH_WIDTH
from .geometry import unprojection_grid
from .scene import (
    ALBEDO,
    BOXES,
    CORRIDOR_Z,
    DOOR,
    LABEL_IDS,
    ROOM,
    DemoScene,
    _normals,
    _shade,
)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


def walk_pose(index: int, fps: float = 30.0) -> F64:
    """The camera's pose (camera to world) at frame ``index`` of the walk: a slow loop of
    about 60 cm side to side and 30 cm forward, panning +-17 degrees and tilting +-6 as a
    hand-held camera would, one loop in 12 seconds."""
    t = index / fps
    phase = 2 * math.pi * t / 12.0
    x = 0.3 * math.sin(phase)
    y = -0.05 + 0.05 * math.sin(2 * phase)
    z = 0.15 - 0.15 * math.cos(phase)
    yaw = math.radians(17.0) * math.sin(phase + 0.6)
    pitch = math.radians(6.0) * math.sin(2 * phase + 1.0)
    cy, sy, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch)
    r_yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    r_pitch = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    pose = np.eye(4)
    pose[:3, :3] = r_yaw @ r_pitch
    pose[:3, 3] = (x, y, z)
    return pose


def _planes(o: F64, d: F32) -> list[tuple[F32, str]]:
    """Hits (ray parameter, inf: miss) on the room's floor, ceiling and walls."""
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis, value, name in (
            (1, ROOM["floor_y"], "floor"),
            (1, ROOM["ceiling_y"], "ceiling"),
            (0, ROOM["left_x"], "side_wall"),
            (0, ROOM["right_x"], "side_wall"),
        ):
            t = (value - o[axis]) / d[..., axis]
            out.append((np.where(t > 0, t, np.inf).astype(np.float32), name))
    return out


def _box(
    o: F64, d: F32, xs: tuple[float, float], ys: tuple[float, float], zs: tuple[float, float]
) -> F32:
    """Where rays o + t d first enter an axis-aligned box (t), inf where they miss."""
    near = np.full(d.shape[:-1], -np.inf, dtype=np.float32)
    far = np.full(d.shape[:-1], np.inf, dtype=np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis, (lo, hi) in enumerate((xs, ys, zs)):
            t0 = (lo - o[axis]) / d[..., axis]
            t1 = (hi - o[axis]) / d[..., axis]
            near = np.maximum(near, np.nan_to_num(np.minimum(t0, t1), nan=-np.inf))
            far = np.minimum(far, np.nan_to_num(np.maximum(t0, t1), nan=np.inf))
    hit = (near <= far) & (near > 0)
    return np.where(hit, near, np.inf).astype(np.float32)


def _surfaces() -> tuple[npt.NDArray[np.generic], ...]:
    """The room as arrays for the compiled ray cast: the planes (axis, value) and their
    labels, the back wall with its door, and the boxes (lo, hi per axis) and their labels."""
    planes = [
        (1, ROOM["floor_y"], "floor"),
        (1, ROOM["ceiling_y"], "ceiling"),
        (0, ROOM["left_x"], "side_wall"),
        (0, ROOM["right_x"], "side_wall"),
    ]
    (dx0, dx1), (dy0, dy1) = DOOR
    back = (ROOM["back_z"], CORRIDOR_Z, dx0, dx1, dy0, dy1)
    return (
        np.array([(axis, value) for axis, value, _ in planes], np.float64),
        np.array([LABEL_IDS[name] for _, _, name in planes], np.int64),
        np.array([*back, LABEL_IDS["back_wall"], LABEL_IDS["corridor"]], np.float64),
        np.array([(xs, ys, zs) for _, xs, ys, zs in BOXES], np.float64),
        np.array([LABEL_IDS[name] for name, *_ in BOXES], np.int64),
    )


_SURFACES = _surfaces()


class WalkScene:
    """Frame ``index`` of the still room seen along ``walk_pose``; deterministic per seed."""

    def __init__(
        self, seed: int = 0, width: int = DEPTH_WIDTH, height: int = DEPTH_HEIGHT, fps: float = 30.0
    ) -> None:
        self.fps = fps
        self.sensor = DemoScene(seed=seed, width=width, height=height, fps=fps)
        self.intrinsics = self.sensor._intr
        self._a, self._b = unprojection_grid(height, width, self.intrinsics)

    def pose(self, index: int) -> F64:
        return walk_pose(index, self.fps)

    def true_depth(self, pose: F64) -> tuple[F32, npt.NDArray[np.int8]]:
        """Camera z of the room's surfaces from ``pose`` (inf: nothing) and their labels."""
        r, o = pose[:3, :3], pose[:3, 3]
        rays = np.stack([self._a, self._b, np.ones_like(self._a)], axis=-1)
        d = (rays @ r.T.astype(np.float32)).astype(np.float32)  # per unit of camera z
        z = np.full(self._a.shape, np.inf, dtype=np.float32)
        label = np.zeros(self._a.shape, dtype=np.int8)
        loops = self.sensor._loops  # as the demo's: only where numba is loaded already
        if loops is not None:
            loops.walk_surfaces(np.asarray(o, np.float64), d, *_SURFACES, z, label)
            return z, label

        def put(hit: F32, name: str) -> None:
            closer = hit < z
            z[closer] = hit[closer]
            label[closer] = LABEL_IDS[name]

        for hit, name in _planes(o, d):
            put(hit, name)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = ((ROOM["back_z"] - o[2]) / d[..., 2]).astype(np.float32)
        t = np.where(t > 0, t, np.inf).astype(np.float32)
        x_back, y_back = o[0] + t * d[..., 0], o[1] + t * d[..., 1]
        (dx0, dx1), (dy0, dy1) = DOOR
        door = (x_back > dx0) & (x_back < dx1) & (y_back > dy0) & (y_back < dy1)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_corridor = ((CORRIDOR_Z - o[2]) / d[..., 2]).astype(np.float32)
        t = np.where(door, t_corridor, t).astype(np.float32)
        put(t, "back_wall")
        label[door & (z == t)] = LABEL_IDS["corridor"]
        for name, xs, ys, zs in BOXES:
            put(_box(o, d, xs, ys, zs), name)
        return z, label

    def render(self, index: int) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint8], F32]:
        """Raw 11-bit depth, RGB (aligned with depth) and true camera z of frame ``index``."""
        return self.render_at(self.pose(index), index)

    def render_at(
        self, pose: F64, index: int = 0
    ) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint8], F32]:
        """``render`` from any pose (``index`` picks the noise)."""
        z, label = self.true_depth(pose)
        depth = self.sensor.sense(z, index, screen=label == LABEL_IDS["screen"])
        albedo = ALBEDO[label]
        rgb = _shade(albedo, _normals(self._a, self._b, z), z)
        return depth, rgb, z


def distance_to_room(points: F64) -> F64:
    """Each point's distance to the nearest surface of the still room (its planes and
    boxes, the corridor's far wall), in metres."""
    p = np.asarray(points, dtype=np.float64)
    best = np.full(p.shape[0], np.inf)
    room = ROOM
    (dx0, dx1), (dy0, dy1) = DOOR
    walls = [
        np.abs(p[:, 1] - room["floor_y"]),
        np.abs(p[:, 1] - room["ceiling_y"]),
        np.abs(p[:, 0] - room["left_x"]),
        np.abs(p[:, 0] - room["right_x"]),
    ]
    back = np.abs(p[:, 2] - room["back_z"])
    in_door = (p[:, 0] > dx0) & (p[:, 0] < dx1) & (p[:, 1] > dy0) & (p[:, 1] < dy1)
    back[in_door] = np.inf
    walls.append(back)
    for w in walls:
        best = np.minimum(best, w)
    for _name, xs, ys, zs in BOXES:
        lo = np.array([xs[0], ys[0], zs[0]])
        hi = np.array([xs[1], ys[1], zs[1]])
        outside = np.maximum(np.maximum(lo - p, p - hi), 0.0)
        d_out = np.linalg.norm(outside, axis=1)
        inside = np.minimum(p - lo, hi - p).min(axis=1)
        best = np.minimum(best, np.where(d_out > 0, d_out, np.abs(inside)))
    return best
