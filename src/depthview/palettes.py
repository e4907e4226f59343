"""Colour palettes as pure functions of s in [0, 1], where s = 1 is the near end.

``glview`` is not here: it maps raw disparity, not distance, and lives in ``colorize``.
Turbo and viridis are 65 samples of their published tables, jet matplotlib's
piecewise-linear definition.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Turbo (Mikhailov 2019) and viridis (van der Walt and Smith 2015) sampled at 65 evenly
# spaced points and interpolated linearly: within a few levels of their 256-entry tables.
# fmt: off
_TURBO_KNOTS = np.array([
    (48, 18, 59), (53, 30, 88), (57, 42, 115), (61, 53, 139), (64, 64, 162), (66, 75, 181),
    (68, 86, 199), (70, 97, 214), (70, 107, 227), (71, 118, 238), (70, 128, 246), (69, 138, 252),
    (66, 148, 255), (61, 158, 254), (55, 168, 250), (47, 178, 244), (40, 188, 235), (34, 197, 226),
    (28, 205, 216), (25, 213, 205), (24, 221, 194), (25, 227, 185), (31, 233, 175), (39, 238, 164),
    (50, 242, 152), (63, 246, 138), (78, 249, 125), (93, 252, 111), (109, 254, 98), (125, 255, 86),
    (139, 255, 75), (153, 254, 66), (164, 252, 60), (175, 250, 55), (185, 246, 53), (195, 241, 52),
    (205, 236, 52), (215, 229, 53), (223, 223, 55), (231, 215, 57), (238, 207, 58), (244, 199, 58),
    (248, 190, 57), (251, 182, 55), (253, 172, 52), (254, 161, 48), (254, 150, 43), (253, 138, 38),
    (251, 126, 33), (248, 114, 28), (244, 102, 23), (240, 91, 18), (235, 80, 14), (229, 71, 11),
    (223, 63, 8), (216, 55, 6), (208, 47, 5), (200, 40, 3), (190, 33, 2), (180, 27, 1),
    (169, 22, 1), (158, 16, 1), (146, 11, 1), (133, 7, 2), (122, 4, 3),
], dtype=np.float64) / 255.0

_VIRIDIS_KNOTS = np.array([
    (68, 1, 84), (70, 7, 90), (71, 13, 96), (71, 19, 101), (72, 24, 106), (72, 29, 111),
    (72, 35, 116), (72, 40, 120), (71, 45, 123), (70, 50, 126), (69, 55, 129), (68, 59, 132),
    (66, 64, 134), (64, 69, 136), (62, 73, 137), (61, 78, 138), (59, 82, 139), (57, 86, 140),
    (55, 91, 141), (53, 95, 141), (51, 99, 141), (49, 103, 142), (47, 107, 142), (46, 111, 142),
    (44, 114, 142), (42, 118, 142), (41, 122, 142), (39, 126, 142), (38, 130, 142), (37, 133, 142),
    (35, 137, 142), (34, 141, 141), (33, 145, 140), (31, 148, 140), (31, 152, 139), (30, 156, 137),
    (31, 160, 136), (32, 163, 134), (34, 167, 133), (37, 171, 130), (40, 174, 128), (45, 178, 125),
    (50, 182, 122), (56, 185, 119), (63, 188, 115), (70, 192, 111), (78, 195, 107), (86, 198, 103),
    (94, 201, 98), (103, 204, 92), (112, 207, 87), (122, 209, 81), (132, 212, 75), (142, 214, 69),
    (152, 216, 62), (162, 218, 55), (173, 220, 48), (184, 222, 41), (194, 223, 35), (205, 225, 29),
    (216, 226, 25), (226, 228, 24), (236, 229, 27), (246, 230, 32), (253, 231, 37),
], dtype=np.float64) / 255.0
# fmt: on

# matplotlib's "jet": (x, value) break points per channel.
_JET = (
    ((0.0, 0.0), (0.35, 0.0), (0.66, 1.0), (0.89, 1.0), (1.0, 0.5)),
    ((0.0, 0.0), (0.125, 0.0), (0.375, 1.0), (0.64, 1.0), (0.91, 0.0), (1.0, 0.0)),
    ((0.0, 0.5), (0.11, 1.0), (0.34, 1.0), (0.65, 0.0), (1.0, 0.0)),
)


def _interpolate(knots: FloatArray, s: FloatArray) -> FloatArray:
    x = np.linspace(0.0, 1.0, len(knots))
    return np.stack([np.interp(s, x, knots[:, c]) for c in range(3)], axis=1)


def turbo(s: FloatArray) -> FloatArray:
    """Google's Turbo; near (s=1) is dark red, far (s=0) dark blue."""
    return _interpolate(_TURBO_KNOTS, s)


