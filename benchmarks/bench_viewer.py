"""The viewer's render loop against the blog snippet's pygame loop, same process, same frames.

Ours: one full window frame at 1280x480 (depth through ``colorize_packed`` + video + HUD +
the flip through ``present``), as the viewer's loop does it. Baseline: the well-known
"glview in pygame" snippet, depth only at 640x480: a (2048, 3) uint16 gamma table built in
a Python loop from glview's formula, indexed by the frame, ``np.rot90``, a new Surface,
``surfarray.blit_array``, ``transform.scale``, a font render and ``display.flip``. Both are
timed in CPU seconds of the process (``time.process_time``: every thread, so work handed to
a driver's threads counts too), which a busy machine does not distort as it does wall time;
rates are frames per CPU second. Runs under SDL's dummy video driver.

Two ways: back to back (caches warm: the loop's own cost), and paced at 30 frames/s as a
camera delivers them (each frame starts with cold caches and an idle core, which is what
``depthview view --stats`` measures; per-frame CPU is the median over the run).
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
        start = time.process_time()
        for _ in range(frames):
            fn()
        used = max(time.process_time() - start, 1e-9)
        best = max(best, frames / used)
    return best


def _paced_cpu_ms(fn: Callable[[], object], frames: int, fps: float = 30.0) -> float:
    """Median CPU milliseconds (this thread) of ``fn`` called ``fps`` times a second."""
    used = []
    start = time.perf_counter()
    for i in range(frames):
        due = start + i / fps
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
        cpu = time.process_time()
        fn()
        used.append(time.process_time() - cpu)
    return float(np.median(used)) * 1000.0


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
    paced_frames = 60 if quick else 150
    baseline_paced = _paced_cpu_ms(snippet, paced_frames)
    pygame.display.quit()

    # Ours: the viewer's own draw + flip, HUD on, depth + video side by side.
    viewer = Viewer(_Idle(), ViewerOptions())

    def ours() -> None:
        i = counter["i"] = counter["i"] + 1
        viewer.frame = frames[i % len(frames)]
        viewer.draw()
        viewer.presenter.show()

    try:
        size = viewer.display.get_size()
        rate = _cpu_rate(ours, per_round, repeats)
        ours_paced = _paced_cpu_ms(ours, paced_frames)
    finally:
        viewer.close()
    ratio = rate / baseline
    paced_ratio = baseline_paced / ours_paced
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
        ),
        Result(
            name="viewer render loop at 30 frames/s",
            unit="frames/CPU-s",
            ours=1000.0 / ours_paced,
            baseline=1000.0 / baseline_paced,
            baseline_name="the same snippet loop, paced at 30 frames/s",
            target=f">= {TARGET:g}x",
            met=paced_ratio >= TARGET,
            extra=f"ours {ours_paced:.2f} ms/frame, snippet {baseline_paced:.2f} ms/frame "
            "(median; what view --stats reports)",
        ),
    ]


if __name__ == "__main__":
    for r in run(quick=False):
        print(r.as_dict())
