"""Depth to colour through lookup tables.

Every palette becomes a table with one entry for each of the 65536 possible uint16 values,
built once per (palette, format, range) and cached, so colouring a frame is a single gather
with no branch per pixel. With the ``fast`` extra the gather is a numba-compiled loop; without
it, ``np.take`` through an index buffer of the platform's integer type, kept per thread and
per shape (sparing numpy its own temporary conversion). Either way a call with ``out=``
allocates nothing.

Two outputs: (H, W, 3) uint8 RGB, and packed 32-bit pixels in a caller-chosen byte order
(e.g. ``"BGRA"`` as a little-endian ``0xAARRGGBB`` display surface wants), which a window
can blit without conversion.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from ._checks import depth_2d, is_number, out_array
from ._compiled import optional
from .frame import DepthFormat, depth_format_or_raw, unpacked
from .palettes import SAMPLES, canonical_name, palette_samples
from .units import RAW_TO_M_A, RAW_TO_M_B, metres_table

RGB = tuple[int, int, int]
DEFAULT_NEAR = 0.5
DEFAULT_FAR = 4.5

_scratch = threading.local()


def glview_table() -> npt.NDArray[np.uint8]:
    """libfreenect glview's palette: (2048, 3) uint8 for raw 11-bit values 0..2047.

    t = trunc(36*256*(i/2048)^3) in float32 (glview's ``powf`` then two float products);
    the high byte picks one of six ramps, the low byte is the position on it.
    """
    v = (np.arange(2048, dtype=np.float32) / np.float32(2048.0)).astype(np.float32)
    cube = (v.astype(np.float64) ** 3).astype(np.float32)  # exact cube, rounded once: powf
    t = ((cube * np.float32(6.0)) * np.float32(6.0) * np.float32(256.0)).astype(np.int64)
    lb = t & 255
    seg = t >> 8
    full = np.full(2048, 255, dtype=np.int64)
    zero = np.zeros(2048, dtype=np.int64)
    ramps = [  # (r, g, b) of segments 0..5; beyond them, black
        (full, full - lb, full - lb),
        (full, lb, zero),
        (full - lb, full, zero),
        (zero, full, lb),
        (zero, full - lb, full),
        (zero, zero, full - lb),
    ]
    rgb = np.zeros((2048, 3), dtype=np.int64)
    for k, ramp in enumerate(ramps):
        sel = seg == k
        rgb[sel] = np.stack(ramp, axis=1)[sel]
    return rgb.astype(np.uint8)


def _check_format_and_range(
    palette: str, fmt: DepthFormat, near: float | None, far: float | None
) -> None:
    unpacked(fmt)
    if palette == "glview":
        if not fmt.is_raw:
            raise ValueError(
                f"palette 'glview' maps raw disparity: expected a RAW_11BIT or RAW_10BIT "
                f"frame, got {fmt.name}; use a metric palette such as 'turbo'"
            )
        if near is not None or far is not None:
            raise ValueError(
                "palette 'glview' has a fixed mapping of raw values: expected near=None and "
                f"far=None, got near={near}, far={far}; use a metric palette for a range"
            )
    for label, value in (("near", near), ("far", far)):
        if value is not None and not (
            is_number(value) and np.isfinite(value) and 0 <= value <= MAX_METRES
        ):
            raise ValueError(f"expected {label} as metres from 0 to {MAX_METRES:g}, got {value!r}")
    if near is not None or far is not None:
        lo, hi = resolve_range(near, far)
        if not lo < hi:
            raise ValueError(f"expected near < far, got near={lo}, far={hi}")


#: The farthest colour range end: far beyond any depth camera, and small enough that the
#: float32 arithmetic of the lookup tables stays finite.
MAX_METRES = 1000.0


def resolve_range(near: float | None, far: float | None) -> tuple[float, float]:
    """Fill a half-given range with the defaults (0.5 m, 4.5 m)."""
    return (
        DEFAULT_NEAR if near is None else float(near),
        DEFAULT_FAR if far is None else float(far),
    )


@lru_cache(maxsize=64)
def rgb_table(
    palette: str,
    depth_format: DepthFormat,
    near: float | None,
    far: float | None,
    invalid_color: RGB,
) -> npt.NDArray[np.uint8]:
    """(65536, 3) uint8 colour for every uint16 value; for a fixed range (or glview)."""
    table = np.empty((65536, 3), dtype=np.uint8)
    table[:] = invalid_color
    if palette == "glview":
        lut = glview_table()
        if depth_format is DepthFormat.RAW_10BIT:
            table[:1023] = lut[0:2046:2]  # 10-bit is 11-bit halved: same colour, same distance
        else:
            table[:2047] = lut[:2047]
    else:
        lo, hi = resolve_range(near, far)
        metres = metres_table(depth_format)
        valid = np.isfinite(metres)
        s = np.clip((hi - metres[valid]) / (hi - lo), 0.0, 1.0)
        idx = np.rint(s * (SAMPLES - 1)).astype(np.intp)
        table[valid] = palette_samples(palette)[idx]
    table.flags.writeable = False
    return table


def equalized_table(
    depth: npt.NDArray[np.uint16],
    palette: str,
    depth_format: DepthFormat,
    invalid_color: RGB,
) -> npt.NDArray[np.uint8]:
    """(65536, 3) table spreading this frame's distances over the palette.

    Histogram equalisation, as RealSense's colouriser does when no range is set, made
    readable: see ``Equalizer`` (here for this one frame, with no memory of others)."""
    table = Equalizer(smoothing=1.0).rgb_table(depth, palette, depth_format, invalid_color)
    return table.view(np.uint8)


class Equalizer:
    """Histogram equalisation a person can read, frame after frame.

    The colour of a depth value is its rank among the valid pixels, nearest first, as in
    plain equalisation, with two changes. The histogram is a running average over frames
    (``smoothing`` is the weight of the newest), so a static scene keeps its colours while
    something moves in front of it. And no depth value may take more than ``clip`` times
    its even share of the palette (contrast-limited equalisation): a flat wall that fills
    half the picture would otherwise spread over half the palette, and its sensor noise of a
    raw step or two would flicker through many colours. What is clipped is spread evenly
    over the range the scene occupies.

    Pure: numpy only. One ``Equalizer`` follows one stream; ``reset`` forgets the past.
    """

    def __init__(self, smoothing: float = 0.15, clip: float = 3.0) -> None:
        if not (is_number(smoothing) and 0.0 < smoothing <= 1.0):
            raise ValueError(f"expected smoothing as a number in (0, 1], got {smoothing!r}")
        if not (is_number(clip) and clip >= 1.0):
            raise ValueError(f"expected clip as a number >= 1, got {clip!r}")
        self.smoothing = smoothing
        self.clip = clip
        self._format: DepthFormat | None = None
        self._hist: npt.NDArray[np.float64] | None = None
        #: Palette position (1 = near end, 0 = far end) of every value of the format.
        self.positions: npt.NDArray[np.float64] = np.zeros(0)
        self._tables: dict[tuple[object, ...], npt.NDArray[np.generic]] = {}

    def reset(self) -> None:
        """Forget the frames seen so far."""
        self._hist = None

    def update(self, depth: npt.NDArray[np.uint16], depth_format: DepthFormat) -> None:
        """Take one more frame into the running histogram and recompute the positions."""
        if depth_format is not self._format:
            self._format, self._hist = depth_format, None
        # Raw formats have a few thousand values; millimetres span only what the scene
        # holds (a Kinect's stop at 10 m), so the histogram grows to the largest value seen
        # instead of always covering 65536.
        seen = 0 if self._hist is None else len(self._hist)
        if depth_format.is_metric:
            n = max(seen, int(depth.max(initial=0)) + 1)
        else:
            n = depth_format.max_value + 1
        hist = np.bincount(depth.ravel(), minlength=n)[:n].astype(np.float64)
        hist[~np.isfinite(metres_table(depth_format)[:n])] = 0.0
        if self._hist is None or self._hist.sum() <= 0:
            self._hist = hist
        else:
            if seen < n:
                self._hist = np.concatenate([self._hist, np.zeros(n - seen)])
            self._hist *= 1.0 - self.smoothing
            self._hist += self.smoothing * hist
        self.positions = _clipped_ranks(self._hist, _disparity_steps(depth_format)[:n], self.clip)

    def table(
        self, palette: str, invalid_color: RGB, order: str | None = None
    ) -> npt.NDArray[np.generic]:
        """The lookup table for the current positions: (65536, 3) RGB, or packed uint32 in
        byte ``order``. The table is kept and refilled in place, frame after frame."""
        key = (palette, invalid_color, order, self._format)
        table = self._tables.get(key)
        if table is None:
            if len(self._tables) > 8:
                self._tables.clear()
            rgb = np.empty((65536, 3), dtype=np.uint8)
            rgb[:] = invalid_color
            table = self._tables[key] = rgb if order is None else _pack(rgb, order)
        n = len(self.positions)
        idx = np.rint(self.positions * (SAMPLES - 1)).astype(np.intp)
        colours = palette_samples(palette)[idx]
        colours[~np.isfinite(metres_table(self._format or DepthFormat.RAW_11BIT)[:n])] = (
            invalid_color
        )
        table[:n] = colours if order is None else _pack(colours, order)
        return table

    def rgb_table(
        self,
        depth: npt.NDArray[np.uint16],
        palette: str,
        depth_format: DepthFormat,
        invalid_color: RGB,
        order: str | None = None,
    ) -> npt.NDArray[np.generic]:
        """``update`` with this frame, then ``table``."""
        self.update(depth, depth_format)
        return self.table(palette, invalid_color, order)

    def metres_at(self, position: float) -> float | None:
        """The distance the palette's ``position`` (1 near .. 0 far) stands for now, or None
        before any valid frame (for a colour bar's labels)."""
        if self._format is None or self._hist is None or self._hist.sum() <= 0:
            return None
        valid = self._hist > 0
        values = np.flatnonzero(valid)
        ranks = self.positions[valid]  # falling with distance
        i = int(np.argmin(np.abs(ranks - position)))
        return float(metres_table(self._format)[values[i]])


def _clipped_ranks(
    hist: npt.NDArray[np.float64], bins: npt.NDArray[np.intp], clip: float
) -> npt.NDArray[np.float64]:
    """Palette positions (1 near .. 0 far) of every value from a histogram of valid values
    and the values' steps of distance: each value's mid-rank, after limiting any disparity
    step's share (``_disparity_steps``) to ``clip`` times the even share over the occupied range
    (0.1 % to 99.9 % of the pixels). Taken per step of distance, not per stored value, so
    a raw frame and its millimetres get the same colours (trial AL D10: up to 60 grey
    levels apart)."""
    total = float(hist.sum())
    if total <= 0:
        return np.zeros(len(hist))
    bin_hist = np.bincount(bins, weights=hist, minlength=int(bins.max()) + 1)
    cdf = np.cumsum(bin_hist)
    lo = int(np.searchsorted(cdf, 0.001 * total))
    hi = int(np.searchsorted(cdf, 0.999 * total))
    span = max(1, hi - lo + 1)
    limited = np.minimum(bin_hist, clip * total / span)
    limited[lo : hi + 1] += (total - float(limited.sum())) / span
    # Within a bin, its (limited) share goes to its values in proportion to their counts.
    # Raw disparity and millimetres both grow with distance, so value order is distance order.
    scale = np.divide(limited, bin_hist, out=np.zeros_like(limited), where=bin_hist > 0)
    before_in_bin = np.cumsum(hist) - hist - (cdf - bin_hist)[bins]
    mass = (np.cumsum(limited) - limited)[bins] + scale[bins] * (before_in_bin + 0.5 * hist)
    positions: npt.NDArray[np.float64] = np.clip(1.0 - mass / float(limited.sum()), 0.0, 1.0)
    return positions


@lru_cache(maxsize=8)
def _disparity_steps(depth_format: DepthFormat) -> npt.NDArray[np.intp]:
    """Every value of ``depth_format`` as the nearest step of a Kinect's disparity (the raw
    value its formula gives for the value's distance; 0 for no reading and nearer than
    0.3 m): a step is about 2 mm at 0.8 m and 3 cm at 3 m, the sensor's own resolution,
    in whatever units the depth is stored. Read-only, shared."""
    metres = metres_table(depth_format).astype(np.float64)
    near = np.where(np.isfinite(metres) & (metres > 0), metres, RAW_TO_M_B**-1)
    steps = np.maximum(np.rint((RAW_TO_M_B - 1.0 / near) / -RAW_TO_M_A), 0).astype(np.intp)
    steps.flags.writeable = False
    return steps


def _pack(table: npt.NDArray[np.uint8], order: str) -> npt.NDArray[np.uint32]:
    order = order.upper()
    if len(order) != 4 or sorted(order.replace("X", "A")) != ["A", "B", "G", "R"]:
        raise ValueError(
            f"expected a byte order of R, G, B and A or X such as 'BGRA', got {order!r}"
        )
    packed = np.zeros(table.shape[0], dtype=np.uint32)
    for byte, channel in enumerate(order):
        if channel in "AX":
            packed |= np.uint32(255 << (8 * byte))
        else:
            packed |= table[:, "RGB".index(channel)].astype(np.uint32) << np.uint32(8 * byte)
    return packed.astype("<u4").view(np.uint32) if np.little_endian else packed.byteswap()


@lru_cache(maxsize=64)
def _packed_fixed(
    palette: str,
    fmt: DepthFormat,
    near: float | None,
    far: float | None,
    invalid_color: RGB,
    order: str,
) -> npt.NDArray[np.uint32]:
    packed = _pack(rgb_table(palette, fmt, near, far, invalid_color), order)
    packed.flags.writeable = False
    return packed


def _index_buffer(shape: tuple[int, ...]) -> npt.NDArray[np.intp]:
    buffers: dict[tuple[int, ...], npt.NDArray[np.intp]] | None = getattr(_scratch, "buffers", None)
    if buffers is None:
        buffers = _scratch.buffers = {}
    buf = buffers.get(shape)
    if buf is None:
        if len(buffers) > 4:
            buffers.clear()
        buf = buffers[shape] = np.empty(shape, dtype=np.intp)
    return buf


_UNSET = object()
_KERNELS: Any = _UNSET  # (gather_packed, gather_rgb) of the ``fast`` extra, or None


def _kernels() -> tuple[Any, Any] | None:
    global _KERNELS
    if _KERNELS is _UNSET:
        loops = optional("_gather_numba")
        _KERNELS = None if loops is None else (loops.gather_packed, loops.gather_rgb)
    return _KERNELS  # type: ignore[no-any-return]


def backend() -> str:
    """Which lookup runs: "numba" with the ``fast`` extra, else "numpy"."""
    return "numba" if _kernels() else "numpy"


def gather(
    table: npt.NDArray[np.generic], depth: npt.NDArray[np.uint16], out: npt.NDArray[np.generic]
) -> None:
    """out[...] = table[depth[...]] for a 1-D or (N, 3) table covering every value in depth:
    the compiled loop when there is one, else numpy. Shared with ``registration.to_mm``."""
    kernels = _kernels()
    if kernels is not None:
        kernels[0 if table.ndim == 1 else 1](table, depth, out)
        return
    idx = _index_buffer(depth.shape)
    np.copyto(idx, depth, casting="safe")
    # The table spans all 65536 values, so 'wrap' never wraps; it is numpy's fastest mode.
    if out.flags.c_contiguous:
        np.take(table, idx, axis=0, out=out, mode="wrap")
    else:  # rows of a larger image (a window's panel): numpy's take wants it contiguous
        np.copyto(out, np.take(table, idx, axis=0, mode="wrap"))


def _check_packed_out(
    out: npt.NDArray[np.uint32] | None, shape: tuple[int, ...], depth: npt.NDArray[np.uint16]
) -> None:
    """``out`` for packed pixels may also be a panel of a larger image (a window): each
    row's pixels packed, rows apart, as a display surface's pixel array gives them."""
    out_array(out, shape, np.uint32, apart_from={"depth": depth}, strided=True)
    if out is None or out.flags.c_contiguous:
        return
    if out.strides[1] != 4 or out.strides[0] < 4 * shape[1]:
        raise ValueError(f"expected out with packed rows, got strides {out.strides}")


def _normalise(
    depth: object,
    palette: str,
    near: float | None,
    far: float | None,
    depth_format: DepthFormat | str | int,
    invalid_color: RGB,
) -> tuple[npt.NDArray[np.uint16], str, DepthFormat, RGB]:
    arr = depth_2d(depth)
    name = canonical_name(palette)
    fmt = DepthFormat.parse(depth_format)
    _check_format_and_range(name, fmt, near, far)
    color = _colour(invalid_color)
    return arr, name, fmt, color


def _colour(given: object) -> RGB:
    """``invalid_color`` as three ints 0..255; a float is refused, not truncated."""
    parts = tuple(given) if isinstance(given, (tuple, list, np.ndarray)) else ()
    if len(parts) != 3 or not all(
        isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= c <= 255
        for c in parts
    ):
        raise ValueError(f"expected invalid_color as three ints 0..255, got {given!r}")
    return (int(parts[0]), int(parts[1]), int(parts[2]))


def is_equalised(palette: str, near: float | None, far: float | None) -> bool:
    """Whether ``palette`` with ``near``/``far`` is histogram-equalised (a metric palette
    without a range): the one case an ``Equalizer`` is used."""
    return near is None and far is None and canonical_name(palette) != "glview"


# Tables by the caller's own arguments, so a repeated call (every frame of a viewer) skips
# parsing and checking them: about 5 us, which at thousands of frames/s is worth having.
_TABLES_BY_ARGS: dict[tuple[object, ...], npt.NDArray[np.generic]] = {}


def _depth_and_table(
    depth: object,
    order: str | None,
    palette: str,
    near: float | None,
    far: float | None,
    depth_format: DepthFormat | str | int | None,
    invalid_color: RGB,
    equalizer: Equalizer | None = None,
) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.generic]]:
    """The checked depth array and the table to gather from: packed uint32 when ``order``
    is given, else (65536, 3) RGB. No ``depth_format`` is raw 11-bit, checked against the
    values as ``to_mm`` checks them (a millimetre frame is refused, not coloured as
    disparity: trial O), on every call, since it depends on the frame."""
    if equalizer is not None:
        if not isinstance(equalizer, Equalizer):
            raise TypeError(f"expected equalizer as an Equalizer, got {type(equalizer).__name__}")
        if not is_equalised(palette, near, far):  # (trial AP D4: ignored without a word)
            raise ValueError(
                "expected equalizer only for an equalised palette (a metric palette without "
                f"near/far), got palette {palette!r} with near={near!r}, far={far!r}"
            )
    if depth_format is None:
        depth = depth_2d(depth)
        depth_format = depth_format_or_raw(None, depth)
    # With the arguments' types: True == 1 == 1.0 == RAW_10BIT, which only one of is valid.
    colour_types = tuple(map(type, invalid_color)) if isinstance(invalid_color, tuple) else ()
    given = (order, palette, near, far, depth_format, invalid_color)
    key: tuple[object, ...] = (*given, *map(type, given), *colour_types)
    try:
        table = _TABLES_BY_ARGS.get(key)
    except TypeError:  # unhashable arguments (a list as colour): take the long way
        table, key = None, ()
    if table is not None:
        return depth_2d(depth), table
    arr, name, fmt, color = _normalise(depth, palette, near, far, depth_format, invalid_color)
    if is_equalised(name, near, far):
        eq = equalizer if equalizer is not None else Equalizer(smoothing=1.0)
        return arr, eq.rgb_table(arr, name, fmt, color, None if order is None else order.upper())
    if order is None:
        table = rgb_table(name, fmt, near, far, color)
    else:
        table = _packed_fixed(name, fmt, near, far, color, order.upper())
    if key:
        if len(_TABLES_BY_ARGS) > 256:
            _TABLES_BY_ARGS.clear()
        _TABLES_BY_ARGS[key] = table
    return arr, table