def viridis(s: FloatArray) -> FloatArray:
    """matplotlib's viridis; near is yellow, far dark purple."""
    return _interpolate(_VIRIDIS_KNOTS, s)


def jet(s: FloatArray) -> FloatArray:
    """matplotlib's jet; near is dark red, far dark blue."""
    return np.stack([np.interp(s, [p[0] for p in ch], [p[1] for p in ch]) for ch in _JET], axis=1)


def grayscale(s: FloatArray) -> FloatArray:
    """Near bright, far dark."""
    return np.repeat(s[:, None], 3, axis=1)


def inverse_grayscale(s: FloatArray) -> FloatArray:
    """Near dark, far bright."""
    return np.repeat(1.0 - s[:, None], 3, axis=1)


def hue(s: FloatArray) -> FloatArray:
    """Fully saturated hue from red (near) through green to blue (far)."""
    h = (1.0 - s) * 4.0  # hue in sextants of the colour wheel: 0 red, 2 green, 4 blue
    r = np.clip(np.abs(h - 3.0) - 1.0, 0.0, 1.0)
    g = np.clip(2.0 - np.abs(h - 2.0), 0.0, 1.0)
    b = np.clip(2.0 - np.abs(h - 4.0), 0.0, 1.0)
    return np.stack([r, g, b], axis=1)


METRIC_PALETTES: dict[str, Callable[[FloatArray], FloatArray]] = {
    "turbo": turbo,
    "jet": jet,
    "viridis": viridis,
    "grayscale": grayscale,
    "inverse_grayscale": inverse_grayscale,
    "hue": hue,
}

#: Every palette name ``colorize`` accepts, in the viewer's cycling order.
PALETTES: tuple[str, ...] = ("glview", *METRIC_PALETTES)

SAMPLES = 4096


#: Said by every command given a range with glview (``ranged_palette``).
GLVIEW_HAS_NO_RANGE = (
    "--palette glview maps raw values and has no range: --near and --far need a metric "
    "palette such as turbo"
)


def ranged_palette(palette: str | None, near: float | None, far: float | None) -> str | None:
    """The palette a command (view, export) starts with: a range (``--near``/``--far``)
    without a palette asks for the metric default, turbo; glview has no range (ValueError
    with ``GLVIEW_HAS_NO_RANGE``); else the one asked for (None: the command's default)."""
    ranged = near is not None or far is not None
    if ranged and palette is not None and canonical_name(palette) == "glview":
        raise ValueError(GLVIEW_HAS_NO_RANGE)
    return "turbo" if ranged and palette is None else palette


def canonical_name(palette: str) -> str:
    """Normalise ``"Inverse-Grayscale"`` to ``"inverse_grayscale"``; reject unknown names."""
    if not isinstance(palette, str):
        raise TypeError(f"expected palette as a name, got {type(palette).__name__}")
    key = palette.strip().lower().replace("-", "_").replace("grey", "gray")
    if key not in PALETTES:
        raise ValueError(f"expected a palette name ({', '.join(PALETTES)}), got {palette!r}")
    return key


@cache
def palette_samples(palette: str, n: int = SAMPLES) -> npt.NDArray[np.uint8]:
    """(n, 3) uint8 colours of a metric palette at s = 0 (far) .. 1 (near), computed once."""
    func = METRIC_PALETTES[canonical_name(palette)]
    s = np.linspace(0.0, 1.0, n)
    rgb = np.clip(func(s), 0.0, 1.0)
    out = np.rint(rgb * 255.0).astype(np.uint8)
    out.flags.writeable = False
    return out
