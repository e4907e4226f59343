"""Point clouds drawn on the CPU: project points through a pinhole and splat them into a
picture, the nearest point winning each pixel (a z-buffer of eye depths).

This is the 3D view's renderer for machines without a hardware GPU (``viewer.view3d``
chooses it): under Mesa's software renderers the view's compute shaders run on the CPU
anyway, at two to four times the cost of these loops. It draws what the shaders draw:
a depth pixel's point covers a rectangle the size of its footprint seen from the eye (the
reach of its right and lower neighbours on the same surface, clamped), floats are float32
in the shaders' order, and a point at panel coordinates (x, y) lands on pixel
(floor(x + 0.5), floor(y + 0.5)). The two differ only where float rounding puts a point a
hair across a pixel's edge, and on ties (two points at exactly the same eye depth).

Pure functions over arrays (no window, no OpenGL): ``splat_depth`` for a depth frame,
``splat_points`` for any (N, 3) points (guides, a model's points); ``clear`` readies the
picture and z-buffer. Their loops need numba (extras ``fast`` and ``3d``).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

from ._compiled import optional
from .camera_models import Intrinsics

INSTALL_HINT = "pip install 'depthview[3d]'"
NEAR_CLIP = 0.02  # metres: points nearer the eye than this are left out
MAX_SPLAT = 8  # the largest point, in panel pixels
SURFACE_STEP = 0.02  # a neighbour this much nearer or farther (of z) is across an edge
MAX_STRETCH = 4.0  # a point spans at most this many of its footprints each way

Pixels = npt.NDArray[np.uint32]
Keys = npt.NDArray[np.float32]
Scratch = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]


def available() -> str | None:
    """None when the loops can run, else why not (with the ``pip install`` that fixes it)."""
    if optional("_splat_numba") is None:
        return f"drawing points on the CPU needs numba: {INSTALL_HINT}"
    return None


def _loops() -> ModuleType:
    loops = optional("_splat_numba")
    if loops is None:
        raise RuntimeError(available())
    return loops


def warm_up() -> None:
    """Run the loops once on a tiny frame: numba compiles them (or loads them from its
    cache) now rather than on the first frame, which would then be late."""
    pixels = np.zeros((2, 2), np.uint32)
    keys = np.empty((2, 2), np.float32)
    clear(pixels, keys, 0)
    eye = np.eye(4, dtype=np.float32)
    metres = np.full(2, 1.0, np.float32)
    k = Intrinsics(1.0, 1.0, 0.5, 0.5)
    for colours in (np.zeros((2, 2), np.uint32), np.zeros((2, 2, 3), np.uint8)):
        splat_depth(np.ones((2, 2), np.uint16), metres, k, colours, eye, k, pixels, keys)
    splat_points(np.ones((1, 3), np.float32), np.zeros(1, np.uint32), eye, k, pixels, keys)


def clear(pixels: Pixels, keys: Keys, background: int) -> None:
    """Fill the picture with ``background`` (a packed pixel) and the z-buffer with +inf."""
    pixels.fill(background)
    keys.fill(np.inf)


def new_scratch(shape: tuple[int, int]) -> Scratch:
    """The rows ``splat_depth`` works in, for frames of ``shape`` (h, w): two rows of eye
    coordinates (8, w + 1) and one of point rectangles (4, w). Keep one and pass it with
    every frame, so no frame allocates."""
    w = shape[1]
    return np.zeros((8, w + 1), np.float32), np.zeros((4, w), np.float32)


def shifts(order: str) -> npt.NDArray[np.uint32]:
    """The bit shifts of R, G and B in a 32-bit pixel of byte ``order`` (e.g. ``"BGRX"``,
    little-endian words) and the bits always set (alpha)."""
    order = order.upper()
    r, g, b = (8 * order.index(c) for c in "RGB")
    alpha = sum(0xFF << (8 * i) for i, c in enumerate(order) if c in "AX")
    return np.array([r, g, b, alpha], np.uint32)


def _read_only(a: npt.NDArray[Any], dtype: type | None = None) -> npt.NDArray[Any]:
    """A contiguous read-only view: numba compiles a loop apart for writable and read-only
    arrays, and frames come either way (Pillow's are read-only), so one kind reaches the
    loops and the warm-up's compile is the one every frame uses."""
    view = np.ascontiguousarray(a, dtype).view()
    view.flags.writeable = False
    return view


def _pinhole(k: Intrinsics) -> npt.NDArray[np.float32]:
    return np.array([k.fx, k.fy, k.cx, k.cy], np.float32)


def _check_target(pixels: Pixels, keys: Keys) -> None:
    if pixels.dtype != np.uint32 or keys.dtype != np.float32 or pixels.shape != keys.shape:
        raise ValueError(
            f"expected (h, w) uint32 pixels and a float32 z-buffer of the same shape, got "
            f"{pixels.dtype} {pixels.shape} and {keys.dtype} {keys.shape}"
        )


def splat_depth(
    depth: npt.NDArray[np.uint16],
    metres: npt.NDArray[np.float32],
    intrinsics: Intrinsics,
    colours: npt.NDArray[np.uint32] | npt.NDArray[np.uint8],
    view: npt.NDArray[np.floating],
    panel: Intrinsics,
    pixels: Pixels,
    keys: Keys,
    *,
    point_size: float = 1.0,
    order: str = "BGRX",
    scratch: Scratch | None = None,
) -> None:
    """Draw a depth frame's points into ``pixels`` (nearest wins, through ``keys``).

    ``depth`` (h, w) uint16 becomes metres through the ``metres`` table (NaN: no reading)
    and points through ``intrinsics``; ``view`` (4x4) takes them to the eye (x right,
    y down, z forward), ``panel`` is the picture's pinhole. ``colours`` are each depth
    pixel's: (h, w) packed pixels like ``pixels``, or (h, w, 3) RGB bytes packed in byte
    ``order``. ``point_size`` scales every point's footprint."""
    _check_target(pixels, keys)
    h, w = depth.shape
    if colours.shape[:2] != (h, w):
        raise ValueError(f"expected colours for {h}x{w} pixels, got {colours.shape}")
    loops = _loops()
    rows, cells = scratch if scratch is not None else new_scratch((h, w))
    if rows.shape != (8, w + 1) or cells.shape != (4, w):
        raise ValueError(f"expected scratch for frames {w} wide, got {rows.shape} {cells.shape}")
    packed = colours.reshape(h, w, 1) if colours.ndim == 2 else colours
    loops.splat_frame(
        _read_only(depth),
        _read_only(metres, np.float32),
        _read_only(packed),
        shifts(order),
        _pinhole(intrinsics),
        np.ascontiguousarray(view, np.float32),
        _pinhole(panel),
        np.float32(NEAR_CLIP),
        np.float32(point_size),
        np.float32(SURFACE_STEP),
        np.float32(MAX_STRETCH),
        MAX_SPLAT,
        rows,
        cells,
        keys,
        pixels,
    )


def splat_points(
    points: npt.NDArray[np.floating],
    colours: npt.NDArray[np.uint32],
    view: npt.NDArray[np.floating],
    panel: Intrinsics,
    pixels: Pixels,
    keys: Keys,
    *,
    size: int = 1,
) -> None:
    """Draw (N, 3) ``points`` (metres) with their packed ``colours`` (N,) as squares of
    ``size`` pixels into ``pixels`` (nearest wins, through ``keys``); ``view`` and
    ``panel`` as for ``splat_depth``."""
    _check_target(pixels, keys)
    if points.ndim != 2 or points.shape[1] != 3 or colours.shape != (len(points),):
        raise ValueError(
            f"expected (N, 3) points and (N,) colours, got {points.shape} and {colours.shape}"
        )
    if size < 1:
        raise ValueError(f"expected a size >= 1, got {size}")
    _loops().splat_points(
        np.ascontiguousarray(points, np.float32),
        np.ascontiguousarray(colours, np.uint32),
        np.ascontiguousarray(view, np.float32),
        _pinhole(panel),
        np.float32(NEAR_CLIP),
        int(size),
        keys,
        pixels,
    )