def colorize(
    depth: npt.NDArray[np.uint16],
    palette: str = "glview",
    *,
    near: float | None = None,
    far: float | None = None,
    depth_format: DepthFormat | str | int | None = None,
    invalid_color: RGB = (0, 0, 0),
    out: npt.NDArray[np.uint8] | None = None,
    equalizer: Equalizer | None = None,
) -> npt.NDArray[np.uint8]:
    """Colour an (H, W) uint16 depth frame; returns (H, W, 3) uint8 RGB.

    ``glview`` reproduces libfreenect's demo exactly (raw formats only). Metric palettes
    (turbo, jet, viridis, grayscale, inverse_grayscale, hue) colour distance from ``near``
    (the palette's near end) to ``far`` metres; with neither given, the frame is
    histogram-equalised (``Equalizer``: pass one to keep colours steady over a stream of
    frames). Pixels with no reading get ``invalid_color``. ``depth_format`` is what the
    values count (``frame.depth_format``); without it they are raw 11-bit, and a frame
    holding more than 11 bits is refused.
    """
    arr, table = _depth_and_table(
        depth, None, palette, near, far, depth_format, invalid_color, equalizer
    )
    shape = (*arr.shape, 3)
    out_array(out, shape, np.uint8, apart_from={"depth": arr})
    if out is None:
        out = np.empty(shape, dtype=np.uint8)
    gather(table, arr, out)
    return out


def colorize_packed(
    depth: npt.NDArray[np.uint16],
    palette: str = "glview",
    *,
    order: str = "BGRA",
    near: float | None = None,
    far: float | None = None,
    depth_format: DepthFormat | str | int | None = None,
    invalid_color: RGB = (0, 0, 0),
    out: npt.NDArray[np.uint32] | None = None,
    equalizer: Equalizer | None = None,
) -> npt.NDArray[np.uint32]:
    """Like ``colorize``, as (H, W) uint32 pixels whose bytes in memory follow ``order``.
    ``out`` may be rows of a larger image (a window's panel), each row's pixels packed.

    ``order="BGRA"`` (the default) is what a little-endian 32-bit display surface with masks
    R=0xFF0000, G=0xFF00, B=0xFF holds; alpha (or the unused byte ``X``) is 255.
    """
    arr, table = _depth_and_table(
        depth, order, palette, near, far, depth_format, invalid_color, equalizer
    )
    _check_packed_out(out, arr.shape, arr)
    if out is None:
        out = np.empty(arr.shape, dtype=np.uint32)
    gather(table, arr, out)
    return out
