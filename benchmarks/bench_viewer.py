"""The viewer's render loop against the blog snippet's pygame loop, same process, same frames.

Ours: one full window frame at 1280x480 (depth through ``colorize_packed`` + video + HUD +
``display.flip``), as ``Viewer.draw`` does it. Baseline: the well-known "glview in pygame"
snippet, depth only at 640x480: a (2048, 3) uint16 gamma table built in a Python loop from
glview's formula, indexed by the frame, ``np.rot90``, a new Surface, ``surfarray.blit_array``,
``transform.scale``, a font render and ``display.flip``. Both are timed in CPU seconds of
this thread (``time.thread_time``), so a busy machine does not distort the ratio; rates
are frames per CPU second. Runs under SDL's dummy video driver.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame

import depthview as dv
from depthview.benchmarking import Result
from depthview.frame import Frame
from depthview.sources.base import Source

TARGET = 10.0


class _Idle(Source):
    """A source that delivers nothing (the benchmark hands frames to the viewer itself)."""

    name = "bench"

    def __init__(self) -> None:
        self._closed = threading.Event()

    def read(self) -> Frame:
        self._closed.wait()
        raise StopIteration

    def close(self) -> None:
        self._closed.set()


def _frames(n: int) -> list[Frame]:
    with dv.open("demo", fps=0, frames=n) as src:
        return list(src)


def _snippet_gamma() -> np.ndarray:
    """The snippet's table: glview's formula in a Python loop, (2048, 3) uint16."""
    gamma = np.zeros((2048, 3), dtype=np.uint16)
    for i in range(2048):
        v = (i / 2048.0) ** 3 * 6
        pval = int(v * 6 * 256)
        lb = pval & 0xFF
        seg = pval >> 8
        if seg == 0:
            gamma[i] = (255, 255 - lb, 255 - lb)
        elif seg == 1:
            gamma[i] = (255, lb, 0)
        elif seg == 2:
            gamma[i] = (255 - lb, 255, 0)
        elif seg == 3:
            gamma[i] = (0, 255, lb)
        elif seg == 4:
            gamma[i] = (0, 255 - lb, 255)
        elif seg == 5:
            gamma[i] = (0, 0, 255 - lb)
    return gamma


def _cpu_rate(fn: Callable[[], object], frames: int, repeats: int) -> float:
    """Best frames per CPU second (this thread) over ``repeats`` rounds of ``frames`` calls."""
    fn()
    best = 0.0
    for _ in range(repeats):
        start = time.thread_time()
        for _ in range(frames):
            fn()
        used = max(time.thread_time() - start, 1e-9)
        best = max(best, frames / used)
    return best


def run(quick: bool = False) -> list[Result]:
    """Ours (full 1280x480 window) vs the snippet (640x480 depth only), as frames/CPU-s."""
    from depthview.viewer import Viewer, ViewerOptions

    frames = _frames(8)
    per_round, repeats = (30, 3) if quick else (120, 5)

    # Baseline: the snippet's loop in its own 640x480 window.
    pygame.display.init()
    pygame.font.init()
    screen = pygame.display.set_mode((640, 480))
    font = pygame.font.Font(None, 24)
    gamma = _snippet_gamma()
    counter = {"i": 0}

    def snippet() -> None:
        i = counter["i"] = counter["i"] + 1
        depth = np.rot90(frames[i % len(frames)].depth)
        rgb = gamma[depth]
        surf = pygame.Surface((640, 480))
        pygame.surfarray.blit_array(surf, rgb)
        pygame.transform.scale(surf, (640, 480), screen)  # the snippet scales into the screen
        screen.blit(font.render(f"frame {i}", True, (255, 255, 255)), (4, 4))
        pygame.display.flip()

    baseline = _cpu_rate(snippet, per_round, repeats)
    pygame.display.quit()

    # Ours: the viewer's own draw + flip, HUD on, depth + video side by side.
    viewer = Viewer(_Idle(), ViewerOptions())

    def ours() -> None:
        i = counter["i"] = counter["i"] + 1
        viewer.frame = frames[i % len(frames)]
        viewer.draw()
        pygame.display.flip()

    try:
        size = viewer.display.get_size()
        rate = _cpu_rate(ours, per_round, repeats)
    finally:
        viewer.close()
    ratio = rate / baseline
    return [
        Result(
            name="viewer render loop (CPU)",
            unit="frames/CPU-s",
            ours=rate,
            baseline=baseline,
            baseline_name="blog snippet: gamma[depth], rot90, new Surface, blit_array, "
            "scale, font, flip (640x480 depth only)",
            target=f">= {TARGET:g}x (ours draws depth+video+HUD at {size[0]}x{size[1]})",
            met=ratio >= TARGET,
            extra=f"ours {1000 / rate:.2f} ms/frame, snippet {1000 / baseline:.2f} ms/frame",
        )
    ]


if __name__ == "__main__":
    for r in run(quick=False):
        print(r.as_dict())
