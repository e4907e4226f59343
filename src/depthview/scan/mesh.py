"""The model's surface as a triangle mesh: scikit-image's marching cubes (a well-kept,
tested implementation; the final mesh is made once, so its speed matters little) run on
chunks of 4x4x4 blocks copied out of the hash with one voxel of overlap."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ._loops import K
from .volume import BlockVolume

CHUNK_BLOCKS = 4
#: The colour of vertices no colour image saw (``Mesh.uncoloured`` counts them).
NO_COLOUR: tuple[int, int, int] = K.NO_COLOUR
#: A vertex whose trilinear TSDF is farther than this from 0 (in truncations) is not on the
#: surface (half a voxel at the default 1 cm voxels and 4 cm truncation).
ON_SURFACE = 0.125


class Mesh(NamedTuple):
    """``vertices`` (N, 3) float32 metres (world), ``triangles`` (M, 3) int32, ``colours``
    (N, 3) uint8 RGB, and how many vertices no colour image saw (grey: their frames'
    colour was left out)."""

    vertices: npt.NDArray[np.float32]
    triangles: npt.NDArray[np.int32]
    colours: npt.NDArray[np.uint8]
    uncoloured: int = 0


def marching_cubes() -> Any:
    """scikit-image's marching cubes, or one line naming the pip command."""
    try:
        from skimage.measure import marching_cubes as found
    except ImportError:
        raise ImportError(
            "the scan's mesh needs scikit-image: pip install 'depthview[scan]'"
        ) from None
    return found


def extract(volume: BlockVolume) -> Mesh:
    """The zero level set of ``volume`` where every corner of a cube has been seen."""
    run_marching_cubes = marching_cubes()
    n = volume.blocks
    if n == 0:
        return Mesh(
            np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int32), np.zeros((0, 3), np.uint8)
        )
    chunks = np.unique(np.floor_divide(volume.coords[:n], CHUNK_BLOCKS), axis=0)
    side = CHUNK_BLOCKS * K.B
    tsdf = np.empty((side + 1,) * 3, dtype=np.float32)
    seen = np.empty((side + 1,) * 3, dtype=bool)
    all_vertices, all_triangles = [], []
    offset = 0
    for chunk in chunks:
        origin = (chunk * side).astype(np.int64)
        K.dense_chunk(volume.keys, volume.slots, volume.tsdf, volume.weight, origin, tsdf, seen)
        if not seen.any() or tsdf[seen].min() > 0 or tsdf[seen].max() < 0:
            continue
        # A cube is meshed only when all its 8 corners have been seen within the band
        # (scikit-image's mask asks for the first corner alone; unseen voxels read +1 and
        # would close the band, and a crossing next to a truncated +-1 is an occlusion
        # edge's artefact, not a surface).
        seen &= np.abs(tsdf) < 0.999
        whole = seen.copy()
        whole[:-1] &= seen[1:]
        whole[:, :-1] &= whole[:, 1:].copy()
        whole[:, :, :-1] &= whole[:, :, 1:].copy()
        whole[-1], whole[:, -1], whole[:, :, -1] = False, False, False
        if not whole.any():
            continue
        try:
            verts, faces, _, _ = run_marching_cubes(tsdf, level=0.0, mask=whole)
        except (ValueError, RuntimeError):
            continue  # no crossing where every corner was seen
        if len(faces) == 0:
            continue
        all_vertices.append((verts + origin) * volume.voxel_m)
        all_triangles.append(faces + offset)
        offset += len(verts)
    if not all_vertices:
        return Mesh(
            np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int32), np.zeros((0, 3), np.uint8)
        )
    vertices = np.concatenate(all_vertices)
    triangles = np.concatenate(all_triangles)
    # Chunks share their faces' vertices: weld them (positions equal to a micrometre).
    keys = np.round(vertices / 1e-6).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    vertices = vertices[first]
    triangles = inverse.reshape(-1)[triangles]
    keep = (
        (triangles[:, 0] != triangles[:, 1])
        & (triangles[:, 1] != triangles[:, 2])
        & (triangles[:, 0] != triangles[:, 2])
    )
    # Marching cubes also closes the surface where its mask ends; a true surface vertex
    # reads about 0 in the volume itself (trilinear), those read far from it.
    value = np.empty(len(vertices), dtype=np.float64)
    K.tsdf_at(
        volume.keys,
        volume.slots,
        volume.tsdf,
        volume.weight,
        np.ascontiguousarray(vertices, dtype=np.float64),
        volume.voxel_m,
        value,
    )
    on_surface = np.abs(value) < ON_SURFACE
    keep &= on_surface[triangles].all(axis=1)
    triangles = triangles[keep]
    used = np.zeros(len(vertices), dtype=bool)
    used[triangles.reshape(-1)] = True
    renumber = np.cumsum(used) - 1
    vertices = vertices[used]
    triangles = renumber[triangles]
    seen_by_colour = np.empty(len(vertices), dtype=np.bool_)
    colours = volume.colours_at(vertices, seen_by_colour)
    return Mesh(
        vertices.astype(np.float32),
        triangles.astype(np.int32),
        colours,
        int(np.count_nonzero(~seen_by_colour)),
    )
