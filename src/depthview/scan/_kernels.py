"""The scanner's per-frame loops, compiled with numba (the ``scan`` extra).

The volume is a hash of 8x8x8 voxel blocks: ``keys`` (C, 3) int32 block coordinates and
``slots`` (C,) int32 block numbers (-1: empty) with linear probing, C a power of two kept
at least twice the block count; block ``b``'s voxels are ``tsdf[b]``, ``weight[b]``,
``colour[b]`` (512 each, x fastest). Voxel ``i`` (integer, world) sits at ``i * voxel``
metres. Nothing here checks arguments: ``volume`` and ``tracking`` do.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)
_pjit = numba.njit(cache=True, nogil=True, boundscheck=False, parallel=True)

B = 8  # voxels along a block's edge
B3 = B * B * B


@_jit
def _slot(keys: Any, slots: Any, bx: int, by: int, bz: int) -> int:  # pragma: no cover
    """Where block (bx, by, bz) is in the hash, or the empty slot where it would go."""
    mask = slots.shape[0] - 1
    h = ((bx * 73856093) ^ (by * 19349669) ^ (bz * 83492791)) & mask
    while True:
        if slots[h] < 0:
            return int(h)
        if keys[h, 0] == bx and keys[h, 1] == by and keys[h, 2] == bz:
            return int(h)
        h = (h + 1) & mask


@_jit
def block_of(keys: Any, slots: Any, bx: int, by: int, bz: int) -> int:  # pragma: no cover
    """Block number of (bx, by, bz), -1 where it is not allocated."""
    return int(slots[_slot(keys, slots, bx, by, bz)])


@_jit
def rehash(coords: Any, count: int, keys: Any, slots: Any) -> None:  # pragma: no cover
    """Put blocks 0..count-1 (their coordinates in ``coords``) into an empty hash."""
    for b in range(count):
        h = _slot(keys, slots, coords[b, 0], coords[b, 1], coords[b, 2])
        keys[h, 0] = coords[b, 0]
        keys[h, 1] = coords[b, 1]
        keys[h, 2] = coords[b, 2]
        slots[h] = b


@_jit
def allocate(
    z: Any,
    fx: float,
    fy: float,
    cx: float,
    cy: float,
    pose: Any,
    stride: int,
    trunc: float,
    block_m: float,
    keys: Any,
    slots: Any,
    coords: Any,
    count: Any,
    seen: Any,
    frame_no: int,
    touched: Any,
    n_touched: Any,
) -> bool:  # pragma: no cover
    """Allocate the blocks within ``trunc`` of every ``stride``-th pixel's reading and list
    the blocks this frame touches in ``touched``; False when the pool (``coords``) is
    full (the caller grows it and calls again: what was done stays done)."""
    h, w = z.shape
    cap = coords.shape[0]
    step = block_m * 0.5
    n_steps = math.ceil(2.0 * trunc / step) + 1
    for v in range(0, h, stride):
        for u in range(0, w, stride):
            d = z[v, u]
            if not (d > 0.0):
                continue
            a = (u - cx) / fx
            c = (v - cy) / fy
            for s in range(n_steps):
                dd = d - trunc + s * step
                if dd <= 0.0:
                    continue
                xc = a * dd
                yc = c * dd
                x = pose[0, 0] * xc + pose[0, 1] * yc + pose[0, 2] * dd + pose[0, 3]
                y = pose[1, 0] * xc + pose[1, 1] * yc + pose[1, 2] * dd + pose[1, 3]
                zz = pose[2, 0] * xc + pose[2, 1] * yc + pose[2, 2] * dd + pose[2, 3]
                bx = math.floor(x / block_m)
                by = math.floor(y / block_m)
                bz = math.floor(zz / block_m)
                hs = _slot(keys, slots, bx, by, bz)
                b = slots[hs]
                if b < 0:
                    if count[0] >= cap:
                        return False
                    b = count[0]
                    count[0] += 1
                    keys[hs, 0] = bx
                    keys[hs, 1] = by
                    keys[hs, 2] = bz
                    coords[b, 0] = bx
                    coords[b, 1] = by
                    coords[b, 2] = bz
                    slots[hs] = b
                if seen[b] != frame_no:
                    seen[b] = frame_no
                    touched[n_touched[0]] = b
                    n_touched[0] += 1
    return True


@_pjit
def integrate(
    z: Any,
    rgb: Any,
    has_rgb: bool,
    fx: float,
    fy: float,
    cx: float,
    cy: float,
    world_to_cam: Any,
    voxel: float,
    trunc: float,
    max_weight: float,
    coords: Any,
    touched: Any,
    n_touched: int,
    tsdf: Any,
    weight: Any,
    colour: Any,
) -> None:  # pragma: no cover
    """Fuse one depth frame (metres, 0 or NaN: no reading) into the touched blocks: the
    projective signed distance, truncated to [-1, 1] in units of ``trunc``, averaged with
    the weight so far (capped at ``max_weight``); colours likewise where near the surface."""
    h, w = z.shape
    m = world_to_cam
    for k in numba.prange(n_touched):
        b = touched[k]
        ox = coords[b, 0] * B
        oy = coords[b, 1] * B
        oz = coords[b, 2] * B
        for i in range(B3):
            lx = i % B
            ly = (i // B) % B
            lz = i // (B * B)
            x = (ox + lx) * voxel
            y = (oy + ly) * voxel
            zz = (oz + lz) * voxel
            xc = m[0, 0] * x + m[0, 1] * y + m[0, 2] * zz + m[0, 3]
            yc = m[1, 0] * x + m[1, 1] * y + m[1, 2] * zz + m[1, 3]
            zc = m[2, 0] * x + m[2, 1] * y + m[2, 2] * zz + m[2, 3]
            if zc <= 0.0:
                continue
            u = int(fx * xc / zc + cx + 0.5)
            v = int(fy * yc / zc + cy + 0.5)
            if u < 0 or v < 0 or u >= w or v >= h:
                continue
            d = z[v, u]
            if not (d > 0.0):
                continue
            sdf = d - zc
            if sdf < -trunc:
                continue
            f = min(1.0, sdf / trunc)
            w0 = weight[b, i]
            tsdf[b, i] = (tsdf[b, i] * w0 + f) / (w0 + 1.0)
            weight[b, i] = min(w0 + 1.0, max_weight)
            if has_rgb and abs(sdf) < trunc:
                for ch in range(3):
                    colour[b, i, ch] = np.uint8(
                        (colour[b, i, ch] * w0 + rgb[v, u, ch]) / (w0 + 1.0) + 0.5
                    )


@_jit
def voxel_at(
    keys: Any, slots: Any, tsdf: Any, weight: Any, ix: int, iy: int, iz: int
) -> tuple[float, float, int, int]:  # pragma: no cover
    """(tsdf, weight, block, index in block) of voxel (ix, iy, iz); weight 0, block -1
    where its block is not allocated."""
    bx = ix // B
    by = iy // B
    bz = iz // B
    b = slots[_slot(keys, slots, bx, by, bz)]
    if b < 0:
        return 1.0, 0.0, -1, 0
    i = (ix - bx * B) + B * ((iy - by * B) + B * (iz - bz * B))
    return float(tsdf[b, i]), float(weight[b, i]), int(b), int(i)


@_jit
def trilinear(
    keys: Any, slots: Any, tsdf: Any, weight: Any, x: float, y: float, z: float, voxel: float
) -> tuple[float, bool]:  # pragma: no cover
    """The TSDF at a point (metres), trilinear between its 8 voxels; False where one of
    them has never been seen."""
    gx = x / voxel
    gy = y / voxel
    gz = z / voxel
    ix = math.floor(gx)
    iy = math.floor(gy)
    iz = math.floor(gz)
    fx = gx - ix
    fy = gy - iy
    fz = gz - iz
    total = 0.0
    bx = ix // B
    by = iy // B
    bz = iz // B
    lx = ix - bx * B
    ly = iy - by * B
    lz = iz - bz * B
    if lx < B - 1 and ly < B - 1 and lz < B - 1:  # all 8 in one block: one lookup
        b = slots[_slot(keys, slots, bx, by, bz)]
        if b < 0:
            return 0.0, False
        for c in range(8):
            dx = c & 1
            dy = (c >> 1) & 1
            dz = (c >> 2) & 1
            i = (lx + dx) + B * ((ly + dy) + B * (lz + dz))
            if weight[b, i] <= 0.0:
                return 0.0, False
            a = (fx if dx else 1.0 - fx) * (fy if dy else 1.0 - fy) * (fz if dz else 1.0 - fz)
            total += a * tsdf[b, i]
        return total, True
    for c in range(8):
        dx = c & 1
        dy = (c >> 1) & 1
        dz = (c >> 2) & 1
        t, wt, _, _ = voxel_at(keys, slots, tsdf, weight, ix + dx, iy + dy, iz + dz)
        if wt <= 0.0:
            return 0.0, False
        a = (fx if dx else 1.0 - fx) * (fy if dy else 1.0 - fy) * (fz if dz else 1.0 - fz)
        total += a * t
    return total, True


@_pjit
def raycast(
    height: int,
    width: int,
    fx: float,
    fy: float,
    cx: float,
    cy: float,
    pose: Any,
    near: float,
    far: float,
    voxel: float,
    trunc: float,
    keys: Any,
    slots: Any,
    tsdf: Any,
    weight: Any,
    colour: Any,
    vertex: Any,
    rgb: Any,
    hint: Any,
    margin: float,
) -> None:  # pragma: no cover
    """The model seen from ``pose`` (camera to world): per pixel the first zero crossing
    (world point, NaN where none) and its colour. Where ``hint`` (H, W camera z, or a 1x1
    array: none) is given, a ray runs from ``margin`` before its reading to ``margin``
    after it, or not at all: the frame being tracked says roughly where the surface is,
    which spares the march through free space."""
    use_hint = hint.shape[0] == height and hint.shape[1] == width
    want_rgb = rgb.shape[0] == height and rgb.shape[1] == width  # 1x1: no colours
    end = far
    block_m = voxel * B
    for v in numba.prange(height):
        for u in range(width):
            vertex[v, u, 0] = np.nan
            if want_rgb:
                rgb[v, u, 0] = 0
                rgb[v, u, 1] = 0
                rgb[v, u, 2] = 0
            a = (u - cx) / fx
            c = (v - cy) / fy
            # direction per unit of camera z, so t is the camera's z
            dx = pose[0, 0] * a + pose[0, 1] * c + pose[0, 2]
            dy = pose[1, 0] * a + pose[1, 1] * c + pose[1, 2]
            dz = pose[2, 0] * a + pose[2, 1] * c + pose[2, 2]
            scale = math.sqrt(a * a + c * c + 1.0)  # metres along the ray per unit of t
            ox = pose[0, 3]
            oy = pose[1, 3]
            oz = pose[2, 3]
            t = near
            if use_hint:
                hz = hint[v, u]
                if not (hz > 0.0):
                    continue  # no reading to track there
                t = max(near, hz - margin)
                end = min(far, hz + margin)
            else:
                end = far
            prev_f = 1.0
            prev_t = -1.0
            while t < end:
                x = ox + t * dx
                y = oy + t * dy
                z = oz + t * dz
                ix = math.floor(x / voxel + 0.5)
                iy = math.floor(y / voxel + 0.5)
                iz = math.floor(z / voxel + 0.5)
                f, wt, b, _ = voxel_at(keys, slots, tsdf, weight, ix, iy, iz)
                if b < 0:
                    prev_t = -1.0
                    t += block_m * 0.75 / scale
                    continue
                if wt <= 0.0:
                    prev_t = -1.0
                    t += voxel / scale
                    continue
                if f < 0.0:
                    if prev_t < 0.0 or prev_f <= 0.0:
                        break  # entered from behind a surface or an unseen region
                    # refine between the two samples with trilinear values
                    f0, ok0 = trilinear(
                        keys,
                        slots,
                        tsdf,
                        weight,
                        ox + prev_t * dx,
                        oy + prev_t * dy,
                        oz + prev_t * dz,
                        voxel,
                    )
                    f1, ok1 = trilinear(keys, slots, tsdf, weight, x, y, z, voxel)
                    if not (ok0 and ok1) or f0 <= f1:
                        f0 = prev_f
                        f1 = f
                    ts = prev_t + (t - prev_t) * f0 / (f0 - f1)
                    px = ox + ts * dx
                    py = oy + ts * dy
                    pz = oz + ts * dz
                    vertex[v, u, 0] = px
                    vertex[v, u, 1] = py
                    vertex[v, u, 2] = pz
                    if not want_rgb:
                        break
                    _, _, bb, ii = voxel_at(
                        keys,
                        slots,
                        tsdf,
                        weight,
                        math.floor(px / voxel + 0.5),
                        math.floor(py / voxel + 0.5),
                        math.floor(pz / voxel + 0.5),
                    )
                    if bb >= 0:
                        rgb[v, u, 0] = colour[bb, ii, 0]
                        rgb[v, u, 1] = colour[bb, ii, 1]
                        rgb[v, u, 2] = colour[bb, ii, 2]
                    break
                prev_f = f
                prev_t = t
                t += max(voxel, f * trunc * 0.8) / scale


@_jit
def icp_terms(
    vertex: Any,
    normal: Any,
    pose: Any,
    model_vertex: Any,
    model_normal: Any,
    model_w2c: Any,
    fx: float,
    fy: float,
    cx: float,
    cy: float,
    max_dist: float,
    min_cos: float,
    rows: Any,
) -> None:  # pragma: no cover
    """Projective point-to-plane ICP's normal equations, one row of pixels per entry of
    ``rows`` (21 of JᵀJ's upper triangle, 6 of Jᵀr, r², count): frame points (camera,
    NaN: none) moved by ``pose`` meet the model pixel they project to in the raycast view."""
    h, w = vertex.shape[:2]
    mh, mw = model_vertex.shape[:2]
    m = model_w2c
    for v in range(h):
        acc = rows[v]
        acc[:] = 0.0
        for u in range(w):
            xc = vertex[v, u, 0]
            if xc != xc:
                continue
            yc = vertex[v, u, 1]
            zc = vertex[v, u, 2]
            px = pose[0, 0] * xc + pose[0, 1] * yc + pose[0, 2] * zc + pose[0, 3]
            py = pose[1, 0] * xc + pose[1, 1] * yc + pose[1, 2] * zc + pose[1, 3]
            pz = pose[2, 0] * xc + pose[2, 1] * yc + pose[2, 2] * zc + pose[2, 3]
            mx = m[0, 0] * px + m[0, 1] * py + m[0, 2] * pz + m[0, 3]
            my = m[1, 0] * px + m[1, 1] * py + m[1, 2] * pz + m[1, 3]
            mz = m[2, 0] * px + m[2, 1] * py + m[2, 2] * pz + m[2, 3]
            if mz <= 0.0:
                continue
            mu = int(fx * mx / mz + cx + 0.5)
            mv = int(fy * my / mz + cy + 0.5)
            if mu < 0 or mv < 0 or mu >= mw or mv >= mh:
                continue
            qx = model_vertex[mv, mu, 0]
            nx = model_normal[mv, mu, 0]
            if qx != qx or nx != nx:
                continue
            qy = model_vertex[mv, mu, 1]
            qz = model_vertex[mv, mu, 2]
            ny = model_normal[mv, mu, 1]
            nz = model_normal[mv, mu, 2]
            ex = px - qx
            ey = py - qy
            ez = pz - qz
            if ex * ex + ey * ey + ez * ez > max_dist * max_dist:
                continue
            fnx = normal[v, u, 0]
            if fnx == fnx:
                fny = normal[v, u, 1]
                fnz = normal[v, u, 2]
                wx = pose[0, 0] * fnx + pose[0, 1] * fny + pose[0, 2] * fnz
                wy = pose[1, 0] * fnx + pose[1, 1] * fny + pose[1, 2] * fnz
                wz = pose[2, 0] * fnx + pose[2, 1] * fny + pose[2, 2] * fnz
                if abs(wx * nx + wy * ny + wz * nz) < min_cos:
                    continue
            r = nx * ex + ny * ey + nz * ez
            j0 = py * nz - pz * ny
            j1 = pz * nx - px * nz
            j2 = px * ny - py * nx
            j = (j0, j1, j2, nx, ny, nz)
            k = 0
            for a in range(6):
                for c in range(a, 6):
                    acc[k] += j[a] * j[c]
                    k += 1
            for a in range(6):
                acc[21 + a] += j[a] * r
            acc[27] += r * r
            acc[28] += 1.0


@_jit
def surface_voxels(
    coords: Any, count: int, tsdf: Any, weight: Any, voxel: float, band: float, out: Any
) -> int:  # pragma: no cover
    """Voxels with a reading whose |TSDF| is below ``band`` (in units of truncation): their
    positions into ``out`` (grown by the caller when too small; returns -1 then)."""
    n = 0
    for b in range(count):
        for i in range(B3):
            if weight[b, i] > 0.0 and abs(tsdf[b, i]) < band:
                if n >= out.shape[0]:
                    return -1
                out[n, 0] = (coords[b, 0] * B + i % B) * voxel
                out[n, 1] = (coords[b, 1] * B + (i // B) % B) * voxel
                out[n, 2] = (coords[b, 2] * B + i // (B * B)) * voxel
                n += 1
    return n


@_jit
def dense_chunk(
    keys: Any,
    slots: Any,
    tsdf: Any,
    weight: Any,
    origin: Any,
    out_tsdf: Any,
    out_seen: Any,
) -> None:  # pragma: no cover
    """Voxels ``origin + (i, j, k)`` into dense arrays (x, y, z order), for marching cubes."""
    n0, n1, n2 = out_tsdf.shape
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                t, wt, _, _ = voxel_at(
                    keys, slots, tsdf, weight, origin[0] + i, origin[1] + j, origin[2] + k
                )
                out_tsdf[i, j, k] = t
                out_seen[i, j, k] = wt > 0.0


@_jit
def colours_at(
    keys: Any,
    slots: Any,
    tsdf: Any,
    weight: Any,
    colour: Any,
    points: Any,
    voxel: float,
    out: Any,
) -> None:  # pragma: no cover
    """The colour of the nearest voxel to each point."""
    for n in range(points.shape[0]):
        _, _, b, i = voxel_at(
            keys,
            slots,
            tsdf,
            weight,
            math.floor(points[n, 0] / voxel + 0.5),
            math.floor(points[n, 1] / voxel + 0.5),
            math.floor(points[n, 2] / voxel + 0.5),
        )
        if b >= 0:
            out[n, 0] = colour[b, i, 0]
            out[n, 1] = colour[b, i, 1]
            out[n, 2] = colour[b, i, 2]


@_jit
def half(z: Any, out: Any) -> None:  # pragma: no cover
    """Half the size: the mean of each 2x2's readings (NaN: none), NaN where none."""
    h, w = out.shape
    for v in range(h):
        for u in range(w):
            total = 0.0
            n = 0
            for dv in range(2):
                for du in range(2):
                    d = z[2 * v + dv, 2 * u + du]
                    if d == d:
                        total += d
                        n += 1
            out[v, u] = total / n if n else np.nan


