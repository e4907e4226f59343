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
def keep_between(src: Any, lo: int, hi: int, out: Any) -> None:  # pragma: no cover - compiled
    """out = src where lo <= src <= hi, else 0 (threshold)."""
    a = src.reshape(-1)
    b = out.reshape(-1)
    low = np.int32(lo)
    high = np.int32(hi)
    for i in range(a.size):
        v = np.int32(a[i])
        b[i] = np.uint16(v * (np.int32(v >= low) & np.int32(v <= high)))


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
    if scale == 2:
        _decimate2(src, rh, rw, p, out)
        return
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


# -- transposes --------------------------------------------------------------------------
# librealsense runs each row left to right and back: a chain of dependent steps per row. On
# the image transposed, the same steps run over all rows at once (one SIMD lane per row),
# which is where most of the speed comes from; the column passes need no transpose.


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def transpose(src: Any, dst: Any) -> None:  # pragma: no cover - compiled
    """dst[x, y] = src[y, x], eight source rows at a time: each destination row gets eight
    neighbouring values in one go, from eight rows read in order (twice as fast as square
    tiles here)."""
    h, w = src.shape
    y0 = 0
    while y0 + 8 <= h:
        r0 = src[y0]
        r1 = src[y0 + 1]
        r2 = src[y0 + 2]
        r3 = src[y0 + 3]
        r4 = src[y0 + 4]
        r5 = src[y0 + 5]
        r6 = src[y0 + 6]
        r7 = src[y0 + 7]
        for x in range(w):
            o = dst[x]
            o[y0] = r0[x]
            o[y0 + 1] = r1[x]
            o[y0 + 2] = r2[x]
            o[y0 + 3] = r3[x]
            o[y0 + 4] = r4[x]
            o[y0 + 5] = r5[x]
            o[y0 + 6] = r6[x]
            o[y0 + 7] = r7[x]
        y0 += 8
    for y in range(y0, h):
        for x in range(w):
            dst[x, y] = src[y, x]


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def _decimate2(src: Any, rh: int, rw: int, p: Any, out: Any) -> None:  # pragma: no cover - compiled
    """Scale 2: a full block's median (opt_med4: the second smallest) without the array."""
    for j in range(rh):
        top = src[2 * j]
        bottom = src[2 * j + 1]
        row = out[j]
        for i in range(rw):
            a = top[2 * i]
            b = top[2 * i + 1]
            c = bottom[2 * i]
            d = bottom[2 * i + 1]
            if a != 0 and b != 0 and c != 0 and d != 0:
                row[i] = min(max(min(a, b), min(c, d)), min(max(a, b), max(c, d)))
                continue
            n = 0
            for v in (a, b, c, d):
                if v:
                    p[n] = v
                    n += 1
            row[i] = 0 if n == 0 else _median(p, n)


