"""The demo room's per-frame loops compiled with numba (the ``fast`` extra): ``scene``'s
moving parts and sensor model without the whole-frame temporaries numpy makes.

The arithmetic is numpy's, float32 where numpy's is and float64 where it promotes, in
numpy's order, so depth and z are numpy's to the bit; the colour of a moving part may
differ by one level where numpy's dot products round differently.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")

_F32 = np.float32


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def moving_parts(
    a: Any,
    b: Any,
    z: Any,
    rgb: Any,
    owner: Any,
    boxes: Any,
    centres: Any,
    radii: Any,
    y_in_f32: Any,
    albedo: Any,
    light: Any,
) -> None:  # pragma: no cover - compiled
    """Ray-cast the ellipsoids (``centres``, ``radii``: (P, 3)) into ``z`` inside their
    ``boxes`` ((P, 4): v0, v1, u0, u1), nearest wins and a later part wins a tie, then
    shade each pixel a part owns into ``rgb`` (Lambert, as ``scene._shade``). The
    arithmetic is ``scene._ellipsoid_hit``'s: float32 where numpy's is, float64 where it
    promotes (``y_in_f32``: the part's y terms stay float32, its centre's y being a plain
    number). ``owner`` is scratch of ``z``'s shape."""
    parts = boxes.shape[0]
    for p in range(parts):
        for v in range(boxes[p, 0], boxes[p, 1]):
            for u in range(boxes[p, 2], boxes[p, 3]):
                owner[v, u] = -1
    for p in range(parts):
        cx, cy, cz = centres[p, 0], centres[p, 1], centres[p, 2]
        rx, ry, rz = radii[p, 0], radii[p, 1], radii[p, 2]
        rx32, ry32 = _F32(rx), _F32(ry)
        inv_rz2 = _F32(1.0 / rz**2)
        kx, ky, kz = cx / rx**2, cy / ry**2, cz / rz**2
        ky32 = _F32(ky)
        qc = (cx / rx) ** 2 + (cy / ry) ** 2 + (cz / rz) ** 2 - 1.0
        u0, u1 = boxes[p, 2], boxes[p, 3]
        step = abs(np.float64(a[0, u0 + 1]) - np.float64(a[0, u0])) if u1 - u0 > 1 else 1.0
        for v in range(boxes[p, 0], boxes[p, 1]):
            # Along a row b is fixed and the discriminant is a downward parabola in a (the
            # part lies wholly in front): only the a between its roots, widened by three
            # pixels (far beyond any rounding), can hit; the exact test decides there.
            bv = np.float64(b[v, u0])
            big_b = bv * bv / ry**2 + 1.0 / rz**2
            big_c = bv * ky + kz
            c2, c1, c0 = kx * kx - qc / rx**2, 2.0 * kx * big_c, big_c * big_c - big_b * qc
            roots = c1 * c1 - 4.0 * c2 * c0
            if c2 < 0.0 and roots < -1e-9 * (c1 * c1 + abs(4.0 * c2 * c0)):
                continue
            a_lo, a_hi = -np.inf, np.inf
            if c2 < 0.0:
                root = np.sqrt(max(roots, 0.0))
                r1, r2 = (-c1 + root) / (2.0 * c2), (-c1 - root) / (2.0 * c2)
                margin = 3.0 * step + 1e-6 * (abs(r1) + abs(r2))
                a_lo, a_hi = min(r1, r2) - margin, max(r1, r2) + margin
            for u in range(u0, u1):
                a32, b32 = a[v, u], b[v, u]
                if a32 < a_lo or a32 > a_hi:
                    continue
                sa, sb = a32 / rx32, b32 / ry32
                qa = sa * sa + sb * sb + inv_rz2
                qb_y = np.float64(b32 * ky32) if y_in_f32[p] else np.float64(b32) * ky
                qb = np.float64(a32) * kx + qb_y + kz
                disc = qb * qb - np.float64(qa) * qc
                if not disc >= 0.0:
                    continue
                hit = _F32((qb - np.sqrt(disc)) / np.float64(qa))
                if hit <= z[v, u] and hit < np.inf:
                    z[v, u] = hit
                    owner[v, u] = p
    for p in range(parts):
        cx, cy, cz = centres[p, 0], centres[p, 1], centres[p, 2]
        rx, ry, rz = radii[p, 0], radii[p, 1], radii[p, 2]
        ry2_32, cy32 = _F32(ry**2), _F32(cy)
        for v in range(boxes[p, 0], boxes[p, 1]):
            for u in range(boxes[p, 2], boxes[p, 3]):
                if owner[v, u] != p:
                    continue
                zs = z[v, u]
                nx = (np.float64(a[v, u] * zs) - cx) / rx**2
                if y_in_f32[p]:
                    ny = np.float64((b[v, u] * zs - cy32) / ry2_32)
                else:
                    ny = (np.float64(b[v, u] * zs) - cy) / ry**2
                nz = (np.float64(zs) - cz) / rz**2
                norm = np.sqrt(nx * nx + ny * ny + nz * nz)
                nx, ny, nz = nx / norm, ny / norm, nz / norm
                lambert = abs(nx * light[0] + ny * light[1] + nz * light[2])
                falloff = _F32(1.0) / (_F32(1.0) + _F32(0.04) * (zs * zs))
                shade = (0.35 + 0.65 * lambert) * np.float64(_F32(0.55) + _F32(0.45) * falloff)
                for c in range(3):
                    value = np.float64(albedo[p, c]) * shade * 255.0 + 0.5
                    rgb[v, u, c] = np.uint8(min(max(value, 0.0), 255.0))


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def sense(
    z: Any,
    noise: Any,
    ragged: Any,
    screen: Any,
    screen_z: Any,
    fb: Any,
    zero_plane: Any,
    min_range: Any,
    max_range: Any,
    edge_jump: Any,
    band_from: Any,
    invalid_raw: Any,
    depth: Any,
) -> None:  # pragma: no cover - compiled
    """``DemoScene.sense`` row by row into ``depth``: IR shadow, range, ragged edges, the
    right band and the television screen (``screen`` where ``z >= screen_z``). The raw value
    is ``units.kinect_raw``'s, in its float64 order: ``zero_plane`` holds its reference
    distance, emitter distance, reference pixel size and const shift."""
    ref, dcmos, pixel, shift = zero_plane[0], zero_plane[1], zero_plane[2], zero_plane[3]
    h, w = z.shape
    proj_u = np.empty(w, np.float32)
    raw = np.empty(w, np.float32)
    edge = np.empty(w, np.bool_)
    top = _F32(invalid_raw - 1)
    for v in range(h):
        for u in range(w):
            inv_z = _F32(1.0) / z[v, u]
            proj_u[u] = _F32(u) - fb * inv_z
            m = np.float64(z[v, u])
            over = m * 100.0 - ref
            metric = over * dcmos / (ref + over)
            raw[u] = _F32(4.0 * (metric / pixel + 0.375) + 4.0 * shift) if m > 0 else np.nan
            edge[u] = False
        for u in range(w - 1):
            if abs(raw[u + 1] - raw[u]) > edge_jump:
                edge[u] = True
                edge[u + 1] = True
        ahead = proj_u[w - 1]
        for u in range(w - 1, -1, -1):
            shadow = u < w - 1 and proj_u[u] > ahead + _F32(0.25)
            ahead = min(ahead, proj_u[u])
            zv = z[v, u]
            invalid = (
                shadow
                or not (zv >= min_range and zv <= max_range)
                or (edge[u] and ragged[v, u])
                or u >= band_from
                or (screen[v, u] and zv >= screen_z[v, u])
            )
            if invalid:
                depth[v, u] = invalid_raw
                continue
            r = raw[u] + noise[v, u]
            r = min(max(r, _F32(0.0)), top)
            depth[v, u] = np.uint16(np.rint(r))


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def _clean(t: Any, nan: Any) -> Any:  # pragma: no cover - compiled
    """``np.nan_to_num(t, nan=nan)``: NaN to ``nan``, an infinity to the largest float."""
    if t != t:
        return nan
    if t == np.inf:
        return np.finfo(np.float64).max
    if t == -np.inf:
        return -np.finfo(np.float64).max
    return t


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def walk_surfaces(
    o: Any,
    d: Any,
    planes: Any,
    plane_ids: Any,
    back: Any,
    boxes: Any,
    box_ids: Any,
    z: Any,
    label: Any,
) -> None:  # pragma: no cover - compiled
    """``WalkScene.true_depth`` pixel by pixel: rays ``o + t d`` (``d``: (H, W, 3) float32)
    against the room's planes ((P, 2): axis, value), the back wall with its door
    (``back``: wall z, corridor z, door x0, x1, y0, y1, wall id, corridor id) and the boxes
    ((B, 3, 2): lo, hi per axis); nearest wins, in that order, as numpy's ``put`` does.
    float64 where numpy promotes, float32 where it casts."""
    h, w = z.shape
    inf32 = _F32(np.inf)
    rel = np.empty(boxes.shape)  # the boxes' bounds less the origin, as numpy's lo - o[a]
    for b in range(boxes.shape[0]):
        for a in range(3):
            rel[b, a, 0] = boxes[b, a, 0] - o[a]
            rel[b, a, 1] = boxes[b, a, 1] - o[a]
    sphere = np.empty((boxes.shape[0], 4))  # centre less the origin, (1.01 radius)^2
    for b in range(boxes.shape[0]):
        r2 = 0.0
        for a in range(3):
            sphere[b, a] = 0.5 * (boxes[b, a, 0] + boxes[b, a, 1]) - o[a]
            r2 += (0.5 * (boxes[b, a, 1] - boxes[b, a, 0])) ** 2
        sphere[b, 3] = 1.0201 * r2 + 1e-9
    for v in range(h):
        for u in range(w):
            zz = inf32
            lab = 0
            for p in range(planes.shape[0]):
                t = (planes[p, 1] - o[int(planes[p, 0])]) / np.float64(d[v, u, int(planes[p, 0])])
                hit = _F32(t) if t > 0 else inf32
                if hit < zz:
                    zz = hit
                    lab = plane_ids[p]
            d0, d1, d2 = d[v, u, 0], d[v, u, 1], d[v, u, 2]
            tb = _F32((back[0] - o[2]) / np.float64(d2))
            if not tb > 0:
                tb = inf32
            xb = o[0] + np.float64(tb * d0)
            yb = o[1] + np.float64(tb * d1)
            door = xb > back[2] and xb < back[3] and yb > back[4] and yb < back[5]
            if door:
                tb = _F32((back[1] - o[2]) / np.float64(d2))
            if tb < zz:
                zz = tb
                lab = int(back[6])
            if door and zz == tb:
                lab = int(back[7])
            dx, dy, dz = np.float64(d0), np.float64(d1), np.float64(d2)
            dd = dx * dx + dy * dy + dz * dz
            for b in range(boxes.shape[0]):
                # A ray whose line passes wide of the box's bounding sphere misses the box
                # (the margin in ``sphere`` dwarfs any rounding): skip the exact slabs.
                cx, cy, cz = sphere[b, 0], sphere[b, 1], sphere[b, 2]
                ex, ey, ez = cy * dz - cz * dy, cz * dx - cx * dz, cx * dy - cy * dx
                if ex * ex + ey * ey + ez * ez > sphere[b, 3] * dd:
                    continue
                near = -np.inf
                far = np.inf
                for a in range(3):
                    da = np.float64(d[v, u, a])
                    t0 = rel[b, a, 0] / da
                    t1 = rel[b, a, 1] / da
                    lo = np.nan if (t0 != t0 or t1 != t1) else min(t0, t1)
                    hi = np.nan if (t0 != t0 or t1 != t1) else max(t0, t1)
                    near = max(near, _clean(lo, -np.inf))
                    far = min(far, _clean(hi, np.inf))
                    # near only grows and far only shrinks: a miss, or a hit behind what
                    # is already nearer, is known before the last axis
                    if near > far or _F32(near) > zz:
                        break
                hit = _F32(near) if (near <= far and near > 0) else inf32
                if hit < zz:
                    zz = hit
                    lab = box_ids[b]
            z[v, u] = zz
            label[v, u] = lab