@_jit
def vertex_normals(
    z: Any, fx: float, fy: float, cx: float, cy: float, vertex: Any, normal: Any
) -> None:  # pragma: no cover
    """Camera points of a depth map (NaN: none) and their normals (cross product of the
    right and lower neighbours' differences, turned towards the camera)."""
    h, w = z.shape
    for v in range(h):
        for u in range(w):
            d = z[v, u]
            vertex[v, u, 0] = (u - cx) / fx * d
            vertex[v, u, 1] = (v - cy) / fy * d
            vertex[v, u, 2] = d
    for v in range(h):
        for u in range(w):
            normal[v, u, 0] = np.nan
            if v + 1 >= h or u + 1 >= w:
                continue
            ax = vertex[v, u + 1, 0] - vertex[v, u, 0]
            ay = vertex[v, u + 1, 1] - vertex[v, u, 1]
            az = vertex[v, u + 1, 2] - vertex[v, u, 2]
            bx = vertex[v + 1, u, 0] - vertex[v, u, 0]
            by = vertex[v + 1, u, 1] - vertex[v, u, 1]
            bz = vertex[v + 1, u, 2] - vertex[v, u, 2]
            nx = ay * bz - az * by
            ny = az * bx - ax * bz
            nz = ax * by - ay * bx
            norm = math.sqrt(nx * nx + ny * ny + nz * nz)
            if not (norm > 0.0):
                continue
            if nx * vertex[v, u, 0] + ny * vertex[v, u, 1] + nz * vertex[v, u, 2] > 0.0:
                norm = -norm
            normal[v, u, 0] = nx / norm
            normal[v, u, 1] = ny / norm
            normal[v, u, 2] = nz / norm


