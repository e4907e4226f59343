"""A truncated signed distance volume that grows with the surface: a hash of 8x8x8 voxel
blocks, allocated only where readings fall (memory follows the scanned surface, not a
bounding cube). The loops are ``_kernels``' (numba); this class owns the arrays and grows
them."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..camera_models import Intrinsics
from ..errors import DepthviewError
from ._loops import K

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]


class VolumeFull(DepthviewError):
    """The volume would grow past its memory budget (``ScanParams.max_volume_mb``)."""


class ModelView(NamedTuple):
    """The model seen from a pose: world points and normals (H, W, 3, NaN: nothing) and
    the colours there."""

    vertex: npt.NDArray[np.float64]
    normal: npt.NDArray[np.float64]
    rgb: U8


def normals_of(vertex: npt.NDArray[np.float64], eye: Any) -> npt.NDArray[np.float64]:
    """Unit normals of a vertex map (H, W, 3, NaN: none) from its neighbours, turned
    towards ``eye``; NaN where a neighbour is missing."""
    normal = np.empty_like(vertex)
    K.normals_of(vertex, np.ascontiguousarray(eye, dtype=np.float64), normal)
    return normal


class BlockVolume:
    """The TSDF: ``integrate`` a depth frame at a pose, ``raycast`` it from a pose."""

    def __init__(
        self,
        voxel_m: float,
        truncation_m: float,
        max_weight: float,
        blocks: int = 1024,
        max_bytes: float = float("inf"),
    ) -> None:
        self.max_bytes = max_bytes
        self.voxel_m = voxel_m
        self.truncation_m = truncation_m
        self.max_weight = max_weight
        self._allot(blocks)

    def _allot(self, blocks: int) -> None:
        self.coords = np.zeros((blocks, 3), dtype=np.int32)
        self.tsdf = np.ones((blocks, K.B3), dtype=np.float32)
        self.weight = np.zeros((blocks, K.B3), dtype=np.float32)
        #: RGB and the colour's own weight (0: no colour image saw the voxel).
        self.colour = np.zeros((blocks, K.B3, 4), dtype=np.uint8)
        self.seen = np.full(blocks, -1, dtype=np.int64)
        self.count = np.zeros(1, dtype=np.int64)
        self._rehash(blocks)
        self._frame_no = 0

    def _rehash(self, blocks: int) -> None:
        capacity = 1 << max(10, int(np.ceil(np.log2(blocks * 2))))
        self.keys = np.zeros((capacity, 3), dtype=np.int32)
        self.slots = np.full(capacity, -1, dtype=np.int32)
        K.rehash(self.coords, int(self.count[0]), self.keys, self.slots)

    def _grow(self) -> None:
        """Twice the blocks: the pool's arrays copied, the hash rebuilt."""
        n = self.coords.shape[0]
        size = 2 * n
        if 2 * self.memory_bytes > self.max_bytes:
            raise VolumeFull(
                f"the model would need more than its budget of {self.max_bytes / 1e6:.0f} MB "
                f"({self.blocks} blocks of {self.voxel_m:g} m voxels)"
            )

        def grown(a: Any, fill: float) -> Any:
            out = np.full((size, *a.shape[1:]), fill, dtype=a.dtype)
            out[:n] = a
            return out

        self.coords = grown(self.coords, 0)
        self.tsdf = grown(self.tsdf, 1.0)
        self.weight = grown(self.weight, 0.0)
        self.colour = grown(self.colour, 0)
        self.seen = grown(self.seen, -1)
        self._rehash(size)

    def reset(self) -> None:
        self._allot(1024)

    @property
    def blocks(self) -> int:
        """Blocks allocated so far."""
        return int(self.count[0])

    @property
    def memory_bytes(self) -> int:
        """Bytes the volume holds (blocks allocated so far, with the pool's spare room)."""
        return int(
            sum(
                a.nbytes
                for a in (
                    self.coords,
                    self.tsdf,
                    self.weight,
                    self.colour,
                    self.seen,
                    self.keys,
                    self.slots,
                )
            )
        )

    @property
    def used_bytes(self) -> int:
        """Bytes of the allocated blocks alone (what the surface costs)."""
        per_block = 3 * 4 + K.B3 * (4 + 4 + 3) + 8 + 2 * (3 * 4 + 4)
        return self.blocks * per_block

    def integrate(
        self,
        z: F32,
        rgb: U8 | None,
        intrinsics: Intrinsics,
        pose: npt.NDArray[np.float64],
        stride: int = 2,
    ) -> None:
        """Fuse depth ``z`` (metres, NaN or 0: no reading) seen from ``pose`` (camera to
        world); ``rgb`` (H, W, 3) aligned with ``z`` or None."""
        k = intrinsics
        block_m = self.voxel_m * K.B
        self._frame_no += 1
        pose = np.ascontiguousarray(pose, dtype=np.float64)
        while True:
            touched = np.empty(self.coords.shape[0], dtype=np.int64)
            n_touched = np.zeros(1, dtype=np.int64)
            done = K.allocate(
                z,
                k.fx,
                k.fy,
                k.cx,
                k.cy,
                pose,
                stride,
                self.truncation_m,
                block_m,
                self.keys,
                self.slots,
                self.coords,
                self.count,
                self.seen,
                self._frame_no,
                touched,
                n_touched,
            )
            if done:
                break
            self._grow()
            self._frame_no += 1  # list the touched blocks afresh
        has_rgb = rgb is not None
        colour = rgb if rgb is not None else np.zeros((1, 1, 3), dtype=np.uint8)
        K.integrate(
            z,
            colour,
            has_rgb,
            k.fx,
            k.fy,
            k.cx,
            k.cy,
            np.linalg.inv(pose),
            self.voxel_m,
            self.truncation_m,
            self.max_weight,
            self.coords,
            touched,
            int(n_touched[0]),
            self.tsdf,
            self.weight,
            self.colour,
        )

    def raycast(
        self,
        intrinsics: Intrinsics,
        width: int,
        height: int,
        pose: npt.NDArray[np.float64],
        near: float,
        far: float,
        hint: F32 | None = None,
        colours: bool = True,
    ) -> ModelView:
        """The model from ``pose`` through a ``width`` x ``height`` camera; ``hint``: camera
        z (NaN: none) of a frame taken near ``pose``, where the rays may start."""
        vertex = np.full((height, width, 3), np.nan, dtype=np.float64)
        rgb = np.zeros((height, width, 3) if colours else (1, 1, 3), dtype=np.uint8)
        k = intrinsics
        K.raycast(
            height,
            width,
            k.fx,
            k.fy,
            k.cx,
            k.cy,
            np.ascontiguousarray(pose, dtype=np.float64),
            near,
            far,
            self.voxel_m,
            self.truncation_m,
            self.keys,
            self.slots,
            self.tsdf,
            self.weight,
            self.colour,
            vertex,
            rgb,
            np.zeros((1, 1), np.float32) if hint is None else hint,
            3 * self.truncation_m,
        )
        return ModelView(vertex, normals_of(vertex, pose[:3, 3]), rgb)

    def surface_points(self, band: float = 0.25) -> npt.NDArray[np.float32]:
        """Positions of the voxels within ``band`` truncations of the surface."""
        out = np.empty((max(1024, self.blocks * 64), 3), dtype=np.float32)
        while True:
            n = K.surface_voxels(
                self.coords, self.blocks, self.tsdf, self.weight, self.voxel_m, band, out
            )
            if n >= 0:
                return out[:n]
            out = np.empty((out.shape[0] * 2, 3), dtype=np.float32)

    def colours_at(
        self, points: npt.NDArray[np.floating[Any]], seen: npt.NDArray[np.bool_] | None = None
    ) -> U8:
        """The colour of the voxel nearest each point (``NO_COLOUR`` where no colour image
        saw it; ``seen``, when given, says which were seen)."""
        out = np.zeros((points.shape[0], 3), dtype=np.uint8)
        if seen is None:
            seen = np.empty(points.shape[0], dtype=np.bool_)
        K.colours_at(
            self.keys,
            self.slots,
            self.tsdf,
            self.weight,
            self.colour,
            np.ascontiguousarray(points, dtype=np.float64),
            self.voxel_m,
            out,
            seen,
        )
        return out
