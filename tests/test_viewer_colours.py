"""Histogram equalisation a person can read (the viewer's default when no range is set):
steady from frame to frame on what does not move, and a flat wall one colour band plus a
few palette steps of sensor noise. Measured with the grayscale palette, whose grey level is
the palette position; one palette step here is 1/64 of the palette, 4 grey levels."""

from __future__ import annotations

import numpy as np
import pytest

import depthview as dv
from depthview.colorize import Equalizer

STEP = 4


def grey_frames(name: str, n: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Depth frames of a source and their equalised grey, one Equalizer across them."""
    with (
        dv.open(name, realtime=False) if name == "sample" else dv.open(name, fps=0, frames=n)
    ) as src:
        depth = [f.depth for _, f in zip(range(n), src, strict=False)]
    eq = Equalizer()
    grey = [dv.colorize(d, "grayscale", equalizer=eq)[..., 0].astype(int) for d in depth]
    return depth, grey


@pytest.mark.parametrize("name", ["demo", "sample"])
def test_static_regions_keep_their_colours(name: str) -> None:
    depth, grey = grey_frames(name, 20)
    for i in range(5, len(depth)):
        a, b = depth[i - 1].astype(int), depth[i].astype(int)
        valid = (a != 2047) & (b != 2047)
        change = np.abs(grey[i] - grey[i - 1])
        same = valid & (a == b)
        noise = valid & (np.abs(a - b) <= 2)  # the sensor's noise on a still scene
        assert same.mean() > 0.2 and noise.mean() > 0.5  # there is a still part to judge
        assert np.percentile(change[same], 99) <= STEP, (name, i)
        assert np.percentile(change[noise], 99) <= 3 * STEP, (name, i)


def test_a_flat_wall_is_one_band() -> None:
    rng = np.random.default_rng(5)
    depth = rng.integers(500, 1000, (240, 320)).astype(np.uint16)
    wall = np.zeros(depth.shape, bool)
    wall[:, :200] = True  # 62 % of the picture: a wall at raw 800, noise of a step either way
    depth[wall] = 800 + rng.integers(-1, 2, int(wall.sum()))
    grey = dv.colorize(depth, "grayscale")[..., 0].astype(int)
    low, high = np.percentile(grey[wall], [1, 99])
    assert high - low <= 3 * STEP
    rest = grey[~wall]
    assert rest.min() <= 10 and rest.max() >= 245  # the rest still spans the palette
