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

# numpy's error model: a division by zero gives inf or NaN instead of raising, which spares
# a test before every division (about half of integrate's and raycast's time); the loops
# test what they divide by where it matters.
_jit = numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
_pjit = numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy", parallel=True)

B = 8  # voxels along a block's edge
B3 = B * B * B
#: Below any block coordinate: "no block looked up yet" for the loops' one-block caches.
NO_BLOCK = -(1 << 40)
#: ``_cached_voxel``'s cache before its first lookup: (block x, y, z, block number).
NO_LOOKUP = (NO_BLOCK, NO_BLOCK, NO_BLOCK, -1)
#: ``icp_terms``' arguments before ``rows`` (``icp_level``'s ``problem``): frame vertex and
#: normal, pose, model vertex, normal and world-to-camera, fx, fy, cx, cy, max_dist, min_cos.
IcpProblem = tuple[Any, Any, Any, Any, Any, Any, float, float, float, float, float, float]


@_jit
def _moved(m: Any, x: float, y: float, z: float) -> tuple[float, float, float]:  # pragma: no cover
    """Point (x, y, z) moved by the rigid transform ``m`` (4x4)."""
    return (
        m[0, 0] * x + m[0, 1] * y + m[0, 2] * z + m[0, 3],
        m[1, 0] * x + m[1, 1] * y + m[1, 2] * z + m[1, 3],
        m[2, 0] * x + m[2, 1] * y + m[2, 2] * z + m[2, 3],
    )


@_jit
def _turned(m: Any, x: float, y: float, z: float) -> tuple[float, float, float]:  # pragma: no cover
    """Direction (x, y, z) turned by the rotation of ``m`` (no translation)."""
    return (
        m[0, 0] * x + m[0, 1] * y + m[0, 2] * z,
        m[1, 0] * x + m[1, 1] * y + m[1, 2] * z,
        m[2, 0] * x + m[2, 1] * y + m[2, 2] * z,
    )


