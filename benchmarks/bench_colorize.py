"""Colouring one 640x480 frame with glview's palette, against the widely copied blog snippet.

The snippet (numpy + pygame port of glview) builds a (2048, 3) uint16 table in a Python
loop once, then per frame indexes it with the frame turned by ``np.rot90``. We measure its
per-frame work in the same run, on the same frame from the demo scene.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

import depthview as dv
from depthview.benchmarking import Result, rate
from depthview.colorize import backend

FRAME_TARGET_RATIO = 30.0
PACKED_TARGET_FPS = 5000.0


def snippet_table() -> npt.NDArray[np.uint16]:
    """The snippet's table, built the snippet's way (a Python loop over 2048 values)."""
    table = np.empty((2048, 3), dtype=np.uint16)
    for i in range(2048):
        pval = int(pow(i / 2048.0, 3) * 6 * 6 * 256)
        lb, seg = pval & 0xFF, pval >> 8
        # The snippet's own ramps (its segments 2 and 3 differ from glview's).
        ramps = {
            0: (255, 255 - lb, 255 - lb),
            1: (255, lb, 0),
            2: (255 - lb, lb, 0),
            3: (255 - lb, 255, 0),
            4: (0, 255 - lb, 255),
            5: (0, 0, 255 - lb),
        }
        table[i] = ramps.get(seg, (0, 0, 0))
    return table


def run(quick: bool = False) -> list[Result]:
    seconds = 0.3 if quick else 1.0
    with dv.open("demo", fps=0) as src:
        depth = src.read().depth
    gamma = snippet_table()

    def snippet() -> object:
        return gamma[np.rot90(depth)]

    packed = np.empty(depth.shape, dtype=np.uint32)
    rgb = np.empty((*depth.shape, 3), dtype=np.uint8)
    base = rate(snippet, seconds=seconds)
    ours_packed = rate(lambda: dv.colorize_packed(depth, out=packed), seconds=seconds)
    ours_rgb = rate(lambda: dv.colorize(depth, out=rgb), seconds=seconds)
    ours_turbo = rate(
        lambda: dv.colorize_packed(depth, "turbo", near=0.5, far=4.5, out=packed), seconds=seconds
    )
    return [
        Result(
            "colorize_packed glview 640x480",
            "frames/s",
            ours_packed,
            base,
            "blog snippet",
            f">= {FRAME_TARGET_RATIO:.0f}x and >= {PACKED_TARGET_FPS:.0f} frames/s",
            ours_packed / base >= FRAME_TARGET_RATIO and ours_packed >= PACKED_TARGET_FPS,
        ),
        Result(
            "colorize_packed turbo 640x480",
            "frames/s",
            ours_turbo,
            base,
            "blog snippet",
            f">= {PACKED_TARGET_FPS:.0f} frames/s",
            ours_turbo >= PACKED_TARGET_FPS,
        ),
        Result(
            "colorize rgb glview 640x480",
            "frames/s",
            ours_rgb,
            base,
            "blog snippet",
            extra=f"lookup backend: {backend()}",
        ),
    ]
