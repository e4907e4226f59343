"""Registration's geometry: a plane at a known distance, and points as libfreenect's
``freenect_camera_to_world`` places them.

The raw value for a distance comes from inverting libfreenect's zero-plane model in closed
form here (float64, independently of depthview's tables):
``mm/10 = m * R / (E - m) + R`` with ``m = ((raw - 4 * const_shift) / 4 - 0.375) * P``
(R reference distance, E emitter distance, P reference pixel size)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import depthview as dv
from _registration_cases import PARAMETER_SETS, video
from depthview.registration import Registration


def _model(layout: dict[str, Any]) -> tuple[float, float, float, float]:
    zp = layout["reg_info"]["zero_plane_info"]
    return (
        float(np.float32(zp["reference_distance"])),
        float(np.float32(zp["dcmos_emitter_distance"])),
        float(np.float32(zp["reference_pixel_size"])),
        float(layout["const_shift"]),
    )


def mm_of_raw(layout: dict[str, Any], raw: float) -> float:
    r, e, p, shift = _model(layout)
    m = ((raw - 4 * shift) / 4 - 0.375) * p
    return 10 * (m * r / (e - m) + r)


def raw_of_mm(layout: dict[str, Any], mm: float) -> float:
    r, e, p, shift = _model(layout)
    d = mm / 10
    m = e * (d - r) / d
    return 4 * (m / p + 0.375) + 4 * shift


@pytest.mark.parametrize("name", list(PARAMETER_SETS))
@pytest.mark.parametrize("distance_mm", [600, 1000, 2000, 3500, 5000])
def test_plane_lands_at_its_distance(name: str, distance_mm: int) -> None:
    layout = PARAMETER_SETS[name]
    reg = Registration.from_dict(layout)
    raw = round(raw_of_mm(layout, distance_mm))
    assert abs(mm_of_raw(layout, raw_of_mm(layout, distance_mm)) - distance_mm) < 1e-6
    step = mm_of_raw(layout, raw + 1) - mm_of_raw(layout, raw)  # one raw unit, in mm
    tolerance = step / 2 + 1  # nearest raw value, then libfreenect's truncation to whole mm
    plane = np.full((480, 640), raw, dtype=np.uint16)

    mm = dv.to_mm(plane, reg)
    assert np.all(np.abs(mm.astype(float) - distance_mm) <= tolerance)

    registered = dv.register(plane, reg)
    placed = registered[registered > 0]
    # Only the colour image's top rows and a side strip lie outside the depth camera's view.
    assert placed.size > 0.75 * plane.size
    assert np.all(placed == mm[0, 0])

    cloud = dv.point_cloud(plane, registration=reg, organized=True)
    z_mm = cloud.points[:, :, 2].astype(float) * 1000
    assert np.all(np.abs(z_mm - distance_mm) <= tolerance + 1e-3)
    # Fronto-parallel: every point at the same depth, spread by the pinhole model.
    f = layout["reg_info"]["zero_plane_info"]["reference_distance"] / (
        2 * layout["reg_info"]["zero_plane_info"]["reference_pixel_size"]
    )
    x_mm = cloud.points[:, :, 0].astype(float) * 1000
    expected_x = (np.arange(640) - 320)[None, :] * z_mm / f
    np.testing.assert_allclose(x_mm, expected_x, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("name", list(PARAMETER_SETS))
def test_points_follow_camera_to_world(name: str, freenect_oracle: Any) -> None:
    layout = PARAMETER_SETS[name]
    freenect_oracle.load(layout)
    reg = Registration.from_dict(layout)
    rng = np.random.default_rng(4)
    depth = rng.integers(400, 1000, size=(480, 640), dtype=np.uint16)
    cloud = dv.point_cloud(depth, registration=reg, organized=True)
    mm = freenect_oracle.depth_mm(depth)
    ys = [*range(0, 480, 37), 479]
    xs = [*range(0, 640, 41), 639]
    for y in ys:
        for x in xs:
            wx, wy = freenect_oracle.camera_to_world(x, y, int(mm[y, x]))
            point = cloud.points[y, x].astype(float) * 1000
            assert point[2] == pytest.approx(mm[y, x], rel=1e-6)
            assert point[0] == pytest.approx(wx, rel=1e-5, abs=1e-3)
            assert point[1] == pytest.approx(wy, rel=1e-5, abs=1e-3)


def test_depth_intrinsics_from_the_zero_plane() -> None:
    layout = PARAMETER_SETS["default"]
    zp = layout["reg_info"]["zero_plane_info"]
    k = Registration.from_dict(layout).depth_intrinsics()
    focal = float(np.float32(zp["reference_distance"])) / (
        2 * float(np.float32(zp["reference_pixel_size"]))
    )
    assert (k.fx, k.fy, k.cx, k.cy) == (focal, focal, 320.0, 240.0)
    assert 570 < focal < 580  # about 575.8 px, near the usual 580-595 calibrations


def test_point_colours_are_the_colour_pixels_they_fall_on() -> None:
    rng = np.random.default_rng(8)
    depth = rng.integers(450, 1000, size=(480, 640), dtype=np.uint16)
    depth[rng.random((480, 640)) < 0.1] = 2047
    rgb = video(2)
    reg = Registration.default()
    mapped = dv.map_rgb_to_depth(depth, rgb, reg)
    cloud = dv.point_cloud(depth, video=rgb, registration=reg)
    z = dv.to_mm(depth, reg)
    has_point = (z > 0) & (z < 10000)
    assert cloud.colors is not None
    np.testing.assert_array_equal(cloud.colors, mapped[has_point])
    assert len(cloud.points) == np.count_nonzero(has_point)
    organized = dv.point_cloud(depth, video=rgb, registration=reg, organized=True)
    np.testing.assert_array_equal(organized.colors, mapped)
    assert np.isnan(organized.points[~has_point]).all()
    # Without the registration the colours are the video's own pixels (taken as aligned),
    # which is not where the colour camera sees these points.
    plain = dv.point_cloud(depth, video=rgb)
    assert plain.colors is not None and not np.array_equal(plain.colors, cloud.colors)


def test_millimetre_and_registered_input() -> None:
    reg = Registration.default()
    depth = np.full((480, 640), 800, dtype=np.uint16)
    mm = dv.to_mm(depth, reg)
    from_raw = dv.point_cloud(depth, registration=reg).points
    from_mm = dv.point_cloud(mm, depth_format="mm", registration=reg).points
    np.testing.assert_array_equal(from_raw, from_mm)
    rgb = video(1)
    mapped = dv.point_cloud(mm, depth_format="mm", video=rgb, registration=reg).colors
    np.testing.assert_array_equal(mapped, dv.map_rgb_to_depth(depth, rgb, reg).reshape(-1, 3))
    # Registered depth is already in the colour image's pixels: its colours are the video's.
    aligned = dv.register(depth, reg)
    cloud = dv.point_cloud(aligned, depth_format="registered", video=rgb, registration=reg)
    np.testing.assert_array_equal(cloud.colors, rgb[aligned > 0])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"intrinsics": dv.KINECT_V1_DEPTH}, ValueError, "expected intrinsics or a registration"),
        ({"depth_format": "10bit"}, ValueError, "expected depth_format RAW_11BIT, MM or"),
    ],
)
def test_point_cloud_registration_arguments(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    depth = np.full((480, 640), 700, dtype=np.uint16)
    with pytest.raises(error, match=message):
        dv.point_cloud(depth, registration=Registration.default(), **kwargs)


def test_point_cloud_registration_needs_the_640x480_mode() -> None:
    with pytest.raises(ValueError, match=r"expected depth of shape \(480, 640\)"):
        dv.point_cloud(np.zeros((48, 64), np.uint16), registration=Registration.default())
