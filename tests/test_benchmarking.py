"""benchmarking's timing helpers: what they call and in what order (never how fast)."""

from __future__ import annotations

import itertools
import math

from depthview.benchmarking import copy_bandwidth, paired_rates


def test_paired_rates_times_the_two_sides_in_alternating_rounds() -> None:
    calls: list[str] = []
    rates = paired_rates(lambda: calls.append("ours"), lambda: calls.append("theirs"), repeats=7)
    # Two warm-up calls each, then seven rounds: a run of ours, then a run of theirs.
    assert calls[:4] == ["ours", "ours", "theirs", "theirs"]
    runs = [(name, len(list(group))) for name, group in itertools.groupby(calls[4:])]
    assert [name for name, _ in runs] == ["ours", "theirs"] * 7
    assert len({n for name, n in runs if name == "ours"}) == 1  # the same count each round
    assert len({n for name, n in runs if name == "theirs"}) == 1
    assert all(r > 0 and math.isfinite(r) for r in rates)


def test_copy_bandwidth_is_a_finite_positive_rate() -> None:
    small = copy_bandwidth(1 << 16, repeats=3)
    assert small > 0 and math.isfinite(small)
