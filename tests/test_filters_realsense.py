"""depthview.filters against librealsense itself (pyrealsense2's filters on a software
device), pixel for pixel: every filter over a grid of parameters, z16 and disparity,
synthetic scenes (planes, steps, holes, edges, the ends of the range) and the shipped real
Kinect recording; Temporal over 30 flickering frames in every persistence mode. Disparity
is compared bit for bit (float32 bit patterns)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import depthview as dv
from _helpers_realsense import BASELINE_MM, Oracle, block, data
from depthview import filters as F

H, W = 96, 128


def same(ours: np.ndarray, theirs: np.ndarray) -> None:
    """Equal shape, dtype and bits; else say how many pixels differ and the first one."""
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (
        f"{ours.shape} {ours.dtype} vs librealsense {theirs.shape} {theirs.dtype}"
    )
    a = ours.view(np.uint32) if ours.dtype == np.float32 else ours
    b = theirs.view(np.uint32) if theirs.dtype == np.float32 else theirs
    bad = np.argwhere(a != b)
    assert bad.size == 0, (
        f"{len(bad)} pixels differ; first at {tuple(bad[0])}: "
        f"{ours[tuple(bad[0])]} vs librealsense {theirs[tuple(bad[0])]}"
    )


def scenes(h: int, w: int) -> dict[str, np.ndarray]:
    """Synthetic millimetre scenes that exercise every branch: noisy planes, steps just
    under and over the deltas, holes of every width, thin edges, 1s and 0s (librealsense
    treats 1 specially), values near 0 and 65535 and on the threshold's edges."""
    rng = np.random.default_rng(16)
    yy, xx = np.mgrid[0:h, 0:w]
    plane = 900 + 6 * xx + 3 * yy + rng.integers(-12, 13, (h, w))
    steps = 1500 + (xx // 9) * np.array([3, 19, 20, 21, 45, 200])[(xx // 9) % 6] + (yy // 16) * 25
    steps = steps + rng.integers(-2, 3, (h, w))
    holes = plane.copy()
    holes[rng.random((h, w)) < 0.15] = 0
    for i, width in enumerate((1, 2, 3, 5, 9, 17, 40)):
        holes[8 + i * 11 : 14 + i * 11, 10 : 10 + width] = 0
    holes[:, -1] = 0
    holes[-3:, :] = 0
    holes[5, :] = 1
    holes[20:30, w // 2] = 1
    edges = np.where((xx // 16 + yy // 12) % 2 == 0, 700, 2600) + rng.integers(-25, 26, (h, w))
    edges[::7, :] = 0
    edges[:, ::11] = 4000
    ends = rng.choice(
        np.array(
            [
                0,
                1,
                2,
                5,
                15,
                19,
                20,
                21,
                40,
                99,
                100,
                101,
                3999,
                4000,
                4001,
                15999,
                16000,
                16001,
                65000,
                65534,
                65535,
            ]
        ),
        size=(h, w),
    )
    ends[h // 2 :, :] = np.sort(ends[h // 2 :, :], axis=1)
    for arr in (plane, steps, holes, edges, ends):
        arr[-1, -1] = 2000  # librealsense's disparity hole filling reads past a hole there
    return {
        name: np.clip(arr, 0, 65535).astype(np.uint16)
        for name, arr in {
            "plane": plane,
            "steps": steps,
            "holes": holes,
            "edges": edges,
            "ends": ends,
        }.items()
    }


@pytest.fixture(scope="module")
def oracle() -> Iterator[Oracle]:
    o = Oracle(W, H)
    yield o
    o.close()


@pytest.fixture(scope="module")
def real() -> Iterator[tuple[Oracle, list[np.ndarray]]]:
    """The shipped Kinect recording in millimetres (the source's registration), 640x480."""
    with dv.open("sample") as src:
        mm = [dv.to_mm(f.depth, src.registration) for f in src]
    o = Oracle(640, 480)
    yield o, mm
    o.close()


SCENES = scenes(H, W)


def to_disparity(o: Oracle) -> F.DisparityTransform:
    return F.DisparityTransform(True, BASELINE_MM, o.fx)


def both_domains(o: Oracle, depth: np.ndarray) -> list[tuple[np.ndarray, object]]:
    """The frame as (depthview's input, librealsense's frame) in z16 and in disparity,
    checking the disparity transform on the way."""
    frame = o.frame(depth)
    rs_disp = block("disparity").process(frame)
    disp = to_disparity(o)(depth)
    same(disp, data(rs_disp))
    return [(depth, frame), (disp, rs_disp)]


@pytest.mark.parametrize("scene", sorted(SCENES))
def test_decimation_threshold_and_disparity_match(oracle: Oracle, scene: str) -> None:
    depth = SCENES[scene]
    frame = oracle.frame(depth)
    for magnitude in range(1, 9):
        same(
            F.Decimation(magnitude)(depth),
            data(block("decimation", magnitude=magnitude).process(frame)),
        )
    for lo, hi in ((0.1, 4.0), (0.0, 16.0), (0.02, 0.1), (1.5, 1.5), (3.9, 4.1)):
        same(
            F.Threshold(lo, hi)(depth), data(block("threshold", min_m=lo, max_m=hi).process(frame))
        )
    rs_disp = block("disparity").process(frame)
    disp = to_disparity(oracle)(depth)
    same(disp, data(rs_disp))
    back = F.DisparityTransform(False, BASELINE_MM, oracle.fx)(disp)
    same(back, data(block("depth").process(rs_disp)))


@pytest.mark.parametrize(("baseline_mm", "focal_px"), [(50.0, 383.7), (95.3, 640.2), (7.5, 1500.0)])
def test_disparity_round_trip_matches_for_other_cameras(
    baseline_mm: float, focal_px: float
) -> None:
    o = Oracle(W, H, focal_px=focal_px, baseline_mm=baseline_mm)
    for depth in SCENES.values():
        frame = o.frame(depth)
        rs_disp = block("disparity").process(frame)
        disp = F.DisparityTransform(True, baseline_mm, o.fx)(depth)
        same(disp, data(rs_disp))
        same(
            F.DisparityTransform(False, baseline_mm, o.fx)(disp),
            data(block("depth").process(rs_disp)),
        )
    o.close()


SPATIAL = [
    {},  # librealsense's defaults: alpha 0.5, delta 20, magnitude 2, holes_fill 0
    {"alpha": 0.25, "delta": 1, "magnitude": 1},
    {"alpha": 0.37, "delta": 50, "magnitude": 5},
    {"alpha": 1.0, "delta": 20, "magnitude": 2},
    *({"alpha": 0.6, "delta": 8, "magnitude": 3, "holes_fill": hf} for hf in range(1, 6)),
]


@pytest.mark.parametrize("scene", sorted(SCENES))
def test_spatial_matches_in_both_domains(oracle: Oracle, scene: str) -> None:
    for ours_in, theirs_in in both_domains(oracle, SCENES[scene]):
        for params in SPATIAL:
            got = F.Spatial(**params)(ours_in)
            same(got, data(block("spatial", **params).process(theirs_in)))


@pytest.mark.parametrize(("h", "w"), [(61, 83), (83, 61), (5, 13), (13, 5)])
def test_spatial_and_temporal_match_at_sizes_that_are_not_multiples_of_eight(
    h: int, w: int
) -> None:
    """The row passes run on the image transposed eight rows at a time, the rest one by
    one: sizes with a remainder, and with fewer than eight rows or columns (crops of the
    scenes)."""
    o = Oracle(w, h)
    try:
        for scene in ("holes", "edges", "ends"):
            depth = SCENES[scene][:h, :w].copy()
            depth[-1, -1] = 2000  # as in scenes(): the listed hole-filling difference
            for ours_in, theirs_in in both_domains(o, depth):
                for params in SPATIAL:
                    got = F.Spatial(**params)(ours_in)
                    same(got, data(block("spatial", **params).process(theirs_in)))
                ours, theirs = F.Temporal(), block("temporal")
                for _ in range(3):
                    same(ours(ours_in), data(theirs.process(theirs_in)))
    finally:
        o.close()


@pytest.mark.parametrize("scene", sorted(SCENES))
def test_hole_filling_matches_in_both_domains(oracle: Oracle, scene: str) -> None:
    for ours_in, theirs_in in both_domains(oracle, SCENES[scene]):
        for mode in (0, 1, 2):
            same(F.HoleFilling(mode)(ours_in), data(block("holes", mode=mode).process(theirs_in)))


def flicker(base: np.ndarray, n: int, seed: int) -> list[np.ndarray]:
    """n frames of ``base`` with noise, pixels dropping out and whole patches jumping."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        frame = base.astype(np.int64) + rng.integers(-30, 31, base.shape) * (base > 0)
        frame[rng.random(base.shape) < 0.1 + 0.3 * (i % 3 == 0)] = 0
        if i % 5 == 2:
            frame[10:30, 20:60] += 400
        out.append(np.clip(frame, 0, 65535).astype(np.uint16))
    return out


@pytest.mark.parametrize("persistence", range(9))
def test_temporal_matches_over_30_flickering_frames(oracle: Oracle, persistence: int) -> None:
    params = [
        {"persistence": persistence},
        {"persistence": persistence, "alpha": 0.17, "delta": 55},
    ][persistence % 2]
    frames = flicker(SCENES["holes"], 30, persistence)
    ours_z, ours_d = F.Temporal(**params), F.Temporal(**params)
    theirs_z, theirs_d = block("temporal", **params), block("temporal", **params)
    rs_to_disp = block("disparity")
    for depth in frames:
        frame = oracle.frame(depth)
        same(ours_z(depth), data(theirs_z.process(frame)))
        same(ours_d(to_disparity(oracle)(depth)), data(theirs_d.process(rs_to_disp.process(frame))))


def test_every_filter_and_the_chain_match_on_the_real_recording(
    real: tuple[Oracle, list[np.ndarray]],
) -> None:
    o, frames = real
    chain = F.parse_filter_spec("smooth")(None)
    ours = F.Chain(
        [
            to_disparity(o),
            F.Spatial(),
            F.Temporal(),
            F.DisparityTransform(False, BASELINE_MM, o.fx),
            F.HoleFilling(),
        ]
    )
    assert chain.describe() == ours.describe().replace(
        f"focal_px={o.fx:g}", f"focal_px={F.kinect_baseline_focal()[1]:g}"
    )
    theirs = [
        block("disparity"),
        block("spatial"),
        block("temporal"),
        block("depth"),
        block("holes"),
    ]
    viewer = F.parse_filter_spec("realsense")()
    assert [f.name for f in viewer] == [
        "decimation",
        "threshold",
        "disparity",
        "spatial",
        "temporal",
        "depth",
    ]
    for i, depth in enumerate(frames):
        frame = o.frame(depth)
        if i < 2:  # each filter alone, both domains
            for ours_in, theirs_in in both_domains(o, depth):
                same(F.Spatial()(ours_in), data(block("spatial").process(theirs_in)))
                same(F.HoleFilling()(ours_in), data(block("holes").process(theirs_in)))
            same(F.Decimation()(depth), data(block("decimation").process(frame)))
            same(F.Threshold()(depth), data(block("threshold").process(frame)))
        x = frame
        for b in theirs:
            x = b.process(x)
        same(ours(depth), data(x))


def test_spatial_delta_changed_mid_stream_takes_effect_unlike_librealsense(oracle: Oracle) -> None:
    """A listed difference: librealsense's spatial filter reads its delta only on the first
    frame of a stream (a later set_option is stored but unused); depthview's Spatial uses
    the delta it has at each call."""
    depth = SCENES["steps"]
    theirs = block("spatial", delta=50)
    theirs.process(oracle.frame(depth))
    theirs.set_option(_delta_option(), 3)
    rs_after = data(theirs.process(oracle.frame(depth)))
    ours = F.Spatial(delta=50)
    ours(depth)
    ours.delta = 3
    same(ours(depth), data(block("spatial", delta=3).process(oracle.frame(depth))))
    same(F.Spatial(delta=50)(depth), rs_after)  # librealsense still smooths with 50
    assert not np.array_equal(rs_after, F.Spatial(delta=3)(depth))


def _delta_option():  # type: ignore[no-untyped-def]
    import pyrealsense2 as rs

    return rs.option.filter_smooth_delta


def test_spatial_hole_fill_in_disparity_reads_nothing_below_the_frame(oracle: Oracle) -> None:
    """A listed difference: librealsense's disparity hole filling, going right to left,
    takes the last column's value from the next row's first pixel, and for the last row
    from memory past the frame. depthview does the first (it is in the frame) and leaves
    the bottom-right pixel alone. Everything else matches."""
    depth = SCENES["plane"].copy()
    depth[-1, -4:] = 0  # a hole the left-to-right pass cannot reach (radius 2)
    depth[10, -3:] = 0
    depth[11, 0] = 1234  # the value librealsense moves up a row and across the frame
    ours_in, theirs_in = both_domains(oracle, depth)[1]
    got = F.Spatial(holes_fill=1, magnitude=1, alpha=1.0)(ours_in)
    assert got[-1, -1] == 0
    theirs = data(block("spatial", holes_fill=1, magnitude=1, alpha=1.0).process(theirs_in))
    theirs[-1, -1] = 0
    same(got, theirs)
    assert got[10, -1] == ours_in[11, 0]


@pytest.mark.parametrize("magnitude", [2, 3])
def test_a_decimated_frame_keeps_its_size(
    real: tuple[Oracle, list[np.ndarray]], magnitude: int
) -> None:
    """On Frames (export, stream, the viewer) a decimated result is shown at the frame's
    size: each of librealsense's output pixels repeated, its padding cut off."""
    o, _ = real
    with dv.open("sample") as src:
        frame = src.read()
    got = F.filter_frame(frame, F.Chain([F.Decimation(magnitude)]))
    theirs = data(block("decimation", magnitude=magnitude).process(o.frame(dv.to_mm(frame.depth))))
    big = np.repeat(np.repeat(theirs, magnitude, axis=0), magnitude, axis=1)[:480, :640]
    assert got.depth.shape == (480, 640) and got.depth_format is dv.DepthFormat.MM
    np.testing.assert_array_equal(got.depth, big)
    assert got.meta["unfiltered"] is frame
    (record,) = [r for r in got.records if r.stream is dv.Stream.DEPTH]
    assert record.data is got.depth and record.format is dv.DepthFormat.MM
