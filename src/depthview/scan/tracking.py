"""Frame-to-model tracking: projective point-to-plane ICP, coarse to fine, against the
model raycast from the last pose (KinectFusion's scheme). Pure numpy around ``_kernels``'
normal equations; no files, no devices."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ..camera_models import Intrinsics
from ._loops import K
from .params import ScanParams, tracking_size
from .volume import ModelView

if TYPE_CHECKING:
    from ._kernels import IcpProblem

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


def scaled(k: Intrinsics, factor: float) -> Intrinsics:
    """The intrinsics of the image scaled by ``factor`` (pixel centres kept)."""
    return Intrinsics(
        fx=k.fx * factor,
        fy=k.fy * factor,
        cx=(k.cx + 0.5) * factor - 0.5,
        cy=(k.cy + 0.5) * factor - 0.5,
    )


def downsample(z: F32) -> F32:
    """Half the size: the mean of each 2x2's readings, NaN where none (holes stay holes)."""
    out = np.empty((z.shape[0] // 2, z.shape[1] // 2), dtype=np.float32)
    K.half(z, out)
    return out


def vertex_normal_maps(z: F32, k: Intrinsics) -> tuple[F64, F64]:
    """Camera-frame points (H, W, 3, NaN: none) and their normals (from neighbours)."""
    v = np.empty((*z.shape, 3), dtype=np.float64)
    n = np.empty((*z.shape, 3), dtype=np.float64)
    K.vertex_normals(z, k.fx, k.fy, k.cx, k.cy, v, n)
    return v, n


def levels(z: F32, k: Intrinsics, width: int) -> tuple[F32, Intrinsics]:
    """``z`` (NaN: no reading) halved to the finest tracking level (``tracking_size``)."""
    finest, _ = tracking_size(z.shape[1], z.shape[0], width)
    cur, kk = z, k
    while cur.shape[1] > finest:
        cur, kk = downsample(cur), scaled(kk, 0.5)
    return cur, kk


def pyramid(z: F32, k: Intrinsics, params: ScanParams) -> list[tuple[F64, F64, Intrinsics]]:
    """Vertex and normal maps per tracking level, coarsest first (``z``: NaN, no reading)."""
    cur, kk = levels(z, k, params.track_width)
    out = []
    for _ in range(len(params.icp_iterations)):
        v, n = vertex_normal_maps(cur, kk)
        out.append((v, n, kk))
        cur, kk = downsample(cur), scaled(kk, 0.5)
    return out[::-1]


def exp_se3(xi: F64) -> F64:
    """The 4x4 rigid motion of a small twist (rotation vector, translation)."""
    out = np.empty((4, 4))
    K.exp_se3(np.ascontiguousarray(xi, dtype=np.float64), out)
    return out


def rotation_vector(r: F64) -> F64:
    """The axis times the angle (radians) of a rotation matrix (angles below 180 degrees)."""
    w = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
    angle = math.acos(max(-1.0, min(1.0, (np.trace(r) - 1) / 2)))
    return w * (0.5 if angle < 1e-9 else angle / (2 * math.sin(angle)))


def extrapolated(a: F64, b: F64, share: float) -> F64:
    """Pose ``b`` moved on by ``share`` times the motion from pose ``a`` to ``b``: where a
    camera that keeps its speed would be (``share``: the time ahead over the time a to b)."""
    d = np.linalg.inv(a) @ b
    xi = np.concatenate([rotation_vector(d[:3, :3]), d[:3, 3]]) * share
    return np.asarray(b @ exp_se3(xi), dtype=np.float64)


def motion(a: F64, b: F64) -> tuple[float, float]:
    """Metres and degrees between two poses."""
    d = np.linalg.inv(a) @ b
    angle = math.degrees(math.acos(max(-1.0, min(1.0, (np.trace(d[:3, :3]) - 1) / 2))))
    return float(np.linalg.norm(d[:3, 3])), angle


@dataclass(frozen=True)
class IcpResult:
    """A pose estimate: ``pose`` (camera to world), the RMS point-to-plane residual in
    metres, the share of the frame's readings paired with the model, and the weakest
    constraint on translation (smallest eigenvalue of its normal equations per pair)."""

    pose: F64
    residual_m: float
    inlier_share: float
    constraint: float
    pairs: int


def track(
    levels: list[tuple[F64, F64, Intrinsics]],
    model: ModelView,
    model_k: Intrinsics,
    model_pose: F64,
    start: F64,
    params: ScanParams,
) -> IcpResult:
    """Align the frame's levels with the model seen from ``model_pose``, from ``start``."""
    pose: F64 = np.array(start, dtype=np.float64)
    w2c: F64 = np.linalg.inv(model_pose).astype(np.float64)
    min_cos = math.cos(math.radians(params.icp_max_angle_deg))
    n_levels = len(levels)
    result = IcpResult(pose, math.inf, 0.0, 0.0, 0)
    for level, ((v, n, _), iters) in enumerate(zip(levels, params.icp_iterations, strict=True)):
        max_dist = params.icp_max_dist_m * 2 ** (n_levels - 1 - level)
        rows = np.zeros((v.shape[0], 29), dtype=np.float64)
        # All of a level's iterations in one compiled call (pose updated in place).
        K.icp_level(_problem(v, n, pose, model, w2c, model_k, max_dist, min_cos), iters, rows)
    # The final figures, at the finest level after the last step.
    v, n, _ = levels[-1]
    rows = np.zeros((v.shape[0], 29), dtype=np.float64)
    problem = _problem(v, n, pose, model, w2c, model_k, params.icp_max_dist_m, min_cos)
    a, _, err, count = _terms(problem, rows)
    valid = int(np.count_nonzero(~np.isnan(v[:, :, 0])))
    if count > 0:
        constraint = float(np.linalg.eigvalsh(a[3:, 3:] / count)[0])
        result = IcpResult(
            pose, math.sqrt(err / count), count / max(valid, 1), constraint, int(count)
        )
    else:
        result = IcpResult(pose, math.inf, 0.0, 0.0, 0)
    return result


def _problem(
    v: F64,
    n: F64,
    pose: F64,
    model: ModelView,
    w2c: F64,
    k: Intrinsics,
    max_dist: float,
    min_cos: float,
) -> IcpProblem:
    """``K.icp_terms``' arguments before ``rows``, in its order (``K.icp_level``'s
    ``problem``)."""
    return (v, n, pose, model.vertex, model.normal, w2c, k.fx, k.fy, k.cx, k.cy, max_dist, min_cos)


def _terms(problem: IcpProblem, rows: F64) -> tuple[F64, F64, float, int]:
    K.icp_terms(*problem, rows)
    a = np.empty((6, 6))
    b = np.empty(6)
    err, count = K.normal_equations(rows, a, b)
    return a, b, float(err), int(count)
