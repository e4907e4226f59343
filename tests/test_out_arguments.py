"""The library's ``out=`` and ``depth_format`` arguments (trial AJ D1-D3): a read-only
``out``, an ``out`` sharing memory with an input, and a format of a wrong type are each
one ValueError naming the argument, never a compiler error or a silently wrong result."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import depthview as dv
from _helpers_kinect_mm import mm_table
from depthview.camera_models import StereoCalibration
from depthview.nyu_toolbox import project_depth_map, undistort_colour
from depthview.stereo import align, undistort_image

H, W = 480, 640


@pytest.fixture(scope="module")
def depth() -> np.ndarray:
    return next(iter(dv.open("sample"))).depth


def read_only(shape: tuple[int, ...], dtype: type[np.generic]) -> np.ndarray:
    out = np.zeros(shape, dtype)
    out.flags.writeable = False
    return out


@pytest.mark.parametrize(
    ("call", "shape", "dtype"),
    [
        (lambda d, o: dv.colorize(d, out=o), (H, W, 3), np.uint8),
        (lambda d, o: dv.colorize(d, "turbo", near=0.5, far=4.0, out=o), (H, W, 3), np.uint8),
        (lambda d, o: dv.colorize_packed(d, out=o), (H, W), np.uint32),
        (lambda d, o: dv.to_mm(d, out=o), (H, W), np.uint16),
        (lambda d, o: dv.to_mm(dv.to_mm(d), depth_format="mm", out=o), (H, W), np.uint16),
        (lambda d, o: dv.register(d, out=o), (H, W), np.uint16),
        (lambda d, o: dv.to_metres(d, out=o), (H, W), np.float32),
        (
            lambda d, o: dv.map_rgb_to_depth(d, np.zeros((H, W, 3), np.uint8), out=o),
            (H, W, 3),
            np.uint8,
        ),
        (
            lambda d, o: align(dv.to_metres(d), StereoCalibration.nyu(), out=o),
            (H, W),
            np.float32,
        ),
        (lambda d, o: project_depth_map(d, None, out=o), (H, W), np.float32),
        (
            lambda d, o: undistort_colour(
                np.zeros((H, W, 3), np.uint8), StereoCalibration.nyu(), o
            ),
            (H, W, 3),
            np.uint8,
        ),
        (
            lambda d, o: undistort_image(
                np.zeros((H, W, 3), np.uint8),
                StereoCalibration.nyu().colour,
                StereoCalibration.nyu().colour_distortion,
                out=o,
            ),
            (H, W, 3),
            np.uint8,
        ),
    ],
)
def test_a_read_only_out_is_one_value_error(
    depth: np.ndarray,
    call: Callable[[np.ndarray, np.ndarray], object],
    shape: tuple[int, ...],
    dtype: type[np.generic],
) -> None:
    out = read_only(shape, dtype)
    with pytest.raises(ValueError, match=r"^expected out to be writable, got a read-only array$"):
        call(depth, out)
    assert not out.any()


def test_register_refuses_out_sharing_memory_with_depth(depth: np.ndarray) -> None:
    same = depth.copy()
    with pytest.raises(ValueError, match=r"out .*sharing memory with depth"):
        dv.register(same, out=same)
    assert np.array_equal(same, depth)  # nothing written
    big = np.zeros(H * W + W, np.uint16)
    big[W:] = depth.ravel()
    with pytest.raises(ValueError, match=r"out .*sharing memory with depth"):
        dv.register(big[W:].reshape(H, W), out=big[:-W].reshape(H, W))


def test_map_rgb_to_depth_refuses_out_sharing_memory_with_video_or_depth(
    depth: np.ndarray,
) -> None:
    video = np.random.default_rng(0).integers(0, 255, (H, W, 3), dtype=np.uint8)
    kept = video.copy()
    with pytest.raises(ValueError, match=r"out .*sharing memory with video"):
        dv.map_rgb_to_depth(depth, video, out=video)
    assert np.array_equal(video, kept)
    both = np.zeros(H * W * 3, np.uint8)
    shared_depth = both[: H * W * 2].view(np.uint16).reshape(H, W)
    shared_depth[...] = depth
    with pytest.raises(ValueError, match=r"out .*sharing memory with depth"):
        dv.map_rgb_to_depth(shared_depth, video, out=both.reshape(H, W, 3))


def test_colorize_refuses_out_sharing_memory_with_depth(depth: np.ndarray) -> None:
    buffer = np.zeros(H * W * 4, np.uint8)
    shared = buffer[: H * W * 2].view(np.uint16).reshape(H, W)
    shared[...] = depth
    with pytest.raises(ValueError, match=r"out .*sharing memory with depth"):
        dv.colorize(shared, out=buffer[: H * W * 3].reshape(H, W, 3))
    with pytest.raises(ValueError, match=r"out .*sharing memory with depth"):
        dv.colorize_packed(shared, out=buffer.view(np.uint32).reshape(H, W))


def test_to_mm_in_place_is_the_plain_result_and_an_overlap_is_refused(
    depth: np.ndarray,
) -> None:
    """In place, every pixel is read before it is written: the result is libfreenect's
    millimetres (written out in ``_helpers_kinect_mm``) pixel by pixel."""
    same = depth.copy()
    result = dv.to_mm(same, out=same)
    assert result is same
    assert np.array_equal(same, np.minimum(mm_table()[depth], 10000))
    big = np.zeros(H * W + 1, np.uint16)
    big[:-1] = depth.ravel()
    with pytest.raises(ValueError, match=r"out .*sharing memory with depth"):
        dv.to_mm(big[:-1].reshape(H, W), out=big[1:].reshape(H, W))


def test_to_metres_into_memory_shared_with_depth_is_right(depth: np.ndarray) -> None:
    """numpy's take reads the values first, so the float32 result may overlay the depth."""
    buffer = np.zeros(H * W * 4, np.uint8)
    shared = buffer[: H * W * 2].view(np.uint16).reshape(H, W)
    shared[...] = depth
    out = buffer.view(np.float32).reshape(H, W)
    dv.to_metres(shared, out=out)
    assert np.array_equal(out, dv.to_metres(depth), equal_nan=True)


@pytest.mark.parametrize("value", [2.0, True, False, 999, -1, 1.0, None, [5], b"mm"])
def test_a_depth_format_of_a_wrong_type_or_number_is_one_value_error(
    depth: np.ndarray, value: object
) -> None:
    shown = repr(value)
    pattern = r"^expected a depth format \(10bit, 11bit, mm, .*\), got " + shown.replace(
        "[", r"\["
    ).replace("]", r"\]")
    calls: list[Callable[[], object]] = [
        lambda: dv.DepthFormat.parse(value),  # type: ignore[arg-type]
        lambda: dv.from_metres([1.0], value),  # type: ignore[arg-type]
    ]
    if value is not None:  # None is "raw 11-bit, checked" where a frame is given
        calls += [
            lambda: dv.to_metres(depth, value),  # type: ignore[arg-type]
            lambda: dv.colorize(depth, depth_format=value),  # type: ignore[arg-type]
            lambda: dv.to_mm(depth, depth_format=value),  # type: ignore[arg-type]
        ]
    for call in calls:
        with pytest.raises(ValueError, match=pattern):
            call()


def test_a_depth_format_number_or_name_is_still_taken() -> None:
    assert dv.DepthFormat.parse(5) is dv.DepthFormat.MM
    assert dv.DepthFormat.parse(np.uint8(1)) is dv.DepthFormat.RAW_10BIT
    assert dv.DepthFormat.parse(" Raw-11bit ") is dv.DepthFormat.RAW_11BIT
