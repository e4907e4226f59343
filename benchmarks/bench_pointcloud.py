"""Point cloud: cached unprojection grids vs meshgrid and arithmetic on every call."""

from __future__ import annotations

import numpy as np

import depthview as dv
from depthview.benchmarking import Result, rate


def _naive(depth: np.ndarray) -> np.ndarray:
    """The straightforward version: build the pixel grid each call, then unproject."""
    h, w = depth.shape
    u, v = np.meshgrid(np.arange(w), np.arange(h))
    z = dv.to_metres(depth).astype(np.float64)
    ok = ~np.isnan(z)
    x = (u[ok] - 339.5) / 594.21 * z[ok]
    y = (v[ok] - 242.7) / 591.04 * z[ok]
    return np.stack([x, y, z[ok]], axis=1).astype(np.float32)


def run(quick: bool) -> list[Result]:
    with dv.open("demo", fps=0) as src:
        depth = src.read().depth
    n = len(dv.point_cloud(depth).points)
    assert np.allclose(_naive(depth), dv.point_cloud(depth).points, rtol=1e-5, atol=1e-6)
    seconds = 0.3 if quick else 1.5
    ours = rate(lambda: dv.point_cloud(depth), seconds=seconds)
    base = rate(lambda: _naive(depth), seconds=seconds)
    return [
        Result(
            "point_cloud 640x480",
            "Mpoints/s",
            ours * n / 1e6,
            base * n / 1e6,
            "meshgrid per call",
            target=">= 1.5x",
            met=ours >= 1.5 * base,
            extra=f"{n} points/frame, {ours:.0f} frames/s",
        )
    ]
