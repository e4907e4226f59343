"""benchmarking's timing helpers: what they call and in what order (never how fast), and the
benchmark tables' rows."""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

import depthview as dv
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


def _viewer_runs(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    path = Path(__file__).parent.parent / "benchmarks" / "bench_viewer_runs.py"
    spec = importlib.util.spec_from_file_location("bench_viewer_runs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_viewer_runs", module)  # its dataclasses need it
    spec.loader.exec_module(module)
    return module


def test_viewer_table_has_its_rgbd_row_on_a_fresh_clone(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without DEPTHVIEW_BENCH_RGBD the "real RGB-D recording" row plays the shipped
    # sample (a real Kinect recording) in 3d-video; with it, the named one.
    bench = _viewer_runs(monkeypatch)
    monkeypatch.delenv("DEPTHVIEW_BENCH_RGBD", raising=False)
    rgbd = [r for r in bench.rows() if r.name.startswith("a real RGB-D recording")]
    assert [(r.source, r.layout) for r in rgbd] == [("sample", "3d-video")]
    with dv.open("sample") as src:
        assert src.read().depth.shape == (480, 640)
    monkeypatch.setenv("DEPTHVIEW_BENCH_RGBD", "/data/seq")
    rgbd = [r for r in bench.rows() if r.name.startswith("a real RGB-D recording")]
    assert [(r.source, r.layout) for r in rgbd] == [("/data/seq", "3d-video")]
