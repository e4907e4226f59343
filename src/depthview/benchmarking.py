"""What a benchmark in ``benchmarks/`` returns, and how it times things.

Each ``benchmarks/bench_*.py`` has ``run(quick: bool) -> list[Result]``. A result is a
ratio against the simple approach measured in the same run, never a bare time; the rates
are there to read the ratio by.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


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