# -- spatial (z16) ------------------------------------------------------------------------
# The values are those of the branches in librealsense's recursive_filter_horizontal/
# vertical<uint16_t>. Every pass reads one array and writes another (see _sweep_fp); its
# direction is an argument, not a constant: with a constant step the compiler tests once,
# for all rows, whether dst overlaps itself, and always takes its scalar loop (5x slower).
# Selects are on booleans and differences of whole millimetres compared as float32 (exact
# below 2**24): numba widens int32 arithmetic to int64, which halves the vector lanes.


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def _rows_z16(
    src: Any,
    dst: Any,
    first: int,
    stop: int,
    step: int,
    a: Any,
    b: Any,
    delta: int,
    radius: int,
    fill: Any,
    fill2: Any,
) -> None:  # pragma: no cover - compiled
    """Left to right (0, w - 1, 1) over the transposed image src[x, y] into dst: pixels
    1 .. w-2, against the filtered left neighbour; holes after a valid pixel take its
    value, up to ``radius`` in a run (0: none)."""
    h = src.shape[1]
    dl = F32(delta)
    has_radius = radius != 0
    for y in range(h):
        fill[y] = 0
        fill2[y] = 0
        dst[first, y] = src[first, y]
        dst[stop, y] = src[stop, y]
    for x in range(first + step, stop, step):
        prev = dst[x - step]
        row = src[x]
        out = dst[x]
        fill, fill2 = fill2, fill  # runs of holes so far in fill2, now in fill
        for y in range(h):
            v0 = prev[y]
            v1 = row[y]
            ok0 = v0 != 0
            ok1 = v1 != 0
            both = ok0 & ok1
            d = abs(F32(v1) - F32(v0))
            f = np.uint16(np.int32(F32(v1) * a + F32(v0) * b + HALF))
            hole = ok0 & (not ok1) & has_radius
            fl = np.int32(0 if both else fill2[y] + np.int32(hole))
            fill[y] = fl
            smooth = both & (d >= ONE) & (d <= dl)
            filled = hole & (fl < radius)
            out[y] = f if smooth else (v0 if filled else v1)


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def _rows_back_z16(
    src: Any,
    dst: Any,
    first: int,
    stop: int,
    step: int,
    a: Any,
    b: Any,
    delta: int,
    radius: int,
    fill: Any,
    fill2: Any,
) -> None:  # pragma: no cover - compiled
    """Right to left (w - 1, -1, -1) over the transposed image into dst: pixels w-2 .. 0,
    against the filtered right neighbour; here a 1 counts as a hole."""
    h = src.shape[1]
    dl = F32(delta)
    has_radius = radius != 0
    for y in range(h):
        fill[y] = 0
        fill2[y] = 0
        dst[first, y] = src[first, y]
    for x in range(first + step, stop, step):
        prev = dst[x - step]
        row = src[x]
        out = dst[x]
        fill, fill2 = fill2, fill  # runs of holes so far in fill2, now in fill
        for y in range(h):
            v1 = prev[y]
            v0 = row[y]
            ok1 = v1 != 0
            big0 = v0 > 1
            both = ok1 & big0
            d = abs(F32(v1) - F32(v0))
            f = np.uint16(np.int32(F32(v0) * a + F32(v1) * b + HALF))
            hole = ok1 & (not big0) & has_radius
            fl = np.int32(0 if both else fill2[y] + np.int32(hole))
            fill[y] = fl
            smooth = both & (d <= dl)
            filled = hole & (fl < radius)
            out[y] = f if smooth else (v1 if filled else v0)


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def _down_z16(
    src: Any, dst: Any, first: int, stop: int, step: int, a: Any, b: Any, delta: int
) -> None:  # pragma: no cover - compiled
    """Top to bottom (0, h, 1) into dst: no test for holes (librealsense's is commented
    out)."""
    w = src.shape[1]
    dl = F32(delta)
    for x in range(w):
        dst[first, x] = src[first, x]
    for y in range(first + step, stop, step):
        prev = dst[y - step]
        row = src[y]
        out = dst[y]
        for x in range(w):
            im0 = prev[x]
            imw = row[x]
            f = np.uint16(np.int32(F32(imw) * a + F32(im0) * b + HALF))
            out[x] = f if abs(F32(im0) - F32(imw)) < dl else imw


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def _up_z16(
    src: Any, dst: Any, first: int, stop: int, step: int, a: Any, b: Any, delta: int
) -> None:  # pragma: no cover - compiled
    """Bottom to top (h - 1, -1, -1) into dst, where both pixels are valid."""
    w = src.shape[1]
    dl = F32(delta)
    for x in range(w):
        dst[first, x] = src[first, x]
    for y in range(first + step, stop, step):
        prev = dst[y - step]
        row = src[y]
        out = dst[y]
        for x in range(w):
            im0 = row[x]
            imw = prev[x]
            f = np.uint16(np.int32(F32(im0) * a + F32(imw) * b + HALF))
            k = (im0 != 0) & (imw != 0) & (abs(F32(im0) - F32(imw)) < dl)
            out[x] = f if k else im0


def spatial_z16(img: Any, work: Any, alpha: Any, delta: int, iterations: int, radius: int) -> None:
    """librealsense's dxf_smooth<uint16_t> in place on img (work: uint16 scratch of
    2 * img.size). Driven from Python: compiled together, the passes lose their vector code."""
    h, w = img.shape
    t1 = work[: h * w].reshape(w, h)
    t2 = work[h * w : 2 * h * w].reshape(w, h)
    n2 = t2.reshape(h, w)
    a = F32(alpha)
    b = ONE - a
    fill = np.empty(h, dtype=np.int32)
    fill2 = np.empty(h, dtype=np.int32)
    for _ in range(iterations):
        transpose(img, t1)
        _rows_z16(t1, t2, 0, w - 1, 1, a, b, delta, radius, fill, fill2)
        _rows_back_z16(t2, t1, w - 1, -1, -1, a, b, delta, radius, fill, fill2)
        transpose(t1, img)
        _down_z16(img, n2, 0, h, 1, a, b, delta)
        _up_z16(n2, img, h - 1, -1, -1, a, b, delta)


# -- spatial (disparity) ------------------------------------------------------------------
# librealsense's recursive_filter_*_fp: a pixel is valid when its bit pattern, read as an
# int32, is positive; it is blended with its filtered neighbour when both it and its
# neighbour (as it was before filtering) are valid and those two differ by less than delta.


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def _sweep_fp(
    src: Any, dst: Any, first: int, stop: int, step: int, a: Any, b: Any, dz: Any
) -> None:  # pragma: no cover - compiled
    """One recursive pass down the rows of src (first .. stop by step), every column at
    once, into dst: a pixel's neighbour before filtering is src's previous row, after it
    dst's. Valid is tested as > 0 (librealsense tests the bits, which differs only for NaN:
    the filter class turns NaN into holes first). Out of place on purpose: in place, the
    compiler stores "blended or as it was" as a masked store (vmaskmovps), which AMD's
    cores run microcoded, three times slower than the whole loop otherwise."""
    w = src.shape[1]
    s0 = src[first]
    d0 = dst[first]
    for x in range(w):
        d0[x] = s0[x]
    for y in range(first + step, stop, step):
        state = dst[y - step]
        before = src[y - step]
        row = src[y]
        out = dst[y]
        for x in range(w):
            inn = row[x]
            prev = before[x]
            d = prev - inn
            s = inn * a + state[x] * b
            c = (prev > 0) & (inn > 0) & (d < dz) & (d > -dz)
            out[x] = s if c else inn


