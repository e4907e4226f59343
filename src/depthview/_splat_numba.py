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
# A row's loops, inlined into the frame's: each a loop of its own that vectorises.
_row = numba.njit(inline="always", nogil=True, boundscheck=False, error_model="numpy")

_F32 = np.float32


@_row  # type: ignore[untyped-decorator, unused-ignore]
def _eye_row(
    raw: Any, metres: Any, fv: Any, intr: Any, view: Any, proj: Any, near: Any, out: Any
) -> None:  # pragma: no cover - compiled
    """One depth row's points seen from the eye, into ``out`` (4, w + 1): each pixel's panel
    offset (proj.fx * x / z, proj.fy * y / z), its distance along the eye's axis (0 where
    there is no point: no reading, or not in front of the eye) and its own depth z. The
    table lookups come first, so the arithmetic after them runs in vector lanes."""
    ex, ey, ez, z = out[0], out[1], out[2], out[3]
    w = raw.shape[0]
    for u in range(w):
        z[u] = metres[raw[u]]
    fx, fy, cx, cy = intr[0], intr[1], intr[2], intr[3]
    pfx, pfy = proj[0], proj[1]
    v00, v01, v02, v03 = view[0, 0], view[0, 1], view[0, 2], view[0, 3]
    v10, v11, v12, v13 = view[1, 0], view[1, 1], view[1, 2], view[1, 3]
    v20, v21, v22, v23 = view[2, 0], view[2, 1], view[2, 2], view[2, 3]
    ry = (fv - cy) / fy
    for u in range(w):
        zu = z[u]
        x = (_F32(u) - cx) / fx * zu
        y = ry * zu
        e0 = v00 * x + v01 * y + v02 * zu + v03
        e1 = v10 * x + v11 * y + v12 * zu + v13
        e2 = v20 * x + v21 * y + v22 * zu + v23
        seen = (zu > _F32(0.0)) & (e2 > near)  # NaN (no reading) compares false
        ex[u] = pfx * e0 / e2 if seen else _F32(0.0)
        ey[u] = pfy * e1 / e2 if seen else _F32(0.0)
        ez[u] = e2 if seen else _F32(0.0)


@_row  # type: ignore[untyped-decorator, unused-ignore]
def _footprint_row(
    here: Any,
    below: Any,
    has_below: bool,
    intr_fx: Any,
    proj: Any,
    size: Any,
    step: Any,
    stretch: Any,
    max_splat: int,
    out: Any,
) -> None:  # pragma: no cover - compiled
    """Where each point of a row lands and the rectangle it covers, into ``out`` (4, w):
    floor(x + 0.5), floor(y + 0.5) and its width and height in pixels (0: no point). A
    point reaches as far as its right and lower neighbours on the same surface (a depth
    step within ``step`` of z), at most ``stretch`` footprints, at least one footprint
    where a neighbour is missing. Arithmetic only, so it runs in vector lanes."""
    ex, ey, ez, z = here[0], here[1], here[2], here[3]
    bx, by, bz, bzz = below[0], below[1], below[2], below[3]
    px, py, sw, sh = out[0], out[1], out[2], out[3]
    pfx, pcx, pcy = proj[0], proj[2], proj[3]
    biggest = _F32(max_splat)
    for u in range(px.shape[0]):
        e2 = ez[u]
        zu = z[u]
        hx = ex[u]
        hy = ey[u]
        footprint = pfx * zu / (intr_fx * e2)
        right = (ez[u + 1] != _F32(0.0)) & (abs(z[u + 1] - zu) <= step * zu)
        down = has_below & (bz[u] != _F32(0.0)) & (abs(bzz[u] - zu) <= step * zu)
        ext_x = (abs(ex[u + 1] - hx) if right else _F32(0.0)) + (
            abs(bx[u] - hx) if down else _F32(0.0)
        )
        ext_y = (abs(ey[u + 1] - hy) if right else _F32(0.0)) + (
            abs(by[u] - hy) if down else _F32(0.0)
        )
        most = stretch * footprint
        ext_x = min(ext_x, most)
        ext_y = min(ext_y, most)
        if not (right & down):
            ext_x = max(ext_x, footprint)
            ext_y = max(ext_y, footprint)
        cw = min(max(np.ceil(size * ext_x - _F32(0.001)), _F32(1.0)), biggest)
        ch = min(max(np.ceil(size * ext_y - _F32(0.001)), _F32(1.0)), biggest)
        point = e2 != _F32(0.0)
        px[u] = np.floor(hx + pcx + _F32(0.5))
        py[u] = np.floor(hy + pcy + _F32(0.5))
        sw[u] = cw if point else _F32(0.0)
        sh[u] = ch if point else _F32(0.0)


@_row  # type: ignore[untyped-decorator, unused-ignore]
def _draw_row(
    ez: Any, cells: Any, colours: Any, shifts: Any, keys: Any, out: Any
) -> None:  # pragma: no cover - compiled
    """Draw a row's points as their rectangles; the nearest (smallest ``ez``) wins each
    panel pixel. ``colours`` are the row's (w, 1) packed pixels or (w, 3) RGB bytes
    packed with ``shifts`` (R, G, B shifts and the set bits)."""
    ph, pw = keys.shape
    rgb = colours.shape[1] == 3
    px, py, sw, sh = cells[0], cells[1], cells[2], cells[3]
    for u in range(px.shape[0]):
        sx = int(sw[u])
        if sx == 0:
            continue
        sy = int(sh[u])
        ix = int(px[u])
        iy = int(py[u])
        e2 = ez[u]
        x0 = ix - (sx - 1) // 2
        y0 = iy - (sy - 1) // 2
        if x0 + sx <= 0 or y0 + sy <= 0 or x0 >= pw or y0 >= ph:
            continue
        if sx == 1 and sy == 1 and e2 >= keys[iy, ix]:
            continue  # hidden: the common case of a one-pixel point, decided early
        if rgb:
            colour = (
                (np.uint32(colours[u, 0]) << shifts[0])
                | (np.uint32(colours[u, 1]) << shifts[1])
                | (np.uint32(colours[u, 2]) << shifts[2])
                | shifts[3]
            )
        else:
            colour = np.uint32(colours[u, 0])
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
def splat_frame(
    raw: Any,
    metres: Any,
    colours: Any,
    shifts: Any,
    intr: Any,
    view: Any,
    proj: Any,
    near: Any,
    size: Any,
    step: Any,
    stretch: Any,
    max_splat: int,
    rows: Any,
    cells: Any,
    keys: Any,
    out: Any,
) -> None:  # pragma: no cover - compiled
    """Splat every depth pixel with a point as a rectangle its footprint's size, a row at a
    time: the row below is seen from the eye first (its points are the lower neighbours),
    so the frame's working set is two rows (``rows``: (8, w + 1)) and ``cells`` (4, w).
    ``colours`` are (h, w, 1) packed pixels or (h, w, 3) RGB bytes."""
    h, w = raw.shape
    rows[:, w] = _F32(0.0)  # the right edge: no neighbour there
    _eye_row(raw[0], metres, _F32(0), intr, view, proj, near, rows[0:4])
    for v in range(h):
        here = rows[0:4] if v % 2 == 0 else rows[4:8]
        below = rows[4:8] if v % 2 == 0 else rows[0:4]
        has_below = v + 1 < h
        if has_below:
            _eye_row(raw[v + 1], metres, _F32(v + 1), intr, view, proj, near, below)
        _footprint_row(here, below, has_below, intr[0], proj, size, step, stretch, max_splat, cells)
        _draw_row(here[2], cells, colours[v], shifts, keys, out)


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
