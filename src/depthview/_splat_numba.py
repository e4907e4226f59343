"""The point splat compiled with numba: ``splat``'s loops (the ``fast`` and ``3d`` extras).

The arithmetic is float32 in the order the 3D view's compute shaders use, so the CPU and
the GPU put a point on the same pixel except where float rounding of the two differs by a
hair at a pixel's edge. One thread: the frames of a 30 Hz camera fit in a fraction of a
core, and a second thread would spend as much CPU again waking up.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")

_F32 = np.float32


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def eye_coordinates(
    raw: Any, metres: Any, intr: Any, view: Any, proj: Any, near: Any, ex: Any, ey: Any, ez: Any
) -> None:  # pragma: no cover - compiled
    """For each depth pixel: its panel offset (proj.fx * x / z, proj.fy * y / z) in ex, ey
    and its distance along the eye's axis in ez; ez is 0 where there is no point (no
    reading, or not in front of the eye)."""
    h, w = raw.shape
    fx, fy, cx, cy = intr[0], intr[1], intr[2], intr[3]
    pfx, pfy = proj[0], proj[1]
    for v in range(h):
        for u in range(w):
            z = metres[raw[v, u]]
            ex[v, u] = _F32(0.0)
            ey[v, u] = _F32(0.0)
            ez[v, u] = _F32(0.0)
            if not z > _F32(0.0):  # NaN: no reading
                continue
            x = (_F32(u) - cx) / fx * z
            y = (_F32(v) - cy) / fy * z
            e0 = view[0, 0] * x + view[0, 1] * y + view[0, 2] * z + view[0, 3]
            e1 = view[1, 0] * x + view[1, 1] * y + view[1, 2] * z + view[1, 3]
            e2 = view[2, 0] * x + view[2, 1] * y + view[2, 2] * z + view[2, 3]
            if e2 > near:
                ex[v, u] = pfx * e0 / e2
                ey[v, u] = pfy * e1 / e2
                ez[v, u] = e2


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def splat_grid(
    raw: Any,
    metres: Any,
    colours: Any,
    shifts: Any,
    ex: Any,
    ey: Any,
    ez: Any,
    intr_fx: Any,
    proj: Any,
    size: Any,
    step: Any,
    stretch: Any,
    max_splat: int,
    keys: Any,
    out: Any,
) -> None:  # pragma: no cover - compiled
    """Splat every depth pixel with a point as a rectangle its footprint's size; the
    nearest (smallest ``ez``) wins each panel pixel. ``colours`` are (h, w, 1) packed
    pixels, or (h, w, 3) RGB bytes packed with ``shifts`` (R, G, B shifts and the set bits)."""
    h, w = raw.shape
    ph, pw = keys.shape
    pfx, pcx, pcy = proj[0], proj[2], proj[3]
    rgb = colours.shape[2] == 3
    for v in range(h):
        for u in range(w):
            e2 = ez[v, u]
            if e2 == _F32(0.0):
                continue
            z = metres[raw[v, u]]
            hx = ex[v, u]
            hy = ey[v, u]
            ix = int(np.floor(hx + pcx + _F32(0.5)))
            iy = int(np.floor(hy + pcy + _F32(0.5)))
            footprint = pfx * z / (intr_fx * e2)
            ext_x = _F32(0.0)
            ext_y = _F32(0.0)
            found = 0
            if u + 1 < w and ez[v, u + 1] != _F32(0.0):
                zn = metres[raw[v, u + 1]]
                if abs(zn - z) <= step * z:
                    ext_x += abs(ex[v, u + 1] - hx)
                    ext_y += abs(ey[v, u + 1] - hy)
                    found += 1
            if v + 1 < h and ez[v + 1, u] != _F32(0.0):
                zn = metres[raw[v + 1, u]]
                if abs(zn - z) <= step * z:
                    ext_x += abs(ex[v + 1, u] - hx)
                    ext_y += abs(ey[v + 1, u] - hy)
                    found += 1
            most = stretch * footprint
            ext_x = min(ext_x, most)
            ext_y = min(ext_y, most)
            if found != 2:
                ext_x = max(ext_x, footprint)
                ext_y = max(ext_y, footprint)
            sx = int(np.ceil(size * ext_x - _F32(0.001)))
            sy = int(np.ceil(size * ext_y - _F32(0.001)))
            sx = min(max(sx, 1), max_splat)
            sy = min(max(sy, 1), max_splat)
            x0 = ix - (sx - 1) // 2
            y0 = iy - (sy - 1) // 2
            if x0 + sx <= 0 or y0 + sy <= 0 or x0 >= pw or y0 >= ph:
                continue
            if sx == 1 and sy == 1 and e2 >= keys[iy, ix]:
                continue  # hidden: the common case of a one-pixel point, decided early
            if rgb:
                colour = (
                    (np.uint32(colours[v, u, 0]) << shifts[0])
                    | (np.uint32(colours[v, u, 1]) << shifts[1])
                    | (np.uint32(colours[v, u, 2]) << shifts[2])
                    | shifts[3]
                )
            else:
                colour = np.uint32(colours[v, u, 0])
            if sx == 1 and sy == 1:  # in the panel and nearer (both checked above)
                keys[iy, ix] = e2
                out[iy, ix] = colour
                continue
            for y in range(max(y0, 0), min(y0 + sy, ph)):
                for x in range(max(x0, 0), min(x0 + sx, pw)):
                    if e2 < keys[y, x]:
                        keys[y, x] = e2
                        out[y, x] = colour


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def splat_points(
    points: Any, colours: Any, view: Any, proj: Any, near: Any, size: int, keys: Any, out: Any
) -> None:  # pragma: no cover - compiled
    """Splat (N, 3) points as squares of ``size`` pixels; the nearest wins each pixel."""
    ph, pw = keys.shape
    pfx, pfy, pcx, pcy = proj[0], proj[1], proj[2], proj[3]
    for i in range(points.shape[0]):
        x = points[i, 0]
        y = points[i, 1]
        z = points[i, 2]
        e0 = view[0, 0] * x + view[0, 1] * y + view[0, 2] * z + view[0, 3]
        e1 = view[1, 0] * x + view[1, 1] * y + view[1, 2] * z + view[1, 3]
        e2 = view[2, 0] * x + view[2, 1] * y + view[2, 2] * z + view[2, 3]
        if not e2 > near:
            continue
        ix = int(np.floor(pfx * e0 / e2 + pcx + _F32(0.5)))
        iy = int(np.floor(pfy * e1 / e2 + pcy + _F32(0.5)))
        x0 = ix - (size - 1) // 2
        y0 = iy - (size - 1) // 2
        colour = colours[i]
        for yy in range(max(y0, 0), min(y0 + size, ph)):
            for xx in range(max(x0, 0), min(x0 + size, pw)):
                if e2 < keys[yy, xx]:
                    keys[yy, xx] = e2
                    out[yy, xx] = colour
