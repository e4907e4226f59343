"""depthview.filters' contracts: shapes, dtypes, ``out=``, parameters, specs, chains.
(Bit-exactness against librealsense is tests/test_filters_realsense.py.)"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depthview import filters as F

RNG = np.random.default_rng(3)
MM = RNG.integers(0, 3000, (48, 64)).astype(np.uint16)


def test_each_filter_keeps_its_input_and_writes_out() -> None:
    disp = F.DisparityTransform()(MM)
    for f, x in [
        (F.Threshold(), MM),
        (F.Decimation(3), MM),
        (F.DisparityTransform(), MM),
        (F.DisparityTransform(False), disp),
        (F.Spatial(), MM),
        (F.Spatial(), disp),
        (F.Temporal(), MM),
        (F.Temporal(), disp),
        (F.HoleFilling(2), MM),
        (F.HoleFilling(0), disp),
    ]:
        before = x.copy()
        got = f.fresh()(x)
        assert np.array_equal(x, before), f"{f} changed its input"
        out = np.full_like(got, 7)
        assert f.fresh()(x, out=out) is out
        assert np.array_equal(out.view(np.uint8), got.view(np.uint8)), f
    inplace = MM.copy()
    assert F.Spatial()(inplace, out=inplace) is inplace
    assert np.array_equal(inplace, F.Spatial()(MM))


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[::-1],
        lambda a: a[:, ::-1],
        lambda a: a.T,
        lambda a: np.asfortranarray(a),
        lambda a: a[::2, 1::3],
    ],
    ids=["rows-reversed", "columns-reversed", "transposed", "fortran", "strided"],
)
def test_every_filter_takes_any_memory_layout(view: object) -> None:
    """A view in any order gives what its C-order copy gives (issue 22: Threshold raised)."""
    assert callable(view)
    disp = F.DisparityTransform()(MM)
    for f, x in [
        (F.Threshold(0.4995, 2.0005), MM),
        (F.Decimation(2), MM),
        (F.DisparityTransform(), MM),
        (F.DisparityTransform(False), disp),
        (F.Spatial(), MM),
        (F.Temporal(), MM),
        (F.HoleFilling(1), MM),
    ]:
        odd = view(x)
        want = f.fresh()(np.ascontiguousarray(odd))
        got = f.fresh()(odd)
        assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), f
    # and the threshold keeps exactly what an independent comparison keeps
    odd = view(MM)
    kept = np.where((odd >= 500) & (odd <= 2000), odd, 0)
    assert np.array_equal(F.Threshold(0.4995, 2.0005)(odd), kept)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: F.Spatial()(MM.astype(np.int32)),
            "expected uint16 depth (z16) or float32 disparity, got dtype int32",
        ),
        (
            lambda: F.Spatial()([[1, 2]]),
            "expected uint16 depth (z16) or float32 disparity as a numpy array, got list",
        ),
        (lambda: F.Spatial()(MM[None]), "expected shape (H, W) with H, W >= 2, got (1, 48, 64)"),
        (lambda: F.Spatial()(MM[:1]), "got (1, 64)"),
        (
            lambda: F.Threshold()(MM.astype(np.float32)),
            "threshold: expected uint16 depth (z16), got dtype float32",
        ),
        (lambda: F.Decimation()(MM.astype(np.float32)), "decimation: expected uint16 depth (z16)"),
        (
            lambda: F.DisparityTransform(False)(MM),
            "to depth: expected float32 disparity, got dtype uint16",
        ),
        (
            lambda: F.Spatial()(MM, out=np.empty((48, 64), np.float32)),
            "expected out of shape (48, 64) and dtype uint16",
        ),
        (
            lambda: F.Decimation(2)(MM, out=np.empty((48, 64), np.uint16)),
            "expected out of shape (24, 32)",
        ),
        (
            lambda: F.HoleFilling()(MM, out=np.empty((64, 48), np.uint16).T),
            "expected out to be a writable C-contiguous",
        ),
        (lambda: F.Spatial(alpha=0.2), "expected spatial alpha as a number in 0.25..1, got 0.2"),
        (lambda: F.Spatial(delta=2.5), "expected spatial delta as an integer in 1..50, got 2.5"),
        (lambda: F.Spatial(magnitude=6), "expected spatial magnitude as an integer in 1..5, got 6"),
        (
            lambda: F.Spatial(holes_fill=True),
            "expected spatial holes_fill as an integer in 0..5, got True",
        ),
        (
            lambda: F.Temporal(persistence=9),
            "expected temporal persistence as an integer in 0..8, got 9",
        ),
        (
            lambda: F.Temporal(alpha=float("nan")),
            "expected temporal alpha as a number in 0..1, got nan",
        ),
        (lambda: F.Temporal(delta=101), "expected temporal delta as an integer in 1..100"),
        (lambda: F.HoleFilling(3), "expected holes mode as an integer in 0..2, got 3"),
        (lambda: F.Decimation(0), "expected decimation magnitude as an integer in 1..8, got 0"),
        (lambda: F.Threshold(2.0, 1.0), "expected threshold min_m <= max_m, got 2.0 > 1.0"),
        (
            lambda: F.Threshold(max_m=17),
            "expected threshold max_m (metres) as a number in 0..16, got 17",
        ),
        (lambda: F.DisparityTransform(baseline_mm=0), "expected baseline_mm as a number"),
        (
            lambda: F.Chain([F.Spatial(), "temporal"]),
            "expected depthview filters in a Chain, got str",
        ),
    ],
)
def test_bad_input_says_what_was_expected(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert message in str(info.value)


def test_specs_parse_to_chains_and_back() -> None:
    spec = F.parse_filter_spec("spatial:alpha=0.5,delta=20,temporal,holes:mode=1")
    chain = spec()
    assert [type(f) for f in chain] == [F.Spatial, F.Temporal, F.HoleFilling]
    assert chain.filters[0].params() == {"alpha": 0.5, "delta": 20, "magnitude": 2, "holes_fill": 0}
    assert chain.filters[2].params() == {"mode": 1}
    again = F.parse_filter_spec(chain.describe())()
    assert again.describe() == chain.describe()
    assert F.parse_filter_spec("realsense")().name == "realsense"
    assert len(F.parse_filter_spec("none")()) == 0
    assert not F.parse_filter_spec("off")
    assert [f.name for f in F.parse_filter_spec("threshold:max_m=2,smooth")()] == [
        "threshold",
        "disparity",
        "spatial",
        "temporal",
        "depth",
        "holes",
    ]
    for preset in F.PRESETS:
        assert len(F.parse_filter_spec(preset)()) >= 1


def test_the_disparity_transform_takes_the_sources_registration() -> None:
    from dataclasses import replace

    from depthview import Registration

    reg = Registration.default()
    other = replace(reg, zero_plane_info=replace(reg.zero_plane_info, dcmos_emitter_dist=7.0))
    base, focal = F.kinect_baseline_focal(reg)
    assert base == pytest.approx(75.0) and 570 < focal < 590
    made = F.parse_filter_spec("disparity,depth")(other)
    assert made.filters[0].params()["baseline_mm"] == pytest.approx(70.0)
    given = F.parse_filter_spec("disparity:baseline_mm=50,focal_px=600,depth")(other).filters[0]
    assert given.params() == {"baseline_mm": 50, "focal_px": 600}
    # z = 1000 mm: d = 0.075 m * focal * 32 / 0.001 / 1000, and back to 1000 exactly
    z = np.full((4, 4), 1000, np.uint16)
    d = F.DisparityTransform()(z)
    assert d[0, 0] == pytest.approx(0.075 * focal * 32, rel=1e-6)
    assert np.array_equal(F.DisparityTransform(False)(d), z)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "spatail",
            "expected a filter or preset (decimation, threshold, disparity, depth, spatial, "
            "temporal, holes, realsense, smooth, fill), got 'spatail'",
        ),
        (
            "spatial:alfa=0.3",
            "expected spatial parameter alpha|delta|magnitude|holes_fill=VALUE, got 'alfa=0.3'",
        ),
        ("spatial:alpha=x", "expected a number for spatial alpha, got 'x'"),
        ("spatial:alpha=2", "expected spatial alpha as a number in 0.25..1, got 2"),
        ("temporal:persistence=9", "expected temporal persistence as an integer in 0..8, got 9"),
        ("holes,,spatial", "expected NAME[:k=v,...] between commas"),
        ("delta=3", "expected a filter name before 'delta=3'"),
        ("spatial:", "expected k=v after spatial:"),
        ("spatial:delta=3,delta=4", "expected each spatial parameter once, got delta twice"),
        ("disparity,threshold,depth", "expected threshold before 'disparity' or after 'depth'"),
        ("spatial,depth", "expected 'depth' (disparity to depth) after 'disparity'"),
        ("disparity,spatial", "expected 'depth' after 'disparity': a spec ends in depth"),
        (  # trial AR D4: "expected a filter or preset (... realsense ...), got 'realsense'"
            "realsense:alpha=0.3",
            "expected no parameters after the preset 'realsense', got 'alpha=0.3': to change "
            "them, give its filters one by one (decimation,threshold,disparity,spatial,"
            "temporal,depth)",
        ),
        ("smooth,alpha=0.3", "expected no parameters after the preset 'smooth', got 'alpha=0.3'"),
    ],
)
def test_bad_specs_say_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        F.parse_filter_spec(text)
    assert message in str(info.value)


def test_a_chain_keeps_temporal_state_per_stream() -> None:
    a = RNG.integers(500, 3000, (32, 40)).astype(np.uint16)
    b = RNG.integers(500, 3000, (32, 40)).astype(np.uint16)
    holes = np.zeros_like(a)
    chain = F.parse_filter_spec("temporal:persistence=8")()
    chain(a, stream="left")
    chain(b, stream="right")
    # a hole-only frame is filled from each stream's own last frame
    assert np.array_equal(chain(holes, stream="left"), a)
    assert np.array_equal(chain(holes, stream="right"), b)
    chain.reset()
    assert np.array_equal(chain(holes, stream="left"), holes)
    # a new shape starts the history again, as a new librealsense stream profile does
    t = F.Temporal(persistence=8)
    t(a)
    assert np.array_equal(t(np.zeros((8, 8), np.uint16)), np.zeros((8, 8), np.uint16))


def test_decimation_pads_as_librealsense_does() -> None:
    got = F.Decimation(3)(np.full((480, 640), 1000, np.uint16))
    assert got.shape == (160, 216)
    assert (got[:, :213] == 1000).all() and (got[:, 213:] == 0).all()


def test_without_numba_the_filters_name_the_extra() -> None:
    """numba is really absent here: a child process whose import system refuses it."""
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import numpy as np\n"
        "from depthview import filters as F\n"
        "try:\n"
        "    F.Spatial()(np.zeros((4, 4), np.uint16))\n"
        "except F.FilterError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'depthview[fast]'" in out.stdout


def test_the_temporal_window_rule_is_librealsenses_persistence_table() -> None:
    """The kernels count history bits in a window; librealsense looks the history up in a
    table built by its recalc_persistence_map (written out in credible_table). Same answer
    for every mode, phase and history."""
    from depthview.filters.temporal import credible_table, credible_window

    for persistence in range(9):
        table = credible_table(persistence)
        for phase in range(8):
            window, need = credible_window(persistence, phase)
            for history in range(256):
                by_table = bool(table[history] & (1 << phase))
                assert by_table == (bin(history & window).count("1") >= need), (
                    persistence,
                    phase,
                    history,
                )


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_the_compiled_temporal_loop_fills_a_hole_exactly_when_the_table_says(dtype: type) -> None:
    """The loop tests "none, one, two or all of the window" with bit operations instead of
    counting (credible_rule): run it on every history byte at once, a hole over a kept
    value, for every mode and phase, and read which holes it filled."""
    from depthview.filters import base
    from depthview.filters.temporal import credible_rule, credible_table, credible_window

    k = base.kernels()
    for persistence in range(9):
        table = credible_table(persistence)
        for phase in range(8):
            window, need = credible_window(persistence, phase)
            src = np.zeros((2, 256), dtype=dtype)  # holes everywhere
            last = np.full((2, 256), 700, dtype=dtype)
            history = np.tile(np.arange(256, dtype=np.int32), (2, 1))
            frame = np.full((2, 256), 1, dtype=dtype)
            rule = credible_rule(window, need)
            k.temporal(src, frame, last, history, window, rule, 1 << phase, np.float32(0.4), 20)
            want = np.where(table & (1 << phase), 700, 0).astype(dtype)
            assert np.array_equal(frame, np.tile(want, (2, 1))), (persistence, phase)
            # the history records this frame's hole in its bit; the kept value stays
            assert np.array_equal(history[0], np.arange(256) & ~(1 << phase))
            assert np.all(last == 700)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("spatilemporhdygfnc:=,.0123456789-_ ")) | st.characters(),
        max_size=60,
    )
    | st.lists(
        st.sampled_from(
            [
                "spatial",
                "temporal",
                "holes",
                "disparity",
                "depth",
                "decimation",
                "threshold",
                "smooth",
                "realsense",
                "none",
                "spatial:alpha=0.3",
                "delta=7",
                "delta=0",
                "mode=2",
                "magnitude=3",
                "persistence=8",
                "min_m=1",
                "max_m=0.5",
                "alpha=nan",
                "holes_fill=5",
                "x=1",
                "baseline_mm=50",
                "focal_px=-1",
                "",
            ]
        ),
        max_size=6,
    ).map(",".join)
)
def test_any_spec_text_parses_or_says_what_was_expected(text: str) -> None:
    """Whatever is typed after --filter: a chain, or a ValueError "expected ..."."""
    try:
        spec = F.parse_filter_spec(text)
    except ValueError as exc:
        assert "expected" in str(exc)
    else:
        assert isinstance(spec(), F.Chain)


def test_nan_disparity_is_no_reading() -> None:
    """A listed difference: librealsense's bit test would count +NaN as valid and spread it;
    depthview's spatial filter treats NaN as a hole (and leaves the caller's array alone)."""
    disp = F.DisparityTransform()(np.full((16, 16), 1500, np.uint16))
    disp[5, 5] = np.nan
    got = F.Spatial(holes_fill=0)(disp)
    assert np.isnan(disp[5, 5]) and got[5, 5] == 0
    assert np.isfinite(got).all()


def test_one_spatial_filter_called_from_threads_at_once_gives_each_call_its_own_result() -> None:
    """Spatial keeps its scratch between calls; a call borrows it, so calls that overlap
    (the kernels release the GIL) never share it: each result equals a lone call's."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(23)
    frames = [rng.integers(0, 3000, (240, 320)).astype(np.uint16) for _ in range(6)]
    frames += [F.DisparityTransform(True, 75.0, 580.0)(f) for f in frames[:3]]
    shared = F.Spatial(alpha=0.4, delta=30, magnitude=3)
    want = [F.Spatial(alpha=0.4, delta=30, magnitude=3)(f) for f in frames]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(shared, frames * 8))
    for i, g in enumerate(got):
        w = want[i % len(frames)]
        assert g.dtype == w.dtype and np.array_equal(g.view(np.uint8), w.view(np.uint8)), i
