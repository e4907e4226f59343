"""libfreenect's per-frame registration loops compiled with numba (the ``fast`` extra).

One pass over the frame with libfreenect's integer arithmetic, reading the tables of
``_registration_tables``; no allocation. Pixels with no reading look up ``NOTHING``
(0xFFFF) and go through the same steps, where a minimum leaves their target as it was:
fewer branches the processor can mispredict at the edges of holes. Imported on first use,
and only when numba is installed; ``registration`` has a numpy version of each loop.
"""

from __future__ import annotations

from typing import Any

import numba

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)

NOTHING = 0xFFFF
_UINT32 = 1 << 32
_WIDTH = 640
_X_END = _WIDTH << 8  # sums from here on land right of the image


@_jit
def _target(target_x: Any, row: Any, shift: Any, size: int) -> Any:  # pragma: no cover
    """Where the C puts a pixel: column ``(target_x + shift) / 256`` (int division, which
    truncates toward zero) on its target row, offsets in unsigned 32-bit arithmetic; -1
    where libfreenect drops it (column outside the image) or would write outside the frame."""
    s = target_x + shift
    if s >= 0:
        nx = s >> 8
        if nx >= _WIDTH:
            return -1
    elif s > -256:
        nx = 0  # -255..-1 truncate to column 0
    else:
        return -1
    t = row + nx
    if t >= _UINT32:
        t -= _UINT32
    return t if t < size else -1


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def register(
    placed_mm: Any, depth: Any, target_x: Any, row: Any, shift: Any, out: Any
) -> None:  # pragma: no cover - compiled
    """FREENECT_DEPTH_REGISTERED: out (flat, H*W) gets each pixel's millimetres at its
    target in the colour image, the nearest where several land on one pixel, 0 elsewhere."""
    size = out.shape[0]
    out[:] = NOTHING
    for y in range(depth.shape[0]):
        for x in range(depth.shape[1]):
            m = placed_mm[depth[y, x]]
            s = target_x[y, x] + shift[m]
            t = row[y, x] + (s >> 8)
            if not ((s >= 0) & (s < _X_END) & (t < size)):  # one well-predicted branch
                t = _target(target_x[y, x], row[y, x], shift[m], size)  # the rare cases
                if t < 0:
                    continue
            current = out[t]
            out[t] = m if m < current else current
    for i in range(size):
        value = out[i]
        out[i] = 0 if value == NOTHING else value


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def map_rgb_to_depth(
    placed_mm: Any,
    depth: Any,
    target_x: Any,
    row: Any,
    shift: Any,
    video: Any,
    nearest: Any,
    source: Any,
    out: Any,
) -> None:  # pragma: no cover - compiled
    """freenect_map_rgb_to_depth: the 3 bytes of depth pixel i in ``out`` (flat, H*W*3)
    are those of the colour pixel c it lands on in ``video`` (flat too); black where it
    lands outside the image, has no depth, or is hidden behind a nearer one. ``nearest``
    (uint16) and ``source`` (int32) are scratch buffers of H*W."""
    size = nearest.shape[0]
    width = depth.shape[1]
    nearest[:] = NOTHING
    for y in range(depth.shape[0]):
        for x in range(width):
            i = y * width + x
            source[i] = -1
            m = placed_mm[depth[y, x]]
            s = target_x[y, x] + shift[m]
            c = row[y, x] + (s >> 8)
            if not ((s >= 0) & (s < _X_END) & (c < size)):
                c = _target(target_x[y, x], row[y, x], shift[m], size)
                if c < 0:
                    continue
            if m != NOTHING:
                source[i] = c
                current = nearest[c]
                nearest[c] = m if m < current else current
    out[:] = 0
    for y in range(depth.shape[0]):
        for x in range(width):
            i = y * width + x
            c = source[i]
            if c >= 0 and placed_mm[depth[y, x]] <= nearest[c]:
                out[3 * i] = video[3 * c]
                out[3 * i + 1] = video[3 * c + 1]
                out[3 * i + 2] = video[3 * c + 2]
