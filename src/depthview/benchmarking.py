"""What a benchmark in ``benchmarks/`` returns, and how it times things.

Each ``benchmarks/bench_*.py`` has ``run(quick: bool) -> list[Result]``. A result is a
ratio against the simple approach measured in the same run, never a bare time; the rates
are there to read the ratio by.
"""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Result:
    """One comparison: ours against the simple approach, both measured in this run."""

    name: str
    unit: str  # what the rates count, e.g. "frames/s"
    ours: float  # rate, higher is better
    baseline: float  # rate of the simple approach
    baseline_name: str
    target: str = ""  # the goal in words, e.g. ">= 30x and >= 5000 frames/s"
    met: bool | None = None  # whether the target was reached in this run
    extra: str = ""

    @property
    def ratio(self) -> float:
        """How many times faster than the baseline; NaN when the baseline was not measured
        (a peer library that is not installed)."""
        return self.ours / self.baseline if self.baseline > 0 else float("nan")

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, with the ratio (None when the baseline was not measured)."""
        ratio = self.ratio
        return {**asdict(self), "ratio": None if math.isnan(ratio) else ratio}


def rate(fn: Callable[[], object], *, seconds: float = 0.5, repeats: int = 5) -> float:
    """Best calls per second of ``fn`` over ``repeats`` rounds of about ``seconds`` each.

    The best round, not the mean: on a shared machine the fastest round is the one least
    disturbed by other work, and the same rule applies to both sides of a ratio.
    """
    fn()  # warm caches and lazily built tables
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    number = max(1, int(seconds / repeats / once))
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        best = max(best, number / elapsed)
    return best


def paired_rates(
    ours: Callable[[], object],
    theirs: Callable[[], object],
    *,
    seconds: float = 1.0,
    repeats: int = 15,
) -> tuple[float, float]:
    """Best calls per second of ``ours`` and of ``theirs``, timed in alternating rounds.

    On a shared machine the load changes from one second to the next: two sides timed one
    after the other can each meet a different load, which skews their ratio either way.
    Short rounds taken in turn give both sides the same chances of a quiet moment.
    """
    fns = (ours, theirs)
    numbers = []
    for fn in fns:
        fn()  # warm caches and lazily built tables
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-7)
        numbers.append(max(1, int(seconds / 2 / repeats / once)))
    best = [0.0, 0.0]
    for _ in range(repeats):
        for side, fn in enumerate(fns):
            start = time.perf_counter()
            for _ in range(numbers[side]):
                fn()
            elapsed = time.perf_counter() - start
            best[side] = max(best[side], numbers[side] / elapsed)
    return best[0], best[1]


def copy_bandwidth(nbytes: int, repeats: int = 50) -> float:
    """Bytes a second (read plus written) that copying ``nbytes`` moves, best of
    ``repeats``: the ceiling for a loop that moves arrays of that size, from whichever cache
    or memory holds them (give the size a benchmark's frames have)."""
    src = np.ones(nbytes, dtype=np.uint8)
    dst = np.ones(nbytes, dtype=np.uint8)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2 * nbytes / max(best, 1e-9)


VECTOR_FLAGS = (
    ("sse4_2", "SSE4.2"),
    ("avx", "AVX"),
    ("avx2", "AVX2"),
    ("fma", "FMA"),
    ("avx512f", "AVX-512"),
    ("asimd", "NEON"),
)


def _cpuinfo() -> tuple[str, list[str]]:
    """The CPU's model name and flags from /proc/cpuinfo (Linux), or the platform's."""
    model, flags = "", list[str]()
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = value.split()
    return model or platform.processor() or platform.machine(), flags


def system_info(gl_renderer: str | None = None) -> dict[str, str]:
    """What figures depend on, printed beside every benchmark line and ``--stats``: the
    CPU's model, its vector extensions, the code numba makes for it (``NUMBA_CPU_NAME``,
    e.g. ``haswell`` for AVX2, else the host's), Mesa's software renderer's vector width
    (``LP_NATIVE_VECTOR_WIDTH``) and the OpenGL renderer (``gl_renderer``; None: found by
    making a context, once)."""
    model, flags = _cpuinfo()
    have = set(flags)
    vectors = [name for flag, name in VECTOR_FLAGS if flag in have]
    return {
        "cpu": model,
        "cores": str(os.cpu_count() or 0),
        "vector_extensions": " ".join(vectors) or "none found",
        "numba_cpu": os.environ.get("NUMBA_CPU_NAME", "host"),
        "lp_vector_width": os.environ.get("LP_NATIVE_VECTOR_WIDTH", "native"),
        "gl_renderer": probe_gl_renderer() if gl_renderer is None else gl_renderer,
    }


def system_line(info: dict[str, str]) -> str:
    """``system_info`` in one line of text."""
    return (
        f"CPU {info['cpu']} ({info['cores']} cores; {info['vector_extensions']}; "
        f"numba {info['numba_cpu']}); GL {info['gl_renderer'] or 'none'}"
        f" (LP_NATIVE_VECTOR_WIDTH {info['lp_vector_width']})"
    )


_GL_RENDERER: list[str] = []
_KEPT: list[Any] = []


def probe_gl_renderer() -> str:
    """The OpenGL renderer a standalone context gets here (EGL, else the platform's), or
    "none (why)"; found once per process."""
    if _GL_RENDERER:
        return _GL_RENDERER[0]
    try:
        import moderngl
    except ImportError:
        name = "none (no moderngl: pip install 'depthview[3d]')"
    else:
        name = ""
        for backend in ("egl", "default"):
            try:
                chosen: dict[str, Any] = {} if backend == "default" else {"backend": backend}
                ctx = moderngl.create_standalone_context(**chosen)
            except Exception:  # any GL failure: try the next, then say none
                continue
            name = str(ctx.info.get("GL_RENDERER", ""))
            _KEPT.append(ctx)  # kept: Mesa does not take kindly to an EGL start after a stop
            break
        name = name or "none (no OpenGL context)"
    _GL_RENDERER.append(name)
    return name