def spatial_fp(
    img: Any, bits: Any, work: Any, alpha: Any, delta: Any, iterations: int, radius: int
) -> None:
    """librealsense's dxf_smooth<float> in place on img (bits: img as int32; work: float32
    scratch of 2 * img.size) and, with a radius, its intertial_holes_fill."""
    h, w = img.shape
    a = F32(alpha)
    b = ONE - a
    dz = F32(delta)
    t1 = work[: h * w].reshape(w, h)
    t2 = work[h * w : 2 * h * w].reshape(w, h)
    n2 = t2.reshape(h, w)
    for _ in range(iterations):
        transpose(img, t1)
        _sweep_fp(t1, t2, 0, w, 1, a, b, dz)  # left to right
        _sweep_fp(t2, t1, w - 1, -1, -1, a, b, dz)  # right to left
        transpose(t1, img)
        _sweep_fp(img, n2, 0, h, 1, a, b, dz)  # top to bottom
        _sweep_fp(n2, img, h - 1, -1, -1, a, b, dz)  # bottom to top
    if radius:
        _inertial_fill(img, bits, radius)


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def _inertial_fill(img: Any, bits: Any, radius: int) -> None:  # pragma: no cover - compiled
    h, w = img.shape
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
# librealsense looks up whether a pixel's 8-frame history is credible in a 256-entry table
# per phase; that table is "at least need of the frames in window are valid" (a table
# lookup stops the compiler from vectorizing). Every persistence mode needs none, one, two
# or all of its window, so the loop tests that with two bit operations (``rule``, from
# ``temporal.credible_rule``) instead of counting bits: numba widens integer arithmetic to
# int64, and a count in int64 lanes was half the loop. The history is kept as int32 and the
# selects are written as conditional expressions on booleans (int64 flags, 1 - c, halve the
# vector lanes too). One loop for both pixel types: ``_pixel`` rounds a blend to the type.

RULE_NEVER, RULE_ANY, RULE_TWO, RULE_ALL, RULE_ALWAYS = range(5)


def _pixel(r: Any, like: Any) -> Any:  # pragma: no cover - replaced by the overload
    raise NotImplementedError


@numba.extending.overload(_pixel)  # type: ignore[untyped-decorator, unused-ignore]
def _pixel_overload(r: Any, like: Any) -> Any:  # pragma: no cover - compiled
    """A float32 blend as a pixel of ``like``'s type: as it is (disparity), or truncated to
    an int and then to uint16 (librealsense's static_cast of a float, z16)."""
    if isinstance(like, numba.types.Float):

        def as_float(r: Any, like: Any) -> Any:
            return r

        return as_float

    def as_z16(r: Any, like: Any) -> Any:
        return np.uint16(np.int32(r))

    return as_z16


@_jit  # type: ignore[untyped-decorator, unused-ignore]
def temporal(
    src: Any,
    frame: Any,
    last: Any,
    history: Any,
    window: int,
    rule: int,
    mask: int,
    alpha: Any,
    delta: Any,
) -> None:  # pragma: no cover - compiled
    """librealsense's temp_jw_smooth<uint16_t> and <float>: ``src`` filtered into ``frame``
    (which may be ``src``); one pass, no copy first. ``history``: int32, one per pixel."""
    a = F32(alpha)
    b = ONE - a
    dz = F32(delta)
    m = np.int32(mask)
    nm = np.int32(~mask & 0xFF)
    win = np.int32(window)
    always = rule == RULE_ALWAYS
    any_ = rule == RULE_ANY
    two = rule == RULE_TWO
    all_ = rule == RULE_ALL
    zero = np.int32(0)
    h, w = src.shape
    for y in range(h):
        s = src[y]
        f = frame[y]
        lst = last[y]
        hs = history[y]
        for i in range(w):
            cur = s[i]
            prv = lst[i]
            hist = hs[i]
            c = cur != 0
            p = prv != 0
            sm = c & p & (abs(F32(cur) - F32(prv)) < dz)
            nv = _pixel(a * F32(cur) + b * F32(prv), cur) if sm else cur
            x = np.int32(hist & win)
            enough = (
                always
                | (any_ & (x != 0))
                | (two & (np.int32(x & np.int32(x - 1)) != 0))
                | (all_ & (x == win))
            )
            f[i] = nv if c else (prv if p & enough else cur)
            lst[i] = nv if c else prv
            hs[i] = np.int32((hist if sm else zero) | m) if c else np.int32(hist & nm)


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
