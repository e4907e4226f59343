"""Colour palettes as pure functions of s in [0, 1], where s = 1 is the near end.

``glview`` is not here: it maps raw disparity, not distance, and lives in ``colorize``.
Turbo and viridis use their published polynomial approximations (Mikhailov 2019; Zucker
2020), jet matplotlib's piecewise-linear definition.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

_TURBO = np.array([
    [0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
    [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
    [0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973],
])

_VIRIDIS = np.array([
    [0.2777273272234177, 0.1050930431085774, -0.3308618287255563, -4.634230498983486,
     6.228269936347081, 4.776384997670288, -5.435455855934631],
    [0.005407344544966578, 1.404613529898575, 0.214847559468213, -5.799100973351585,
     14.17993336680509, -13.74514537774601, 4.645852612178535],
    [0.3340998053353061, 1.384590162594685, 0.09509516302823659, -19.33244095627987,
     56.69055260068105, -65.35303263337234, 26.3124352495832],
])

# matplotlib's "jet": (x, value) break points per channel.
_JET = (
    ((0.0, 0.0), (0.35, 0.0), (0.66, 1.0), (0.89, 1.0), (1.0, 0.5)),
    ((0.0, 0.0), (0.125, 0.0), (0.375, 1.0), (0.64, 1.0), (0.91, 0.0), (1.0, 0.0)),
    ((0.0, 0.5), (0.11, 1.0), (0.34, 1.0), (0.65, 0.0), (1.0, 0.0)),
)


def _polynomial(coeffs: FloatArray, x: FloatArray) -> FloatArray:
    # Horner per channel; coefficients lowest order first.
    out = np.zeros((x.size, 3))
    for k in range(coeffs.shape[1] - 1, -1, -1):
        out = out * x[:, None] + coeffs[:, k]
    return out


def turbo(s: FloatArray) -> FloatArray:
    """Google's Turbo; near (s=1) is dark red, far (s=0) dark blue."""
    return _polynomial(_TURBO, s)


def viridis(s: FloatArray) -> FloatArray:
    """matplotlib's viridis; near is yellow, far dark purple."""
    return _polynomial(_VIRIDIS, s)


def jet(s: FloatArray) -> FloatArray:
    """matplotlib's jet; near is dark red, far dark blue."""
    return np.stack(
        [np.interp(s, [p[0] for p in ch], [p[1] for p in ch]) for ch in _JET], axis=1
    )


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
