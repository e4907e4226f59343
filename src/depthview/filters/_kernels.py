"""The filters' per-pixel loops, compiled with numba (the ``fast`` extra).

Each loop follows librealsense's own order of reads and writes and its float32 arithmetic
(``src/proc/*.h``), which is what makes the results bit for bit theirs. Imported on first use
by ``_backend``; nothing here checks arguments (the filter classes do).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)

F32 = np.float32
HALF = np.float32(0.5)
ONE = np.float32(1.0)


# -- threshold, disparity ----------------------------------------------------------------


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def lut_u16(table: Any, src: Any, out: Any) -> None:  # pragma: no cover - compiled
    """out = table[src] for uint16 images (threshold's keep-or-zero table)."""
    h, w = src.shape
    for y in range(h):
        for x in range(w):
            out[y, x] = table[src[y, x]]


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def to_depth(factor: Any, src: Any, out: Any) -> None:  # pragma: no cover - compiled
    """Disparity (float32) to z16: (uint16)(factor / d + 0.5f) where d is a normal float."""
    h, w = src.shape
    for y in range(h):
        for x in range(w):
            d = src[y, x]
            a = abs(d)
            if a >= F32(1.1754944e-38) and a <= F32(3.4028235e38):  # std::isnormal
                v = factor / d + HALF
                out[y, x] = np.uint16(np.int64(np.int32(v)) & 0xFFFF) if abs(v) < 2.0**31 else 0
            else:
                out[y, x] = 0


# -- decimation ---------------------------------------------------------------------------


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def _median(p: Any, n: int) -> Any:  # pragma: no cover - compiled
    """librealsense's median networks (opt_med3..9; min of two), on the first n of p."""
    if n == 1:
        return p[0]
    if n == 2:
        return min(p[0], p[1])
    if n == 3:
        _sort(p, 0, 1)
        _sort(p, 1, 2)
        _sort(p, 0, 1)
        return p[1]
    if n == 4:
        _sort(p, 0, 1)
        _sort(p, 2, 3)
        _sort(p, 0, 2)
        _sort(p, 1, 3)
        return min(p[1], p[2])
    if n == 5:
        _sort(p, 0, 1)
        _sort(p, 3, 4)
        p[3] = max(p[0], p[3])
        p[1] = min(p[1], p[4])
        _sort(p, 1, 2)
        p[2] = min(p[2], p[3])
        return max(p[1], p[2])
    if n == 6:
        _sort(p, 1, 2)
        _sort(p, 3, 4)
        _sort(p, 0, 1)
        _sort(p, 2, 3)
        _sort(p, 4, 5)
        _sort(p, 1, 2)
        _sort(p, 3, 4)
        _sort(p, 0, 1)
        _sort(p, 2, 3)
        p[4] = min(p[4], p[5])
        p[2] = max(p[1], p[2])
        p[3] = min(p[3], p[4])
        return min(p[2], p[3])
    if n == 7:
        _sort(p, 0, 5)
        _sort(p, 0, 3)
        _sort(p, 1, 6)
        _sort(p, 2, 4)
        _sort(p, 0, 1)
        _sort(p, 3, 5)
        _sort(p, 2, 6)
        p[3] = max(p[2], p[3])
        p[3] = min(p[3], p[6])
        p[4] = min(p[4], p[5])
        _sort(p, 1, 4)
        p[3] = max(p[1], p[3])
        return min(p[3], p[4])
    if n == 8:
        _sort(p, 0, 1)
        _sort(p, 3, 4)
        _sort(p, 6, 7)
        _sort(p, 2, 3)
        _sort(p, 5, 6)
        _sort(p, 3, 4)
        _sort(p, 6, 7)
        p[4] = min(p[4], p[7])
        _sort(p, 3, 6)
        p[5] = max(p[2], p[5])
        p[3] = max(p[0], p[3])
        p[1] = min(p[1], p[4])
        p[3] = min(p[3], p[6])
        _sort(p, 3, 1)
        p[3] = max(p[5], p[3])
        return min(p[3], p[1])
    # n == 9
    _sort(p, 1, 2)
    _sort(p, 4, 5)
    _sort(p, 7, 8)
    _sort(p, 0, 1)
    _sort(p, 3, 4)
    _sort(p, 6, 7)
    _sort(p, 1, 2)
    _sort(p, 4, 5)
    _sort(p, 7, 8)
    p[3] = max(p[0], p[3])
    p[5] = min(p[5], p[8])
    _sort(p, 4, 7)
    p[6] = max(p[3], p[6])
    p[4] = max(p[1], p[4])
    p[2] = min(p[2], p[5])
    p[4] = min(p[4], p[7])
    _sort(p, 4, 2)
    p[4] = max(p[6], p[4])
    return min(p[4], p[2])


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def _sort(p: Any, i: int, j: int) -> None:  # pragma: no cover - compiled
    if p[i] > p[j]:
        t = p[i]
        p[i] = p[j]
        p[j] = t


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def decimate(src: Any, scale: int, out: Any) -> None:  # pragma: no cover - compiled
    """Blocks of scale x scale: median of the non-zero values (scale 2, 3), else their
    truncated integer mean; 0 where none. ``out`` is already zeroed where padded."""
    rh = src.shape[0] // scale
    rw = src.shape[1] // scale
    p = np.empty(9, dtype=np.uint16)
    for j in range(rh):
        for i in range(rw):
            if scale == 2 or scale == 3:
                n = 0
                for a in range(scale):
                    for b in range(scale):
                        v = src[j * scale + a, i * scale + b]
                        if v:
                            p[n] = v
                            n += 1
                out[j, i] = 0 if n == 0 else _median(p, n)
            else:
                total = 0
                n = 0
                for a in range(scale):
                    for b in range(scale):
                        v = src[j * scale + a, i * scale + b]
                        if v:
                            total += v
                            n += 1
                out[j, i] = 0 if n == 0 else total // n


# -- spatial (z16) ------------------------------------------------------------------------


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def spatial_z16(
    img: Any, alpha: Any, delta: int, iterations: int, radius: int
) -> None:  # pragma: no cover - compiled
    """librealsense's recursive_filter_horizontal/vertical<uint16_t>, in place."""
    h, w = img.shape
    a = F32(alpha)
    b = ONE - a
    for _ in range(iterations):
        for y in range(h):
            row = img[y]
            # left to right: pixels 1 .. w-2, against the filtered left neighbour
            val0 = row[0]
            fill = 0
            for x in range(1, w - 1):
                val1 = row[x]
                if val0 != 0:
                    if val1 != 0:
                        fill = 0
                        diff = abs(np.int32(val1) - np.int32(val0))
                        if diff >= 1 and diff <= delta:
                            f = F32(val1) * a + F32(val0) * b
                            val1 = np.uint16(np.int32(f + HALF))
                            row[x] = val1
                    elif radius:
                        fill += 1
                        if fill < radius:
                            val1 = val0
                            row[x] = val1
                val0 = val1
            # right to left: pixels w-2 .. 0; a 1 counts as a hole here
            val1 = row[w - 1]
            fill = 0
            for x in range(w - 2, -1, -1):
                val0 = row[x]
                if val1 != 0:
                    if val0 > 1:
                        fill = 0
                        diff = abs(np.int32(val1) - np.int32(val0))
                        if diff <= delta:
                            f = F32(val0) * a + F32(val1) * b
                            val0 = np.uint16(np.int32(f + HALF))
                            row[x] = val0
                    elif radius:
                        fill += 1
                        if fill < radius:
                            val0 = val1
                            row[x] = val0
                val1 = val0
        # top to bottom: no test for holes (librealsense's is commented out)
        for y in range(1, h):
            for x in range(w):
                im0 = img[y - 1, x]
                imw = img[y, x]
                if abs(np.int32(im0) - np.int32(imw)) < delta:
                    f = F32(imw) * a + F32(im0) * b
                    img[y, x] = np.uint16(np.int32(f + HALF))
        # bottom to top
        for y in range(h - 2, -1, -1):
            for x in range(w):
                im0 = img[y, x]
                imw = img[y + 1, x]
                if im0 != 0 and imw != 0 and abs(np.int32(im0) - np.int32(imw)) < delta:
                    f = F32(im0) * a + F32(imw) * b
                    img[y, x] = np.uint16(np.int32(f + HALF))


# -- spatial (disparity) ------------------------------------------------------------------


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def _h_fp(
    img: Any, bits: Any, y: int, a: Any, b: Any, dz: Any
) -> None:  # pragma: no cover - compiled
    w = img.shape[1]
    # left to right
    state = img[y, 0]
    prev = state
    valid = bits[y, 0] > 0
    for x in range(1, w):
        inn = img[y, x]
        ok = bits[y, x] > 0
        if valid:
            if ok:
                d = prev - inn
                if d < dz and d > -dz:
                    state = inn * a + state * b
                    img[y, x] = state
                else:
                    state = inn
            prev = inn
            valid = ok
        elif ok:
            prev = inn
            state = inn
            valid = True
    # right to left
    state = img[y, w - 1]
    prev = state
    valid = bits[y, w - 1] > 0
    for x in range(w - 2, -1, -1):
        inn = img[y, x]
        ok = bits[y, x] > 0
        if valid:
            if ok:
                d = prev - inn
                if d < dz and d > -dz:
                    state = inn * a + state * b
                    img[y, x] = state
                else:
                    state = inn
            prev = inn
            valid = ok
        elif ok:
            prev = inn
            state = inn
            valid = True


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def _v_fp(
    img: Any, bits: Any, a: Any, b: Any, dz: Any, state: Any, prev: Any, valid: Any
) -> None:  # pragma: no cover - compiled
    h, w = img.shape
    for start, stop, step in ((0, h, 1), (h - 1, -1, -1)):
        for x in range(w):
            state[x] = img[start, x]
            prev[x] = state[x]
            valid[x] = bits[start, x] > 0
        for y in range(start + step, stop, step):
            for x in range(w):
                inn = img[y, x]
                ok = bits[y, x] > 0
                if valid[x]:
                    if ok:
                        d = prev[x] - inn
                        if d < dz and d > -dz:
                            s = inn * a + state[x] * b
                            state[x] = s
                            img[y, x] = s
                        else:
                            state[x] = inn
                    prev[x] = inn
                    valid[x] = ok
                elif ok:
                    prev[x] = inn
                    state[x] = inn
                    valid[x] = True


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def spatial_fp(
    img: Any, bits: Any, alpha: Any, delta: Any, iterations: int, radius: int
) -> None:  # pragma: no cover - compiled
    """librealsense's recursive_filter_horizontal_fp/vertical_fp and, with a radius, its
    intertial_holes_fill, in place. ``bits`` is ``img`` viewed as int32 (a float is valid
    when its bit pattern is a positive integer)."""
    h, w = img.shape
    a = F32(alpha)
    b = ONE - a
    dz = F32(delta)
    state = np.empty(w, dtype=np.float32)
    prev = np.empty(w, dtype=np.float32)
    valid = np.empty(w, dtype=np.bool_)
    for _ in range(iterations):
        for y in range(h):
            _h_fp(img, bits, y, a, b, dz)
        _v_fp(img, bits, a, b, dz, state, prev, valid)
    if radius:
        for y in range(h):
            fill = 0
            for x in range(1, w):
                if bits[y, x] == 0:
                    fill += 1
                    if fill < radius:
                        img[y, x] = img[y, x - 1]
                else:
                    fill = 0
            # right to left over columns w-1 .. 1: the last column takes the next row's
            # first value (librealsense's pointer walks on); below the frame, nothing.
            fill = 0
            for x in range(w - 1, 0, -1):
                if bits[y, x] == 0:
                    fill += 1
                    if fill < radius:
                        if x + 1 < w:
                            img[y, x] = img[y, x + 1]
                        elif y + 1 < h:
                            img[y, x] = img[y + 1, 0]
                else:
                    fill = 0


# -- temporal -----------------------------------------------------------------------------


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def temporal_z16(
    frame: Any, last: Any, history: Any, credible: Any, mask: int, alpha: Any, delta: int
) -> None:  # pragma: no cover - compiled
    """librealsense's temp_jw_smooth<uint16_t>, in place on ``frame``."""
    a = F32(alpha)
    b = ONE - a
    m = np.uint8(mask)
    nm = np.uint8(~mask & 0xFF)
    h, w = frame.shape
    for y in range(h):
        for x in range(w):
            cur = frame[y, x]
            prv = last[y, x]
            if cur:
                if not prv:
                    last[y, x] = cur
                    history[y, x] = m
                elif abs(np.int32(cur) - np.int32(prv)) < delta:
                    history[y, x] |= m
                    r = np.uint16(np.int32(a * F32(cur) + b * F32(prv)))
                    frame[y, x] = r
                    last[y, x] = r
                else:
                    last[y, x] = cur
                    history[y, x] = m
            else:
                if prv and credible[history[y, x]] & m:
                    frame[y, x] = prv
                history[y, x] &= nm


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def temporal_fp(
    frame: Any, last: Any, history: Any, credible: Any, mask: int, alpha: Any, delta: Any
) -> None:  # pragma: no cover - compiled
    """librealsense's temp_jw_smooth<float>, in place on ``frame``."""
    a = F32(alpha)
    b = ONE - a
    dz = F32(delta)
    m = np.uint8(mask)
    nm = np.uint8(~mask & 0xFF)
    h, w = frame.shape
    for y in range(h):
        for x in range(w):
            cur = frame[y, x]
            prv = last[y, x]
            if cur != 0 or cur != cur:
                if prv == 0:
                    last[y, x] = cur
                    history[y, x] = m
                elif abs(cur - prv) < dz:
                    history[y, x] |= m
                    r = a * cur + b * prv
                    frame[y, x] = r
                    last[y, x] = r
                else:
                    last[y, x] = cur
                    history[y, x] = m
            else:
                if (prv != 0 or prv != prv) and credible[history[y, x]] & m:
                    frame[y, x] = prv
                history[y, x] &= nm


# -- hole filling -------------------------------------------------------------------------


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def holes(img: Any, empty: Any, mode: int) -> None:  # pragma: no cover - compiled
    """librealsense's holes_fill_left (0), holes_fill_farest (1), holes_fill_nearest (2), in
    place. ``empty`` is img itself (z16) or its int32 view (disparity: only +0.0 is a hole)."""
    h, w = img.shape
    if mode == 0:
        for y in range(h):
            for x in range(1, w):
                if empty[y, x] == 0:
                    img[y, x] = img[y, x - 1]
        return
    for y in range(1, h - 1):
        for x in range(1, w):
            if empty[y, x] != 0:
                continue
            t = img[y - 1, x]
            if mode == 1:
                if img[y - 1, x - 1] > t:
                    t = img[y - 1, x - 1]
                if img[y, x - 1] > t:
                    t = img[y, x - 1]
                if img[y + 1, x - 1] > t:
                    t = img[y + 1, x - 1]
                if img[y + 1, x] > t:
                    t = img[y + 1, x]
            else:
                if empty[y - 1, x - 1] != 0 and img[y - 1, x - 1] < t:
                    t = img[y - 1, x - 1]
                if empty[y, x - 1] != 0 and img[y, x - 1] < t:
                    t = img[y, x - 1]
                if empty[y + 1, x - 1] != 0 and img[y + 1, x - 1] < t:
                    t = img[y + 1, x - 1]
                if empty[y + 1, x] != 0 and img[y + 1, x] < t:
                    t = img[y + 1, x]
            img[y, x] = t


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def to_disparity(factor: Any, src: Any, out: Any) -> None:  # pragma: no cover - compiled
    """z16 to disparity: factor / z (float32) where z != 0, else 0."""
    h, w = src.shape
    for y in range(h):
        for x in range(w):
            z = src[y, x]
            out[y, x] = factor / F32(z) if z else F32(0.0)
