"""The general stereo alignment against OpenCV, the independent oracle: rays against
``undistortPoints``, projections against ``projectPoints``, the colour image against
``cv2.undistort``; and both back ends (numba, numpy) against each other."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from depthview import stereo
from depthview.camera_models import Distortion, Intrinsics, StereoCalibration

H, W = 480, 640


def _calibration() -> StereoCalibration:
    rot = cv2.Rodrigues(np.array([0.004, -0.012, 0.003]))[0]
    return StereoCalibration(
        depth=Intrinsics(582.6, 582.7, 313.0, 238.4),
        colour=Intrinsics(518.9, 519.5, 325.6, 253.7),
        depth_distortion=Distortion(-0.0999, 0.3907, 0.00193, -0.00194, -0.5103),
        colour_distortion=Distortion(0.208, -0.586, 0.00072, 0.00105, 0.4986),
        rotation=tuple(tuple(r) for r in rot.tolist()),  # type: ignore[arg-type]
        translation=(0.025, 0.0007, -0.0003),
    )


def _k(i: Intrinsics) -> npt.NDArray[np.float64]:
    return np.array([[i.fx, 0, i.cx], [0, i.fy, i.cy], [0, 0, 1]], dtype=np.float64)


def _scene() -> npt.NDArray[np.float32]:
    """A room: a slanted back wall, a near box (edges that occlude), holes."""
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    z = 3.0 + 0.002 * u - 0.001 * v
    z[150:330, 200:380] = 1.2 + 0.0005 * u[150:330, 200:380]
    rng = np.random.default_rng(7)
    z[rng.random((H, W)) < 0.05] = np.nan
    z[:, 630:] = 0.0
    return z.astype(np.float32)


@pytest.fixture(params=["numba", "numpy"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "numpy":
        monkeypatch.setattr(stereo, "_KERNELS", None)
    else:
        assert stereo.backend() == "numba"
    return str(request.param)


def test_rays_are_opencvs_undistort_points() -> None:
    c = _calibration()
    rx, ry = stereo.depth_rays(c.depth, c.depth_distortion, W, H)
    v, u = np.mgrid[0:H, 0:W]
    pts = np.stack([u.ravel(), v.ravel()], axis=1).astype(np.float64)[::97]
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-14)
    want = cv2.undistortPoints(
        pts.reshape(-1, 1, 2),
        _k(c.depth),
        np.array(c.depth_distortion.as_tuple()),
        R=np.eye(3),
        P=np.eye(3),
        criteria=criteria,
    ).reshape(-1, 2)
    np.testing.assert_allclose(rx[::97], want[:, 0], atol=1e-7)
    np.testing.assert_allclose(ry[::97], want[:, 1], atol=1e-7)


def _opencv_align(z: npt.NDArray[np.float32], c: StereoCalibration) -> npt.NDArray[np.float32]:
    """The oracle: OpenCV's undistortPoints and projectPoints, and a z-buffer in a loop."""
    v, u = np.mgrid[0:H, 0:W]
    ok = np.isfinite(z) & (z > 0)
    pts = np.stack([u[ok], v[ok]], axis=1).astype(np.float64)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-14)
    norm = cv2.undistortPoints(
        pts.reshape(-1, 1, 2),
        _k(c.depth),
        np.array(c.depth_distortion.as_tuple()),
        R=np.eye(3),
        P=np.eye(3),
        criteria=criteria,
    ).reshape(-1, 2)
    zs = z[ok].astype(np.float64)
    p3 = np.stack([norm[:, 0] * zs, norm[:, 1] * zs, zs], axis=1)
    rvec = cv2.Rodrigues(c.rotation_matrix)[0]
    proj = cv2.projectPoints(p3, rvec, c.translation_vector, _k(c.colour), None)[0].reshape(-1, 2)
    zc = (p3 @ c.rotation_matrix.T + c.translation_vector)[:, 2]
    out = np.zeros((H, W), dtype=np.float32)
    best: dict[tuple[int, int], float] = {}
    for (x, y), d in zip(np.floor(proj + 0.5).astype(int).tolist(), zc.tolist(), strict=True):
        if 0 <= x < W and 0 <= y < H and d > 0 and d < best.get((y, x), np.inf):
            best[(y, x)] = d
    for (y, x), d in best.items():
        out[y, x] = d
    return out


def test_align_agrees_with_opencv(backend: str) -> None:
    c = _calibration()
    z = _scene()
    ours = stereo.align(z, c)
    want = _opencv_align(z, c)
    same = np.abs(ours - want) <= 1e-5
    assert same.mean() >= 0.999, f"{same.mean():.5f} of pixels agree"
    assert np.count_nonzero(ours) > 0.6 * H * W  # the colour camera sees a smaller field


def test_undistort_image_is_cv2_undistort(backend: str) -> None:
    c = _calibration()
    rng = np.random.default_rng(3)
    img = cv2.GaussianBlur(rng.integers(0, 256, (H, W, 3), dtype=np.uint8), (9, 9), 3)
    ours = stereo.undistort_image(img, c.colour, c.colour_distortion)
    want = cv2.undistort(img, _k(c.colour), np.array(c.colour_distortion.as_tuple()))
    inner = (slice(20, H - 20), slice(20, W - 20))
    diff = np.abs(ours[inner].astype(int) - want[inner].astype(int))
    assert diff.max() <= 2  # OpenCV interpolates in fixed point (1/32 pixel)
    assert diff.mean() < 0.5


@pytest.mark.parametrize(
    ("depth", "message"),
    [
        (np.zeros((10, 10), np.float32), "expected depth in metres of shape"),
        (np.zeros((H, W), np.uint16), "expected depth in metres \\(float\\)"),
    ],
)
def test_bad_input(depth: npt.NDArray[np.generic], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        stereo.align(depth, _calibration())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected calibration as a StereoCalibration"):
        stereo.align(np.zeros((H, W), np.float32), "nyu")  # type: ignore[arg-type]
