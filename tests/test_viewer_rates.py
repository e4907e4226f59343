"""The HUD's frame rates (issue 22, trial K): at --fps 3 the HUD read "fps 2.0" (frames
counted in a half-second window: 1 or 2 of them) while --stats said 2.99. Both now come from
one computation (``viewer.stats``): the intervals over the time they span. Checked on a
fake clock (a list of frame times, so the figures are exact), and on the real viewer."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import depthview as dv
from _helpers_viewer import wait_for
from depthview.viewer.stats import RATE_WINDOW, FrameRate, Stats, interval_rate


def steady(rate: float, n: int, start: float = 0.0) -> list[float]:
    """Times of ``n`` frames at ``rate`` per second from ``start``."""
    return [start + k / rate for k in range(n)]


def rate_of(times: list[float], now: float) -> float | None:
    rates = FrameRate()
    for t in times:
        rates.add(t)
    return rates.rate(now)


@pytest.mark.parametrize("fps", [3.0, 5.0, 15.0, 2.0, 6.0, 10.0])
def test_the_rates_trial_k_read_wrong_are_read_right(fps: float) -> None:
    times = steady(fps, 15)
    for now in (times[-1], times[-1] + 0.5 / fps, times[-1] + 0.99 / fps):
        got = rate_of(times, now)
        assert got is not None and math.isclose(got, fps, rel_tol=1e-9), (now, got)


@given(
    rate=st.floats(0.5, 120.0),
    n=st.integers(2, 400),
    start=st.floats(0.0, 1e5),
    phase=st.floats(0.0, 0.999),
)
def test_any_steady_rate_is_read_within_one_percent(
    rate: float, n: int, start: float, phase: float
) -> None:
    """For any steady rate r in [0.5, 120], at any moment before the next frame is due, the
    HUD's figure is within 1 % of r (whatever the clock's origin and the frames so far)."""
    times = steady(rate, n, start)
    got = rate_of(times, times[-1] + phase / rate)
    assert got is not None
    assert abs(got - rate) <= 0.01 * rate


@given(rate=st.floats(0.5, 120.0), n=st.integers(2, 100), wait=st.floats(2.01, 1000.0))
def test_a_stalled_source_reads_below_its_old_rate(rate: float, n: int, wait: float) -> None:
    """Frames that stop coming (more than two intervals ago) never leave the old rate shown."""
    times = steady(rate, n)
    got = rate_of(times, times[-1] + wait / rate)
    assert got is not None and got < rate


def test_the_window_keeps_the_recent_frames_and_at_least_two() -> None:
    rates = FrameRate()
    for t in steady(30.0, 300):  # ten seconds
        rates.add(t)
    assert rates.times[-1] - rates.times[0] <= RATE_WINDOW
    slow = FrameRate()
    for t in steady(0.25, 5):  # one frame every 4 s, longer than the window
        slow.add(t)
    assert len(slow.times) == 2 and slow.rate(slow.times[-1]) == pytest.approx(0.25)


def test_no_rate_before_the_second_frame() -> None:
    assert rate_of([], 1.0) is None
    assert rate_of([5.0], 5.5) is None
    assert interval_rate(1, 0.0, 0.0) is None


def test_stats_display_fps_is_the_same_computation() -> None:
    """--stats's display_fps: the intervals from the first frame shown to the last."""
    stats = Stats()
    times = steady(3.0, 15, start=100.0)
    for i, t in enumerate(times):
        stats.shown(i, t, t)
    assert stats.as_dict(0)["display_fps"] == round(14 / (times[-1] - times[0]), 2) == 3.0
    assert rate_of(times, times[-1]) == pytest.approx(3.0)


def test_stats_of_one_frame_shown_measure_nothing_and_say_null() -> None:
    """Trial AA (D6): ``view --frames 1 --stats`` said 0.0 ms CPU per frame, 0.0 ms latency
    and 0.0 frames/s, read as measurements (beside a 2 ms CPU median). What needs two
    frames shown is None (JSON null) with one, and a number from the second on."""
    stats = Stats()
    stats.shown(0, 100.0, 99.99)
    stats.cpu_ms.append(2.0)
    one = stats.as_dict(0)
    unmeasured = ["process_cpu_ms_per_frame", "main_thread_cpu_ms_per_frame"]
    unmeasured += ["latency_ms_median", "latency_ms_p95", "display_fps"]
    assert [one[k] for k in unmeasured] == [None] * 5
    assert one["cpu_ms_median"] == 2.0 and one["frames_shown"] == 1
    stats.shown(1, 100.5, 100.49)
    two = stats.as_dict(0)
    assert all(isinstance(two[k], float) for k in unmeasured), two
    assert two["latency_ms_median"] == pytest.approx(10.0) and two["display_fps"] == 2.0
    assert Stats().as_dict(0)["cpu_ms_median"] is None


def test_the_hud_reads_the_demo_at_3_fps_as_stats_does(viewers: Any) -> None:
    """The real viewer on the demo paced at 3 a second (trial K's case): the HUD's "shown"
    and "read" agree with --stats's display_fps (the same frames, the same computation),
    where the half-second count read 2.0 or 4.0."""
    v = viewers(dv.open("demo", fps=3))
    wait_for(v, lambda: v.stats.frames_shown >= 8, timeout=30)
    v._update_rates(v.stats.last)  # the moment the last frame was shown
    info = v.info()
    stats_fps = v.stats.as_dict(0)["display_fps"]
    assert isinstance(stats_fps, float) and info.display_fps is not None
    assert abs(info.display_fps - stats_fps) <= 0.05 * stats_fps, (info.display_fps, stats_fps)
    assert info.source_fps is not None and abs(info.source_fps - 3.0) <= 0.3
    assert f"fps {info.display_fps:.1f} shown" in v.overlays.hud_lines(v.state, info)[1][0]
