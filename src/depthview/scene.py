"""A synthetic room as a Kinect v1 would see it: the demo source's renderer.

Pure numpy, no I/O. The room (floor, walls, a table, a chair, a cabinet, a television
and an open door) is ray-cast once; each frame adds what moves (a person walking, a ball
swinging towards the camera) inside its own bounding box only, then applies what the real
sensor does to depth:

- IR shadows: the projector sits 7.5 cm beside the IR camera, so background just beside a
  near edge is never lit and reads "no reading" (2047). It is on the left of near objects,
  as in real Kinect v1 frames.
- No reading closer than about 0.5 m or beyond about 8 m (the open door shows a corridor
  beyond range), nor on the glossy black television screen.
- A band of no reading along the right edge (the rightmost 8 columns).
- Ragged outlines: pixels on a depth edge drop out at random.
- Disparity quantisation (integer raw values) and temporal noise of about half a raw step.

The RGB image is rendered from the same viewpoint (registered), with Lambert shading.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import numpy.typing as npt

from ._compiled import optional
from .frame import DEPTH_HEIGHT, DEPTH_WIDTH, RAW_11BIT_INVALID
from .geometry import KINECT_V1_DEPTH, Intrinsics, unprojection_grid
from .units import kinect_raw, kinect_zero_plane

F32 = npt.NDArray[np.float32]

BASELINE_M = 0.075  # IR projector to IR camera
MIN_RANGE_M = 0.5
MAX_RANGE_M = 8.0
RIGHT_BAND_COLUMNS = 8
NOISE_RAW = 0.45  # standard deviation of temporal noise, in raw disparity steps
NOISE_FIELDS = 8
EDGE_JUMP_RAW = 6.0  # a step this large between neighbours is a depth edge
EDGE_DROPOUT = 0.45  # chance that a pixel on a depth edge reads nothing (ragged outlines)

# Surface labels, and their albedo for the RGB image.
LABELS = {
    "floor": (150, 111, 72),
    "ceiling": (235, 232, 225),
    "back_wall": (214, 204, 182),
    "side_wall": (199, 190, 170),
    "corridor": (120, 118, 110),
    "table": (122, 84, 50),
    "chair": (60, 70, 95),
    "cabinet": (225, 225, 228),
    "tv": (25, 25, 28),
    "screen": (10, 12, 18),
    "rug": (150, 40, 45),
    "shirt": (40, 110, 170),
    "trousers": (50, 50, 60),
    "skin": (224, 172, 140),
    "ball": (235, 160, 30),
}
LABEL_IDS = {name: i for i, name in enumerate(LABELS)}
ALBEDO = np.array(list(LABELS.values()), dtype=np.float32) / 255.0

# Axis-aligned boxes: label, (x0, x1), (y0, y1), (z0, z1); y points down, floor at y = 1.
BOXES: tuple[tuple[str, tuple[float, float], tuple[float, float], tuple[float, float]], ...] = (
    ("table", (-1.45, -0.45), (0.22, 0.27), (1.5, 2.2)),
    ("table", (-1.42, -1.36), (0.27, 1.0), (1.53, 1.59)),
    ("table", (-0.54, -0.48), (0.27, 1.0), (1.53, 1.59)),
    ("table", (-1.42, -1.36), (0.27, 1.0), (2.11, 2.17)),
    ("table", (-0.54, -0.48), (0.27, 1.0), (2.11, 2.17)),
    ("chair", (0.35, 0.85), (0.52, 0.57), (1.45, 1.9)),
    ("chair", (0.35, 0.85), (-0.05, 0.52), (1.85, 1.9)),
    ("chair", (0.36, 0.40), (0.57, 1.0), (1.46, 1.5)),
    ("chair", (0.80, 0.84), (0.57, 1.0), (1.46, 1.5)),
    ("chair", (0.36, 0.40), (0.57, 1.0), (1.85, 1.89)),
    ("chair", (0.80, 0.84), (0.57, 1.0), (1.85, 1.89)),
    ("cabinet", (1.25, 1.8), (-0.25, 1.0), (2.3, 3.0)),
    ("tv", (-1.0, 0.15), (-0.78, -0.12), (3.4, 3.5)),
    ("screen", (-0.96, 0.11), (-0.74, -0.16), (3.39, 3.4)),
    ("rug", (-0.9, 0.9), (0.985, 1.0), (1.0, 2.8)),
)
ROOM = {"floor_y": 1.0, "ceiling_y": -1.45, "back_z": 3.5, "left_x": -1.7, "right_x": 1.85}
DOOR = ((0.65, 1.35), (-0.95, 1.0))  # x and y extent of the open door in the back wall
CORRIDOR_Z = 9.5


@dataclass(frozen=True)
class Ellipsoid:
    """A moving part: centre and radii in metres, and its surface label."""

    label: str
    centre: tuple[float, float, float]
    radii: tuple[float, float, float]


def _box_hit(
    a: F32, b: F32, xs: tuple[float, float], ys: tuple[float, float], zs: tuple[float, float]
) -> F32:
    """z where rays (a, b, 1) from the origin first enter the box, inf where they miss."""
    with np.errstate(divide="ignore", invalid="ignore"):
        tx0, tx1 = xs[0] / a, xs[1] / a
        ty0, ty1 = ys[0] / b, ys[1] / b
    t_near = np.maximum(np.maximum(np.minimum(tx0, tx1), np.minimum(ty0, ty1)), zs[0])
    t_far = np.minimum(np.minimum(np.maximum(tx0, tx1), np.maximum(ty0, ty1)), zs[1])
    hit = (t_near <= t_far) & (t_near > 0)
    return np.where(hit, t_near, np.inf).astype(np.float32)


def _ellipsoid_hit(a: F32, b: F32, e: Ellipsoid) -> F32:
    """z where rays (a, b, 1) meet the ellipsoid, inf where they miss."""
    (cx, cy, cz), (rx, ry, rz) = e.centre, e.radii
    qa = (a / rx) ** 2 + (b / ry) ** 2 + 1.0 / rz**2
    qb = a * (cx / rx**2) + b * (cy / ry**2) + cz / rz**2
    qc = (cx / rx) ** 2 + (cy / ry) ** 2 + (cz / rz) ** 2 - 1.0
    disc = qb * qb - qa * qc
    with np.errstate(invalid="ignore"):
        t = (qb - np.sqrt(disc)) / qa
    return np.where(disc >= 0, t, np.inf).astype(np.float32)


def _normals(a: F32, b: F32, z: F32) -> F32:
    """Unit surface normals from the z-buffer (cross product of neighbouring points)."""
    p = np.stack([a * z, b * z, z], axis=-1)
    du = np.gradient(p, axis=1)
    dv = np.gradient(p, axis=0)
    n = np.cross(du, dv)
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-9)
    return n.astype(np.float32)


LIGHT = np.array([-0.35, -0.75, -0.55], dtype=np.float32)
LIGHT /= np.linalg.norm(LIGHT)


def _shade(albedo: F32, normals: F32, z: F32) -> npt.NDArray[np.uint8]:
    lambert = np.abs(normals @ LIGHT)
    light = 0.35 + 0.65 * lambert
    falloff = 1.0 / (1.0 + 0.04 * np.nan_to_num(z, posinf=10.0) ** 2)
    rgb = albedo * (light * (0.55 + 0.45 * falloff))[..., None]
    out: npt.NDArray[np.uint8] = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


class DemoScene:
    """Renders frame ``index`` of the demo room; deterministic for a given seed."""

    def __init__(
        self, seed: int = 0, width: int = DEPTH_WIDTH, height: int = DEPTH_HEIGHT, fps: float = 30.0
    ) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.seed = seed
        sx, sy = width / DEPTH_WIDTH, height / DEPTH_HEIGHT
        k = KINECT_V1_DEPTH
        self._intr = Intrinsics(fx=k.fx * sx, fy=k.fy * sy, cx=k.cx * sx, cy=k.cy * sy)
        self._a, self._b = unprojection_grid(height, width, self._intr)
        self._static_z, self._static_label = self._render_static()
        self._static_rgb = _shade(
            self._albedo(self._static_label, self._static_z),
            _normals(self._a, self._b, self._static_z),
            self._static_z,
        )
        rng = np.random.default_rng(seed)
        self._noise = rng.normal(0.0, NOISE_RAW, (NOISE_FIELDS, height, width)).astype(np.float32)
        self._ragged = rng.random((NOISE_FIELDS, height, width)) < EDGE_DROPOUT
        self._phase = float(rng.uniform(0, 2 * np.pi))
        self._u = np.arange(width, dtype=np.float32)
        self._screen = self._static_label == LABEL_IDS["screen"]
        self._fb = np.float32(self._intr.fx * BASELINE_M)
        self._owner = np.empty((height, width), np.int8)

    @property
    def _loops(self) -> ModuleType | None:
        """numba's loops (``_compiled``) where the process has loaded numba already (the
        viewer, the scanner): a short command (``record``, ``export``) would wait a second
        or more for numba's import before its first frame, and the frames are the same
        either way. Asked at each frame: ``DEPTHVIEW_NO_NUMBA`` applies from the next."""
        if "numba" not in sys.modules:
            return None
        return optional("_scene_numba")

    # -- the static room ------------------------------------------------------------------
    def _render_static(self) -> tuple[F32, npt.NDArray[np.int8]]:
        a, b = self._a, self._b
        z = np.full(a.shape, np.inf, dtype=np.float32)
        label = np.zeros(a.shape, dtype=np.int8)

        def put(hit: F32, name: str) -> None:
            closer = hit < z
            z[closer] = hit[closer]
            label[closer] = LABEL_IDS[name]

        with np.errstate(divide="ignore", invalid="ignore"):
            put(np.where(b > 0, ROOM["floor_y"] / b, np.inf).astype(np.float32), "floor")
            put(np.where(b < 0, ROOM["ceiling_y"] / b, np.inf).astype(np.float32), "ceiling")
            put(np.where(a < 0, ROOM["left_x"] / a, np.inf).astype(np.float32), "side_wall")
            put(np.where(a > 0, ROOM["right_x"] / a, np.inf).astype(np.float32), "side_wall")
        back = np.full(a.shape, ROOM["back_z"], dtype=np.float32)
        x_back, y_back = a * back, b * back
        (dx0, dx1), (dy0, dy1) = DOOR
        door = (x_back > dx0) & (x_back < dx1) & (y_back > dy0) & (y_back < dy1)
        back[door] = CORRIDOR_Z
        put(back, "back_wall")
        label[door & (z == CORRIDOR_Z)] = LABEL_IDS["corridor"]
        for name, xs, ys, zs in BOXES:
            put(_box_hit(a, b, xs, ys, zs), name)
        return z, label

    def _albedo(self, label: npt.NDArray[np.int8], z: F32) -> F32:
        albedo = ALBEDO[label]
        floor = label == LABEL_IDS["floor"]
        # Floorboards: a darker seam every 15 cm across the room.
        x = self._a[floor] * z[floor]
        seam = (np.mod(x, 0.15) < 0.008).astype(np.float32)
        albedo[floor] *= (1.0 - 0.25 * seam)[:, None]
        return albedo

    # -- what moves ------------------------------------------------------------------------
    def moving_parts(self, t: float) -> list[Ellipsoid]:
        """The person and the ball at time ``t`` seconds."""
        walk = np.sin(2 * np.pi * t / 9.0 + self._phase)
        px, pz = 0.8 * walk, 1.9 + 0.3 * np.cos(2 * np.pi * t / 9.0 + self._phase)
        stride = 0.12 * np.sin(2 * np.pi * t / 1.1)
        swing = np.sin(2 * np.pi * t / 4.0)  # the ball is nearest (0.45 m) at t = 2 s
        return [
            Ellipsoid("shirt", (px, -0.02, pz), (0.21, 0.4, 0.13)),
            Ellipsoid("skin", (px, -0.52, pz), (0.1, 0.12, 0.11)),
            Ellipsoid("trousers", (px - 0.09, 0.62, pz + stride), (0.08, 0.39, 0.08)),
            Ellipsoid("trousers", (px + 0.09, 0.62, pz - stride), (0.08, 0.39, 0.08)),
            Ellipsoid("skin", (px - 0.27, 0.05 - 0.05 * stride, pz - stride), (0.05, 0.3, 0.05)),
            Ellipsoid("skin", (px + 0.27, 0.05 + 0.05 * stride, pz + stride), (0.05, 0.3, 0.05)),
            Ellipsoid(
                "ball",
                (0.45 * swing, 0.05 + 0.2 * abs(swing), 1.0 + 0.55 * np.cos(2 * np.pi * t / 4.0)),
                (0.1, 0.1, 0.1),
            ),
        ]

    def _bbox(self, e: Ellipsoid) -> tuple[slice, slice] | None:
        (cx, cy, cz), r = e.centre, max(e.radii)
        if cz - r <= 0.05:
            return None
        zmin = cz - r
        k = self._intr
        xs = [(cx - r) / zmin, (cx + r) / zmin, (cx - r) / (cz + r), (cx + r) / (cz + r)]
        ys = [(cy - r) / zmin, (cy + r) / zmin, (cy - r) / (cz + r), (cy + r) / (cz + r)]
        u_lo = int(np.floor(min(xs) * k.fx + k.cx)) - 1
        u_hi = int(np.ceil(max(xs) * k.fx + k.cx)) + 2
        v_lo = int(np.floor(min(ys) * k.fy + k.cy)) - 1
        v_hi = int(np.ceil(max(ys) * k.fy + k.cy)) + 2
        u_lo, v_lo = max(u_lo, 0), max(v_lo, 0)
        u_hi, v_hi = min(u_hi, self.width), min(v_hi, self.height)
        if u_lo >= u_hi or v_lo >= v_hi:
            return None
        return slice(v_lo, v_hi), slice(u_lo, u_hi)

    # -- one frame ---------------------------------------------------------------------------
    def true_depth(
        self, index: int
    ) -> tuple[F32, list[tuple[tuple[slice, slice], F32, Ellipsoid]]]:
        """Metric z of the scene at frame ``index`` (before sensor effects), and the moving
        parts' patches (box, z, part) for shading."""
        t = index / self.fps
        z = self._static_z.copy()
        patches = []
        for part in self.moving_parts(t):
            box = self._bbox(part)
            if box is None:
                continue
            hit = _ellipsoid_hit(self._a[box], self._b[box], part)
            region = z[box]
            np.minimum(region, hit, out=region)
            patches.append((box, hit, part))
        return z, patches

    def render(self, index: int) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint8], F32]:
        """Raw 11-bit depth, RGB video and true metric z of frame ``index``."""
        if self._loops is not None:
            return self._render_compiled(index)
        z, patches = self.true_depth(index)
        depth = self.sense(z, index)
        rgb = self._static_rgb.copy()
        for box, hit, part in patches:
            mine = hit <= z[box]
            if not mine.any():
                continue
            zs = hit[mine]
            (cx, cy, cz), (rx, ry, rz) = part.centre, part.radii
            # Analytic normal of an ellipsoid: the gradient (p - c) / r^2.
            n = np.stack(
                [
                    (self._a[box][mine] * zs - cx) / rx**2,
                    (self._b[box][mine] * zs - cy) / ry**2,
                    (zs - cz) / rz**2,
                ],
                axis=-1,
            )
            n /= np.sqrt(np.einsum("ij,ij->i", n, n))[:, None]
            rgb[box][mine] = _shade(ALBEDO[LABEL_IDS[part.label]], n, zs)
        return depth, rgb, z

    def _render_compiled(
        self, index: int
    ) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint8], F32]:
        """``render`` with numba's loops: the still room's depth and colour are copied, and
        only the moving parts' screen boxes are ray-cast and shaded."""
        loops = self._loops
        assert loops is not None
        parts, boxes = [], []
        for part in self.moving_parts(index / self.fps):
            box = self._bbox(part)
            if box is not None:
                parts.append(part)
                boxes.append((box[0].start, box[0].stop, box[1].start, box[1].stop))
        z = self._static_z.copy()
        rgb = self._static_rgb.copy()
        if parts:
            loops.moving_parts(
                self._a,
                self._b,
                z,
                rgb,
                self._owner,
                np.array(boxes, np.int64),
                np.array([p.centre for p in parts], np.float64),
                np.array([p.radii for p in parts], np.float64),
                # numpy keeps b * (cy / ry**2) in float32 when cy is a plain float
                np.array([np.result_type(np.float32, p.centre[1]) == np.float32 for p in parts]),
                ALBEDO[[LABEL_IDS[p.label] for p in parts]].astype(np.float64),
                LIGHT.astype(np.float64),
            )
        return self.sense(z, index), rgb, z

    def sense(
        self, z: F32, index: int, screen: npt.NDArray[np.bool_] | None = None
    ) -> npt.NDArray[np.uint16]:
        """What the Kinect reports for true depth ``z``: raw disparity with its artefacts.
        ``screen`` marks the television's glossy screen where ``z`` is not this room's own
        view (``scene_walk``'s moving camera)."""
        if self._loops is not None:
            return self._sense_compiled(z, index, screen)
        with np.errstate(divide="ignore"):
            inv_z = np.float32(1.0) / z
        # IR shadow: seen from the projector (to the right), a point is hidden when some
        # point to its right lands at or left of it in the projector's image.
        proj_u = self._u - self._fb * inv_z
        ahead = np.minimum.accumulate(proj_u[:, ::-1], axis=1)[:, ::-1]
        shadow = np.zeros(z.shape, dtype=bool)
        shadow[:, :-1] = proj_u[:, :-1] > ahead[:, 1:] + np.float32(0.25)
        raw = kinect_raw(z).astype(np.float32)  # what libfreenect's table reads as z
        edge = np.zeros(z.shape, dtype=bool)
        jump = np.abs(np.diff(raw, axis=1)) > np.float32(EDGE_JUMP_RAW)
        edge[:, 1:] = jump
        edge[:, :-1] |= jump
        raw += self._noise[index % NOISE_FIELDS]
        invalid = shadow | ~((z >= MIN_RANGE_M) & (z <= MAX_RANGE_M))
        invalid |= edge & self._ragged[index % NOISE_FIELDS]
        invalid[:, self.width - RIGHT_BAND_COLUMNS * self.width // DEPTH_WIDTH :] = True
        if screen is None:
            screen = self._screen & (z >= self._static_z)
        invalid |= screen  # glossy black: no IR comes back
        np.clip(raw, 0, RAW_11BIT_INVALID - 1, out=raw)
        depth: npt.NDArray[np.uint16] = np.rint(raw).astype(np.uint16)
        depth[invalid] = RAW_11BIT_INVALID
        return depth

    def _sense_compiled(
        self, z: F32, index: int, screen: npt.NDArray[np.bool_] | None
    ) -> npt.NDArray[np.uint16]:
        """``sense`` with numba's loops, numpy's float32 arithmetic in numpy's order."""
        loops = self._loops
        assert loops is not None
        depth = np.empty(z.shape, np.uint16)
        field = index % NOISE_FIELDS
        loops.sense(
            np.ascontiguousarray(z, np.float32),
            self._noise[field],
            self._ragged[field],
            self._screen if screen is None else screen,
            self._static_z if screen is None else np.full(z.shape, -np.inf, np.float32),
            self._fb,
            kinect_zero_plane(),
            np.float32(MIN_RANGE_M),
            np.float32(MAX_RANGE_M),
            np.float32(EDGE_JUMP_RAW),
            self.width - RIGHT_BAND_COLUMNS * self.width // DEPTH_WIDTH,
            RAW_11BIT_INVALID,
            depth,
        )
        return depth
