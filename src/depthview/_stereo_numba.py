"""The stereo alignment's per-frame loops compiled with numba (the ``fast`` extra).

One pass over the pixels, no allocation beyond the caller's buffers; ``stereo`` has the
same arithmetic in numpy, and the tests compare the two.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)


@_jit
def remap(
    flat: Any, pixels: Any, top_left: Any, weights: Any, width: int, out: Any
) -> None:  # pragma: no cover
    """Bilinear samples of ``flat`` (N, C) into ``out`` (N, C) at ``pixels``."""
    channels = flat.shape[1]
    for i in range(pixels.shape[0]):
        p = pixels[i]
        tl = top_left[i]
        a = weights[i, 0]
        b = weights[i, 1]
        c = weights[i, 2]
        d = weights[i, 3]
        for ch in range(channels):
            out[p, ch] = (
                a * flat[tl, ch]
                + b * flat[tl + 1, ch]
                + c * flat[tl + width, ch]
                + d * flat[tl + width + 1, ch]
            )


@_jit
def splat(
    z: Any,
    rx: Any,
    ry: Any,
    r: Any,
    t: Any,
    fx: float,
    fy: float,
    cx: float,
    cy: float,
    nyu: bool,
    out: Any,
    width: int,
    height: int,
) -> None:  # pragma: no cover
    """The z-buffer of ``stereo.splat``: the nearest point wins each pixel, 0 elsewhere."""
    for i in range(out.shape[0]):
        out[i] = math.inf
    for i in range(z.shape[0]):
        zs = float(z[i])
        if not zs > 0.0:
            continue
        x = rx[i] * zs
        y = ry[i] * zs
        xc = r[0, 0] * x + r[0, 1] * y + r[0, 2] * zs + t[0]
        yc = r[1, 0] * x + r[1, 1] * y + r[1, 2] * zs + t[1]
        zc = r[2, 0] * x + r[2, 1] * y + r[2, 2] * zs + t[2]
        if zc == 0.0:
            continue
        u = fx * xc / zc + cx
        v = fy * yc / zc + cy
        if nyu:
            ui = math.floor(abs(u) + 0.5)
            vi = math.floor(abs(v) + 0.5)
            if u < 0.0 or v < 0.0 or not (0 < ui < width and 0 < vi < height):
                continue
            target = int((vi - 1) * width + (ui - 1))
            value = zs
        else:
            if not zc > 0.0:
                continue
            uf = math.floor(u + 0.5)
            vf = math.floor(v + 0.5)
            if not (0 <= uf < width and 0 <= vf < height):
                continue
            target = int(vf * width + uf)
            value = zc
        if value < out[target]:
            out[target] = value
    for i in range(out.shape[0]):
        if out[i] == math.inf:
            out[i] = 0.0


@_jit
def remap_u8(
    flat: Any, pixels: Any, top_left: Any, weights: Any, width: int, fill: int, out: Any
) -> None:  # pragma: no cover
    """``remap`` of uint8 pixels into uint8 ``out`` (N, C), rounded half up; ``fill`` where
    a pixel has no source."""
    channels = flat.shape[1]
    for i in range(out.shape[0]):
        for ch in range(channels):
            out[i, ch] = fill
    for i in range(pixels.shape[0]):
        p = pixels[i]
        tl = top_left[i]
        a = weights[i, 0]
        b = weights[i, 1]
        c = weights[i, 2]
        d = weights[i, 3]
        for ch in range(channels):
            v = (
                a * flat[tl, ch]
                + b * flat[tl + 1, ch]
                + c * flat[tl + width, ch]
                + d * flat[tl + width + 1, ch]
            )
            out[p, ch] = math.floor(v + 0.5)


@_jit
def nyu_metres(
    raw: Any,
    maxval: int,
    pixels: Any,
    top_left: Any,
    weights: Any,
    width: int,
    min_raw: float,
    no_reading: float,
    a_fit: float,
    b_fit: float,
    max_m: float,
    out: Any,
) -> None:  # pragma: no cover
    """NYU's undistorted disparity (bilinear; the noise mask of ``maxval`` pixels; < min_raw
    and masked -> no_reading) to metres (``a / (b - raw)`` clipped to 0..max_m), flat."""
    for i in range(out.shape[0]):
        out[i] = 0.0  # no source: 255 < min_raw, so no reading, which is 0 m
    for i in range(pixels.shape[0]):
        p = pixels[i]
        tl = top_left[i]
        a = weights[i, 0]
        b = weights[i, 1]
        c = weights[i, 2]
        d = weights[i, 3]
        r0 = raw[tl]
        r1 = raw[tl + 1]
        r2 = raw[tl + width]
        r3 = raw[tl + width + 1]
        v = a * r0 + b * r1 + c * r2 + d * r3
        masked = (
            (a > 0 and r0 == maxval)
            or (b > 0 and r1 == maxval)
            or (c > 0 and r2 == maxval)
            or (d > 0 and r3 == maxval)
        )
        if v < min_raw or masked:
            v = no_reading
        den = b_fit - v
        if den == 0.0:
            m = max_m
        else:
            m = a_fit / den
            if m > max_m:
                m = max_m
            elif m < 0.0:
                m = 0.0
        out[p] = m


@_jit
def to_mm(metres: Any, out: Any) -> None:  # pragma: no cover
    """Metres (float32) to whole millimetres (uint16), 0 for no reading or out of range."""
    for i in range(metres.shape[0]):
        v = np.rint(metres[i] * numba.float32(1000.0))
        if not (v >= 0.0 and v <= 65535.0):
            out[i] = 0
        else:
            out[i] = v