@_jit
def _pixel(
    fx: float, fy: float, cx: float, cy: float, x: float, y: float, z: float
) -> tuple[int, int]:  # pragma: no cover
    """The pixel (column, row) a camera point with z > 0 projects to (nearest centre)."""
    inv = 1.0 / z
    return int(fx * x * inv + cx + 0.5), int(fy * y * inv + cy + 0.5)


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
def _cached_voxel(
    keys: Any, slots: Any, ix: int, iy: int, iz: int, cached: tuple[int, int, int, int]
) -> tuple[int, int, tuple[int, int, int, int]]:  # pragma: no cover
    """(block number, -1 where not allocated; index in the block; the cache) of voxel
    (ix, iy, iz). ``cached`` (``NO_LOOKUP`` at first) is the block looked up last, as
    (bx, by, bz, number): a ray's march or a cube's corners stay in one block for several
    voxels, and it is looked up once. (A plain jitted call: numba's
    ``inline="always"`` breaks ``raycast``'s parallel loop analysis.)"""
    bx = ix // B
    by = iy // B
    bz = iz // B
    if bx != cached[0] or by != cached[1] or bz != cached[2]:
        cached = (bx, by, bz, int(slots[_slot(keys, slots, bx, by, bz)]))
    return cached[3], (ix - bx * B) + B * ((iy - by * B) + B * (iz - bz * B)), cached


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
    # Neighbouring samples mostly fall in the block just handled: it is not looked up again.
    lbx = lby = lbz = NO_BLOCK
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
                x, y, zz = _moved(pose, a * dd, c * dd, dd)
                bx = math.floor(x / block_m)
                by = math.floor(y / block_m)
                bz = math.floor(zz / block_m)
                if bx == lbx and by == lby and bz == lbz:
                    continue
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
                lbx, lby, lbz = bx, by, bz
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
    the weight so far (capped at ``max_weight``); colours likewise where near the surface,
    with their own weight in ``colour[..., 3]``."""
    h, w = z.shape
    colour_cap = min(max_weight, 255.0)
    m = world_to_cam
    # A voxel's camera point is linear in its index within the block: the block's origin
    # moved once, then one step along each of the block's edges per voxel.
    sxx, sxy, sxz = _turned(m, voxel, 0.0, 0.0)
    syx, syy, syz = _turned(m, 0.0, voxel, 0.0)
    szx, szy, szz = _turned(m, 0.0, 0.0, voxel)
    inv_trunc = 1.0 / trunc
    for k in numba.prange(n_touched):
        b = touched[k]
        x0, y0, z0 = _moved(
            m, coords[b, 0] * B * voxel, coords[b, 1] * B * voxel, coords[b, 2] * B * voxel
        )
        for lz in range(B):
            for ly in range(B):
                rx = x0 + ly * syx + lz * szx
                ry = y0 + ly * syy + lz * szy
                rz = z0 + ly * syz + lz * szz
                row = B * (ly + B * lz)
                for lx in range(B):
                    zc = rz + lx * sxz
                    if zc <= 0.0:
                        continue
                    u, v = _pixel(fx, fy, cx, cy, rx + lx * sxx, ry + lx * sxy, zc)
                    if u < 0 or v < 0 or u >= w or v >= h:
                        continue
                    d = z[v, u]
                    if not (d > 0.0):
                        continue
                    sdf = d - zc
                    if sdf < -trunc:
                        continue
                    i = row + lx
                    f = min(1.0, sdf * inv_trunc)
                    w0 = weight[b, i]
                    inv = 1.0 / (w0 + 1.0)
                    tsdf[b, i] = (tsdf[b, i] * w0 + f) * inv
                    weight[b, i] = min(w0 + 1.0, max_weight)
                    if has_rgb and abs(sdf) < trunc:
                        # Colour has its own weight (channel 3): frames whose colour was
                        # left out do not darken it, and a voxel none coloured is said so.
                        c0 = float(colour[b, i, 3])
                        inv_c = 1.0 / (c0 + 1.0)
                        for ch in range(3):
                            colour[b, i, ch] = np.uint8(
                                (colour[b, i, ch] * c0 + rgb[v, u, ch]) * inv_c + 0.5
                            )
                        colour[b, i, 3] = np.uint8(min(c0 + 1.0, colour_cap))


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
    inv = 1.0 / voxel
    gx = x * inv
    gy = y * inv
    gz = z * inv
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
        i = lx + B * (ly + B * lz)
        ws = weight[b]
        ts = tsdf[b]
        if (
            ws[i] <= 0.0
            or ws[i + 1] <= 0.0
            or ws[i + B] <= 0.0
            or ws[i + B + 1] <= 0.0
            or ws[i + B * B] <= 0.0
            or ws[i + B * B + 1] <= 0.0
            or ws[i + B * B + B] <= 0.0
            or ws[i + B * B + B + 1] <= 0.0
        ):
            return 0.0, False
        # along x, then y, then z
        c00 = ts[i] + fx * (ts[i + 1] - ts[i])
        c10 = ts[i + B] + fx * (ts[i + B + 1] - ts[i + B])
        c01 = ts[i + B * B] + fx * (ts[i + B * B + 1] - ts[i + B * B])
        c11 = ts[i + B * B + B] + fx * (ts[i + B * B + B + 1] - ts[i + B * B + B])
        c0 = c00 + fy * (c10 - c00)
        c1 = c01 + fy * (c11 - c01)
        return c0 + fz * (c1 - c0), True
    cached = NO_LOOKUP  # the corners share few blocks: each is looked up once
    for c in range(8):
        dx = c & 1
        dy = (c >> 1) & 1
        dz = (c >> 2) & 1
        b, i, cached = _cached_voxel(keys, slots, ix + dx, iy + dy, iz + dz, cached)
        if b < 0:
            return 0.0, False
        if weight[b, i] <= 0.0:
            return 0.0, False
        a = (fx if dx else 1.0 - fx) * (fy if dy else 1.0 - fy) * (fz if dz else 1.0 - fz)
        total += a * tsdf[b, i]
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
    inv_voxel = 1.0 / voxel
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
            dx, dy, dz = _turned(pose, a, c, 1.0)
            scale = math.sqrt(a * a + c * c + 1.0)  # metres along the ray per unit of t
            inv_scale = 1.0 / scale
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
            # The march stays in one block for several steps: it is looked up once.
            cached = NO_LOOKUP
            while t < end:
                x = ox + t * dx
                y = oy + t * dy
                z = oz + t * dz
                b, i, cached = _cached_voxel(
                    keys,
                    slots,
                    math.floor(x * inv_voxel + 0.5),
                    math.floor(y * inv_voxel + 0.5),
                    math.floor(z * inv_voxel + 0.5),
                    cached,
                )
                if b < 0:
                    prev_t = -1.0
                    t += block_m * 0.75 * inv_scale
                    continue
                f = tsdf[b, i]
                wt = weight[b, i]
                if wt <= 0.0:
                    prev_t = -1.0
                    t += voxel * inv_scale
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
                    if bb >= 0 and colour[bb, ii, 3] > 0:  # else black: no colour (the
                        rgb[v, u, 0] = colour[bb, ii, 0]  # window shades it by its normals)
                        rgb[v, u, 1] = colour[bb, ii, 1]
                        rgb[v, u, 2] = colour[bb, ii, 2]
                    break
                prev_f = f
                prev_t = t
                t += max(voxel, f * trunc * 0.8) * inv_scale


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
    NaN: none) moved by ``pose`` meet the model pixel they project to in the raycast view.
    Serial: a parallel loop gained 0.3 ms a call on a quiet 2-core machine and lost several
    on a busy one (each of a frame's 14 calls waits for both threads)."""
    h, w = vertex.shape[:2]
    mh, mw = model_vertex.shape[:2]
    for v in range(h):
        acc = rows[v]
        acc[:] = 0.0
        for u in range(w):
            xc = vertex[v, u, 0]
            if xc != xc:
                continue
            px, py, pz = _moved(pose, xc, vertex[v, u, 1], vertex[v, u, 2])
            mx, my, mz = _moved(model_w2c, px, py, pz)
            if mz <= 0.0:
                continue
            mu, mv = _pixel(fx, fy, cx, cy, mx, my, mz)
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
                wx, wy, wz = _turned(pose, fnx, normal[v, u, 1], normal[v, u, 2])
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
def normal_equations(rows: Any, a: Any, b: Any) -> tuple[float, int]:  # pragma: no cover
    """``rows``' sums as JᵀJ (``a``, 6x6, filled both sides of the diagonal) and Jᵀr
    (``b``); returns (r², pairs)."""
    s = np.zeros(29)
    for v in range(rows.shape[0]):
        for k in range(29):
            s[k] += rows[v, k]
    k = 0
    for i in range(6):
        for j in range(i, 6):
            a[i, j] = s[k]
            a[j, i] = s[k]
            k += 1
    for i in range(6):
        b[i] = s[21 + i]
    return s[27], int(s[28])


