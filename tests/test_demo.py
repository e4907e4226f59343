"""The demo source: a synthetic Kinect whose frames have the real sensor's artefacts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import depthview as dv
from _helpers_kinect_mm import mm_table
from depthview._compiled import optional
from depthview.frame import GRAVITY
from depthview.scene import MAX_RANGE_M, MIN_RANGE_M, RIGHT_BAND_COLUMNS, DemoScene
from depthview.scene_walk import WalkScene, walk_pose


@contextmanager
def numpy_only() -> Iterator[None]:
    """numba switched off (``DEPTHVIEW_NO_NUMBA``): the numpy renderer, the reference."""
    os.environ["DEPTHVIEW_NO_NUMBA"] = "1"
    try:
        yield
    finally:
        del os.environ["DEPTHVIEW_NO_NUMBA"]


@pytest.fixture(scope="module")
def scene() -> DemoScene:
    return DemoScene(seed=0)


def test_frames_have_the_kinect_shapes_and_types() -> None:
    with dv.open("demo", fps=0, frames=3) as src:
        frames = list(src)
    assert [f.index for f in frames] == [0, 1, 2]
    f = frames[0]
    assert f.depth.shape == (480, 640) and f.depth.dtype == np.uint16
    assert f.video is not None and f.video.shape == (480, 640, 3) and f.video.dtype == np.uint8
    assert f.depth_format is dv.DepthFormat.RAW_11BIT and f.video_format is dv.VideoFormat.RGB
    assert f.depth.max() <= 2047
    assert f.accel is not None and abs(np.linalg.norm(f.accel) - GRAVITY) < 0.5
    assert frames[1].timestamp - frames[0].timestamp == pytest.approx(1 / 30)


def test_deterministic_for_a_seed_and_different_across_seeds() -> None:
    a = [f.depth for f in dv.open("demo", fps=0, frames=3)]
    b = [f.depth for f in dv.open("demo", fps=0, frames=3)]
    c = [f.depth for f in dv.open("demo:7", fps=0, frames=3)]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[2], c[2])


def test_seek_renders_the_same_frame() -> None:
    src = dv.open("demo", fps=0)
    frames = [src.read() for _ in range(5)]
    src.seek(3)
    np.testing.assert_array_equal(src.read().depth, frames[3].depth)


def test_frames_option_ends_the_stream() -> None:
    src = dv.open("demo", fps=0, frames=2)
    assert len(src) == 2
    assert len(list(src)) == 2


def test_right_edge_band_has_no_reading() -> None:
    depth = dv.open("demo", fps=0).read().depth
    assert (depth[:, -RIGHT_BAND_COLUMNS:] == 2047).all()
    assert (depth[:, -RIGHT_BAND_COLUMNS - 1] != 2047).any()


def test_nothing_read_closer_than_min_range_or_beyond_max(scene: DemoScene) -> None:
    # Frame 60 (2 s) has the ball at its closest (0.45 m); the open door shows a corridor.
    z, _ = scene.true_depth(60)
    depth = scene.sense(z, 60)
    too_near = z < MIN_RANGE_M
    too_far = z > MAX_RANGE_M
    assert too_near.sum() > 100 and too_far.sum() > 100
    assert (depth[too_near] == 2047).all()
    assert (depth[too_far] == 2047).all()


def test_ir_shadows_lie_left_of_near_edges(scene: DemoScene) -> None:
    z, _ = scene.true_depth(40)
    depth = scene.sense(z, 40)
    band = np.zeros_like(depth, dtype=bool)
    band[:, -RIGHT_BAND_COLUMNS:] = True
    unexplained = (depth == 2047) & (z >= MIN_RANGE_M) & (z <= MAX_RANGE_M) & ~band
    # Runs of holes on in-range surfaces: the surface right after a run is nearer than the
    # one before it (the projector sits to the right, so its shadow falls to the left).
    left_nearer = right_nearer = 0
    for y in range(0, 480, 3):
        row, cols = z[y], np.flatnonzero(unexplained[y])
        if cols.size == 0:
            continue
        starts = cols[np.r_[True, np.diff(cols) > 1]]
        ends = cols[np.r_[np.diff(cols) > 1, True]]
        for s, e in zip(starts, ends, strict=True):
            if e - s >= 2 and s > 0 and e < 639 - RIGHT_BAND_COLUMNS:
                before, after = row[s - 1], row[e + 1]
                right_nearer += after < before - 0.2
                left_nearer += before < after - 0.2
    assert right_nearer > 50
    assert right_nearer > 5 * left_nearer


def test_disparity_quantisation_and_temporal_noise(scene: DemoScene) -> None:
    frames = np.stack([scene.sense(scene.true_depth(0)[0], i) for i in range(8)]).astype(float)
    wall = frames[:, 10:40, 300:400]  # back wall above the person, static
    assert (wall < 2047).all()
    spread = wall.std(axis=0).mean()
    assert 0.2 < spread < 1.5  # about half a raw step, as on the real sensor
    # the raw value libfreenect's table reads as the true distance (the helper's C formula)
    z_mm = scene.true_depth(0)[0][10:40, 300:400].astype(np.float64) * 1000
    table = mm_table()[:1055].astype(np.float64)
    exact = np.interp(z_mm, table, np.arange(1055.0))
    assert np.abs(wall.mean(axis=0) - exact).mean() < 0.5


def test_looks_like_the_real_recording() -> None:
    # The demo should read like the real sample: a similar share of "no reading" pixels and
    # a similar spread of valid raw values (rooms of a few metres).
    with dv.open("sample", realtime=False) as src:
        real = np.stack([f.depth for f in src])
    depth = dv.open("demo", fps=0).read().depth
    real_invalid = (real == 2047).mean()
    assert abs((depth == 2047).mean() - real_invalid) < 0.08
    real_lo, real_hi = np.percentile(real[real != 2047], [5, 95])
    lo, hi = np.percentile(depth[depth != 2047], [5, 95])
    assert abs(lo - real_lo) < 150 and abs(hi - real_hi) < 80


def test_video_matches_the_scene_and_ir_mode() -> None:
    src = dv.open("demo", fps=0)
    rgb = src.read().video
    assert rgb is not None and rgb.std() > 20  # a shaded room, not a flat colour
    src.set_video_format(dv.VideoFormat.IR_8BIT)
    ir = src.read()
    assert ir.video is not None and ir.video.shape == (480, 640) and ir.video_format.is_ir
    with pytest.raises(dv.UnsupportedControl, match="demo cannot"):
        src.set_video_format(dv.VideoFormat.BAYER)
    with pytest.raises(dv.UnsupportedControl, match="demo cannot tilt"):
        src.set_tilt(10)


@pytest.mark.parametrize("fmt", ["10bit", "mm"])
def test_other_depth_formats(fmt: str) -> None:
    raw = dv.open("demo", fps=0).read().depth
    other = dv.open("demo", fps=0, depth_format=fmt).read()
    assert other.depth_format is dv.DepthFormat.parse(fmt)
    m_raw, m_other = dv.to_metres(raw), dv.to_metres(other.depth, fmt)
    both = np.isfinite(m_raw) & np.isfinite(m_other)
    assert both.mean() > 0.8
    # Within two 11-bit disparity steps (dz = 0.0031 z^2 per step) plus a millimetre.
    step = 0.0031 * m_raw[both] ** 2
    assert (np.abs(m_raw[both] - m_other[both]) <= 2.5 * step + 0.001).all()


@pytest.mark.parametrize(
    ("uri", "options", "message"),
    [
        ("demo:x", {}, "expected 'demo:SEED' or 'demo:walk:SEED' with an integer seed"),
        ("demo:walk:x", {}, "expected 'demo:SEED' or 'demo:walk:SEED' with an integer seed"),
        (
            "demo",
            {"fps": -1},
            r"fps: expected a finite number of frames per second 0 \(as fast as it can\) or "
            r">= 0.01 and <= 1000, got -1",
        ),
        ("demo", {"frames": -2}, "expected frames >= 0"),
        ("nonexistent-thing", {}, "no such file or folder, nor a source name"),
    ],
)
def test_bad_demo_options(uri: str, options: dict, message: str) -> None:
    with pytest.raises(dv.SourceError, match=message):
        dv.open(uri, **options)


def test_demo_walk_carries_its_true_poses() -> None:
    """``demo:walk``: the still room from a moving camera, each frame with its pose."""
    from depthview.scene_walk import walk_pose

    with dv.open("demo:walk:2", fps=0, frames=3) as src:
        frames = list(src)
    assert src.name == "demo:walk:2" and len(frames) == 3
    for i, frame in enumerate(frames):
        np.testing.assert_array_equal(frame.meta["true_pose"], walk_pose(i))
    assert not np.array_equal(frames[0].depth, frames[2].depth)


@pytest.mark.skipif(optional("_scene_numba") is None, reason="numba (the fast extra) is missing")
@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 50), index=st.integers(0, 400))
def test_compiled_frames_are_numpys_to_the_bit(seed: int, index: int) -> None:
    # The compiled room (only the moving parts' boxes ray-cast, the sensor in one pass) is
    # an optimisation: numpy's whole-frame ray cast, run independently, must give the same
    # depth, z and colour, so a frame is the same with or without numba.
    scene = DemoScene(seed=seed)
    assert scene._loops is not None
    compiled = scene.render(index)
    with numpy_only():
        assert scene._loops is None
        plain = scene.render(index)
    for got, want in zip(compiled, plain, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.skipif(optional("_scene_numba") is None, reason="numba (the fast extra) is missing")
@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 50),
    index=st.integers(0, 720),
    size=st.sampled_from([(640, 480), (160, 120)]),
    nudge=st.tuples(*[st.floats(-0.3, 0.3)] * 3),
)
def test_compiled_walk_frames_are_numpys_to_the_bit(
    seed: int, index: int, size: tuple[int, int], nudge: tuple[float, float, float]
) -> None:
    # demo:walk's compiled ray cast (a bounding-sphere test before each box's slabs)
    # against numpy's whole-frame one, on the walk's poses and poses moved off it.
    width, height = size
    scene = WalkScene(seed=seed, width=width, height=height)
    pose = walk_pose(index)
    pose[:3, 3] += nudge
    assert scene.sensor._loops is not None
    compiled = scene.render_at(pose, index)
    with numpy_only():
        assert scene.sensor._loops is None
        plain = scene.render_at(pose, index)
    for got, want in zip(compiled, plain, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.skipif(optional("_scene_numba") is None, reason="numba (the fast extra) is missing")
def test_compiled_frames_match_numpy_over_the_whole_motion() -> None:
    # Every frame of the person's 9-s walk and the ball's 4-s swing (the parts' rims pass
    # every row's pixel-skipping bounds), small so numpy's side is quick.
    scene = DemoScene(seed=2, width=160, height=120)
    for index in range(0, 300):
        compiled = scene.render(index)
        with numpy_only():
            assert scene._loops is None
            plain = scene.render(index)
        for got, want in zip(compiled, plain, strict=True):
            np.testing.assert_array_equal(got, want, err_msg=f"frame {index}")