@_jit
def tsdf_at(
    keys: Any, slots: Any, tsdf: Any, weight: Any, points: Any, voxel: float, out: Any
) -> None:  # pragma: no cover
    """The trilinear TSDF at each point, NaN where one of its 8 voxels is unseen."""
    for n in range(points.shape[0]):
        f, ok = trilinear(
            keys, slots, tsdf, weight, points[n, 0], points[n, 1], points[n, 2], voxel
        )
        out[n] = f if ok else np.nan


@_jit
def normals_of(vertex: Any, eye: Any, normal: Any) -> None:  # pragma: no cover
    """Unit normals of a vertex map (NaN: none) from the cross product of its neighbours'
    central differences, turned towards ``eye``; NaN at the border and beside a hole."""
    h, w = vertex.shape[:2]
    for v in range(h):
        for u in range(w):
            normal[v, u, 0] = np.nan
            normal[v, u, 1] = np.nan
            normal[v, u, 2] = np.nan
            if v == 0 or u == 0 or v == h - 1 or u == w - 1:
                continue
            ax = vertex[v, u + 1, 0] - vertex[v, u - 1, 0]
            ay = vertex[v, u + 1, 1] - vertex[v, u - 1, 1]
            az = vertex[v, u + 1, 2] - vertex[v, u - 1, 2]
            bx = vertex[v + 1, u, 0] - vertex[v - 1, u, 0]
            by = vertex[v + 1, u, 1] - vertex[v - 1, u, 1]
            bz = vertex[v + 1, u, 2] - vertex[v - 1, u, 2]
            nx = ay * bz - az * by
            ny = az * bx - ax * bz
            nz = ax * by - ay * bx
            norm = math.sqrt(nx * nx + ny * ny + nz * nz)
            if not (norm > 0.0):
                continue  # NaN beside a hole
            ex = vertex[v, u, 0] - eye[0]
            ey = vertex[v, u, 1] - eye[1]
            ez = vertex[v, u, 2] - eye[2]
            if nx * ex + ny * ey + nz * ez > 0.0:
                norm = -norm
            normal[v, u, 0] = nx / norm
            normal[v, u, 1] = ny / norm
            normal[v, u, 2] = nz / norm