@_jit
def _solve6(a: Any, b: Any, x: Any) -> bool:  # pragma: no cover
    """``x`` with ``a x = b`` (6x6, Gaussian elimination with partial pivoting, as LAPACK's
    gesv); False when ``a`` is singular. ``a`` and ``b`` are left as they were."""
    m = np.empty((6, 7))
    for i in range(6):
        for j in range(6):
            m[i, j] = a[i, j]
        m[i, 6] = b[i]
    for col in range(6):
        piv = col
        for r in range(col + 1, 6):
            if abs(m[r, col]) > abs(m[piv, col]):
                piv = r
        if m[piv, col] == 0.0:
            return False
        if piv != col:
            for j in range(7):
                m[col, j], m[piv, j] = m[piv, j], m[col, j]
        for r in range(col + 1, 6):
            f = m[r, col] / m[col, col]
            for j in range(col, 7):
                m[r, j] -= f * m[col, j]
    for i in range(5, -1, -1):
        t = m[i, 6]
        for j in range(i + 1, 6):
            t -= m[i, j] * x[j]
        x[i] = t / m[i, i]
    return True


@_jit
def exp_se3(xi: Any, out: Any) -> None:  # pragma: no cover
    """The 4x4 rigid motion of a small twist (rotation vector, translation) into ``out``
    (Rodrigues' formula)."""
    theta = math.sqrt(xi[0] * xi[0] + xi[1] * xi[1] + xi[2] * xi[2])
    for i in range(4):
        for j in range(4):
            out[i, j] = 1.0 if i == j else 0.0
    if theta > 1e-12:
        ax = xi[0] / theta
        ay = xi[1] / theta
        az = xi[2] / theta
        kx = np.array([[0.0, -az, ay], [az, 0.0, -ax], [-ay, ax, 0.0]])
        s = math.sin(theta)
        c1 = 1.0 - math.cos(theta)
        for i in range(3):
            for j in range(3):
                kk = 0.0
                for n in range(3):
                    kk += kx[i, n] * kx[n, j]
                out[i, j] += s * kx[i, j] + c1 * kk
    out[0, 3] = xi[3]
    out[1, 3] = xi[4]
    out[2, 3] = xi[5]


@_jit
def icp_level(problem: IcpProblem, iterations: int, rows: Any) -> None:  # pragma: no cover
    """Up to ``iterations`` Gauss-Newton steps of ICP at one level. ``problem`` is the
    tuple of ``icp_terms``' arguments before ``rows`` (its ``pose``, the third, updated in
    place): each step solves the normal equations (``icp_terms``) for a twist and moves the
    pose by it; stops early with under 6 pairs, singular equations or a step under 1e-6."""
    pose = problem[2]
    a = np.empty((6, 6))
    b = np.empty(6)
    xi = np.empty(6)
    step = np.empty((4, 4))
    for _ in range(iterations):
        icp_terms(*problem, rows)
        _, count = normal_equations(rows, a, b)
        if count < 6:
            break
        for i in range(6):
            b[i] = -b[i]
        if not _solve6(a, b, xi):
            break
        exp_se3(xi, step)
        moved = np.zeros((4, 4))
        for i in range(4):
            for j in range(4):
                for n in range(4):
                    moved[i, j] += step[i, n] * pose[n, j]
        pose[:, :] = moved
        norm = 0.0
        for i in range(6):
            norm += xi[i] * xi[i]
        if math.sqrt(norm) < 1e-6:
            break


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


#: The colour of a surface no colour image saw (its frames' colour was left out).
NO_COLOUR = (128, 128, 128)


@_jit
def _colour_of(colour: Any, b: int, i: int, out: Any) -> bool:  # pragma: no cover
    """Voxel (b, i)'s colour into ``out`` (RGB), ``NO_COLOUR`` where none was fused;
    whether one was."""
    if b >= 0 and colour[b, i, 3] > 0:
        out[0] = colour[b, i, 0]
        out[1] = colour[b, i, 1]
        out[2] = colour[b, i, 2]
        return True
    out[0], out[1], out[2] = NO_COLOUR
    return False


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
    seen: Any,
) -> None:  # pragma: no cover
    """The colour of the nearest voxel to each point, and whether a colour image saw it."""
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
        seen[n] = _colour_of(colour, b, i, out[n])


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
