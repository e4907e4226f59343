"""libfreenect's per-frame registration loops compiled with numba (the ``fast`` extra).

One pass over the frame with libfreenect's integer arithmetic and branches, reading the
tables of ``_registration_tables``; no allocation. Imported on first use, and only when
numba is installed; ``registration`` has a numpy version of each loop otherwise.
"""

from __future__ import annotations

from typing import Any

import numba

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)

_UINT32 = 1 << 32
_X_SCALE_SHIFT = 8  # REG_X_VAL_SCALE = 256
_WIDTH = 640


@_jit
def _target_x(target_x: Any, shift: Any, mm: Any) -> Any:  # pragma: no cover - compiled
    """The C's ``(target_x + shift[mm]) / 256`` (int division truncating toward zero) as an
    unsigned column, or -1 where libfreenect drops the pixel (column outside the image)."""
    s = target_x + shift[mm]
    if s < 0:
        return 0 if s > -256 else -1  # -255..-1 truncate to column 0
    nx = s >> _X_SCALE_SHIFT
    return nx if nx < _WIDTH else -1


@_jit
def _index(row: Any, nx: Any, size: int) -> Any:  # pragma: no cover - compiled
    """Row offset + column in unsigned 32-bit arithmetic, or -1 outside the frame (where
    libfreenect would write out of bounds)."""
    t = row + nx
    if t >= _UINT32:
        t -= _UINT32
    return t if t < size else -1


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def register(
    registered_mm: Any, depth: Any, target_x: Any, row: Any, shift: Any, out: Any
) -> None:  # pragma: no cover - compiled
    """FREENECT_DEPTH_REGISTERED: out (flat, H*W) gets each pixel's millimetres at its
    target in the colour image, the nearest where several land on one pixel, 0 elsewhere."""
    size = out.shape[0]
    out[:] = 0
    for y in range(depth.shape[0]):
        for x in range(depth.shape[1]):
            m = registered_mm[depth[y, x]]
            if m == 0:
                continue
            nx = _target_x(target_x[y, x], shift, m)
            if nx < 0:
                continue
            t = _index(row[y, x], nx, size)
            if t < 0:
                continue
            current = out[t]
            if current == 0 or current > m:
                out[t] = m


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def map_rgb_to_depth(
    valid_mm: Any,
    depth: Any,
    target_x: Any,
    row: Any,
    shift: Any,
    video: Any,
    nearest: Any,
    source: Any,
    out: Any,
) -> None:  # pragma: no cover - compiled
    """freenect_map_rgb_to_depth: out[y, x] is the colour pixel depth pixel (y, x) lands on,
    black where it lands outside the image, has no depth, or is hidden behind a nearer one.
    ``nearest`` (flat uint16) and ``source`` (flat int64) are scratch buffers of H*W."""
    size = nearest.shape[0]
    height, width = depth.shape
    nearest[:] = 0
    for y in range(height):
        for x in range(width):
            i = y * width + x
            source[i] = -1
            m = valid_mm[depth[y, x]]
            if m == 0:
                continue
            nx = _target_x(target_x[y, x], shift, m)
            if nx < 0:
                continue
            c = _index(row[y, x], nx, size)
            if c < 0:
                continue
            source[i] = c
            if nearest[c] == 0 or nearest[c] > m:
                nearest[c] = m
    for y in range(height):
        for x in range(width):
            c = source[y * width + x]
            if c >= 0 and valid_mm[depth[y, x]] <= nearest[c]:
                cy = c // width
                cx = c - cy * width
                out[y, x, 0] = video[cy, cx, 0]
                out[y, x, 1] = video[cy, cx, 1]
                out[y, x, 2] = video[cy, cx, 2]
            else:
                out[y, x, 0] = 0
                out[y, x, 1] = 0
                out[y, x, 2] = 0
