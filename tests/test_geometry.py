"""Point clouds against an independent float64 unprojection written out here."""

from __future__ import annotations

import io

import numpy as np
import pytest
from plyfile import PlyData

import depthview as dv
from _helpers_kinect_mm import metres as kinect_metres
from depthview.geometry import KINECT_V1_DEPTH, Intrinsics, ply_bytes, point_cloud


def _metres(raw: int) -> float:
    """libfreenect's distance of a raw value (its formula, written out in the helper)."""
    return float(kinect_metres(raw))


def _expected(depth: np.ndarray, fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    rows = []
    for v in range(depth.shape[0]):
        for u in range(depth.shape[1]):
            raw = int(depth[v, u])
            if not np.isfinite(_metres(raw)):
                continue  # no reading, or past libfreenect's 10 m ceiling
            z = _metres(raw)
            rows.append(((u - cx) / fx * z, (v - cy) / fy * z, z))
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


def test_points_match_independent_formula() -> None:
    rng = np.random.default_rng(1)
    depth = rng.integers(300, 1100, size=(12, 16)).astype(np.uint16)
    depth[rng.random(depth.shape) < 0.2] = 2047
    got = point_cloud(depth, intrinsics=Intrinsics())  # default: scaled to 16x12 (below)
    want = _expected(depth, 594.21, 591.04, 339.5, 242.7)
    assert got.points.dtype == np.float32
    assert got.points.shape == want.shape
    np.testing.assert_allclose(got.points, want, rtol=2e-6, atol=1e-6)
    assert got.colors is None
    scaled = point_cloud(depth)  # without intrinsics: the Kinect's, for a 16x12 image
    want = _expected(depth, 594.21 / 40, 591.04 / 40, 339.5 / 40, 242.7 / 40)
    np.testing.assert_allclose(scaled.points, want, rtol=2e-6, atol=1e-6)


def test_custom_intrinsics_and_mm() -> None:
    depth = np.array([[1000, 0], [2000, 500]], dtype=np.uint16)
    k = Intrinsics(fx=100.0, fy=200.0, cx=0.5, cy=0.25)
    got = point_cloud(depth, depth_format="mm", intrinsics=k).points
    want = np.array(
        [
            [(0 - 0.5) / 100 * 1.0, (0 - 0.25) / 200 * 1.0, 1.0],
            [(0 - 0.5) / 100 * 2.0, (1 - 0.25) / 200 * 2.0, 2.0],
            [(1 - 0.5) / 100 * 0.5, (1 - 0.25) / 200 * 0.5, 0.5],
        ]
    )
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_organized_keeps_grid_with_nan_holes_and_colours() -> None:
    depth = np.full((480, 640), 2047, dtype=np.uint16)
    depth[100, 200] = 700
    video = np.zeros((480, 640, 3), dtype=np.uint8)
    video[100, 200] = (9, 8, 7)
    cloud = point_cloud(depth, video=video, organized=True)
    assert cloud.points.shape == (480, 640, 3)
    assert np.isnan(cloud.points[0, 0]).all()
    z = _metres(700)
    np.testing.assert_allclose(
        cloud.points[100, 200],
        [(200 - 339.5) / 594.21 * z, (100 - 242.7) / 591.04 * z, z],
        rtol=1e-6,
    )
    flat = point_cloud(depth, video=video)
    assert flat.points.shape == (1, 3)
    assert flat.colors is not None and flat.colors.tolist() == [[9, 8, 7]]


def test_ir_video_becomes_grey() -> None:
    depth = np.full((2, 2), 600, dtype=np.uint16)
    ir = np.array([[0, 10], [20, 255]], dtype=np.uint8)
    cloud = point_cloud(depth, video=ir)
    assert cloud.colors is not None
    assert cloud.colors.tolist() == [[0, 0, 0], [10, 10, 10], [20, 20, 20], [255, 255, 255]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"depth": np.zeros((4, 4), np.float32)}, "expected depth of dtype uint16"),
        ({"depth": np.zeros((4, 4, 1), np.uint16)}, "expected depth of shape"),
        ({"video": np.zeros((3, 4, 3), np.uint8)}, "expected video of shape"),
        ({"video": np.zeros((4, 4, 3), np.float32)}, "expected RGB video of dtype uint8"),
    ],
)
def test_shape_contracts(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"depth": np.zeros((4, 4), np.uint16)} | kwargs
    depth = args.pop("depth")
    with pytest.raises(ValueError, match=message):
        point_cloud(depth, **args)  # type: ignore[arg-type]


def test_bad_intrinsics() -> None:
    with pytest.raises(ValueError, match="expected fx > 0"):
        Intrinsics(fx=0.0)
    # Trial D (issue 22): fx = fy = 1e308 was taken, and every point of a PLY had x = y = 0
    for bad, what in (
        ({"fx": 1e308}, "fx > 0 and <= 100000 pixels"),
        ({"fy": 100_001.0}, "fy > 0 and <= 100000 pixels"),
        ({"cx": 1e9}, "a finite cx within 100000 pixels"),
        ({"cy": -1e6}, "a finite cy within 100000 pixels"),
    ):
        with pytest.raises(ValueError, match=what):
            Intrinsics(**bad)
    Intrinsics(fx=100_000.0, fy=1e-3, cx=-100_000.0, cy=0.0)  # the edges are cameras


def test_grid_is_cached() -> None:
    from depthview.geometry import unprojection_grid

    a = unprojection_grid(480, 640, KINECT_V1_DEPTH)
    b = unprojection_grid(480, 640, Intrinsics())
    assert a[0] is b[0]


def test_ply_bytes_read_by_plyfile() -> None:
    rng = np.random.default_rng(2)
    depth = rng.integers(400, 1000, size=(6, 7)).astype(np.uint16)
    video = rng.integers(0, 256, size=(6, 7, 3)).astype(np.uint8)
    cloud = point_cloud(depth, video=video)
    ply = PlyData.read(io.BytesIO(ply_bytes(cloud.points, cloud.colors)))
    vertex = ply["vertex"]
    assert ply.text is False and ply.byte_order == "<"
    assert vertex.count == 42
    np.testing.assert_array_equal(vertex["x"], cloud.points[:, 0])
    np.testing.assert_array_equal(vertex["blue"], video.reshape(-1, 3)[:, 2])
    organised = point_cloud(depth, organized=True)
    assert PlyData.read(io.BytesIO(ply_bytes(organised.points)))["vertex"].count == 42


def test_public_names() -> None:
    assert dv.point_cloud is point_cloud
    assert Intrinsics() == dv.KINECT_V1_DEPTH
