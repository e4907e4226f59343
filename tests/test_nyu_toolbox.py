"""``--calibration nyu`` against NYU's toolbox (``project_depth_map.m``), with no MATLAB here:
``_toolbox`` below is an independent, literal transcription of the toolbox's steps (MATLAB's
column-major order and 1-based indices, Bouguet's ``rect`` with its own index arithmetic,
``R = inv(R0')`` as the reflection it is, the translation as ``[t_x t_z t_y]``, a sort and
a loop for the z-buffer). depthview must agree within 1 mm on >= 99.5 % of pixels."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

import depthview as dv
from depthview import nyu_toolbox, stereo

H, W = 480, 640
# camera_params.m, typed again here from the issue rather than imported.
FC_RGB = (518.85790117450188, 519.46961112127485)
CC_RGB = (325.58244941119034, 253.73616633400465)
KC_RGB = (0.20796615318809061, -0.58613825163911781, 7.2231363135888329e-4,
          1.0479627195765181e-3, 0.49856986684705107)  # fmt: skip
FC_D = (582.62448167737955, 582.69103270988637)
CC_D = (313.04475870804731, 238.44389626620386)
KC_D = (-0.099897236553084481, 0.39065324602765344, 1.9290592870229277e-3,
        -1.9422022475975055e-3, -0.51031725053400578)  # fmt: skip
R0 = [0.99997798940829263, 5.0518419386157446e-3, 4.3011152014118693e-3,
      -5.0359919480810989e-3, 0.99998051861143999, -3.6879781309514218e-3,
      -4.3196624923060242e-3, 3.6662365748484798e-3, 0.99998394948385538]  # fmt: skip
T_X, T_Y, T_Z = 2.5031875059141302e-2, 6.6238747008330102e-4, -2.9342312935846411e-4


def _apply_distortion(x: npt.NDArray[np.float64], k: tuple[float, ...]) -> npt.NDArray[np.float64]:
    r2 = x[0] ** 2 + x[1] ** 2
    cdist = 1 + k[0] * r2 + k[1] * r2**2 + k[4] * r2**3
    a1 = 2 * x[0] * x[1]
    a2 = r2 + 2 * x[0] ** 2
    a3 = r2 + 2 * x[1] ** 2
    return np.stack([x[0] * cdist + k[2] * a1 + k[3] * a2, x[1] * cdist + k[2] * a3 + k[3] * a1])


def _rect(image: npt.NDArray[np.float64], fc: tuple[float, float], cc: tuple[float, float],
          kc: tuple[float, ...]) -> npt.NDArray[np.float64]:  # fmt: skip
    """Bouguet's rect.m with R = eye(3), KK_new = KK, alpha 0; I indexed column-major."""
    nr, nc = image.shape
    flat = image.ravel(order="F")
    irec = np.full(nr * nc, 255.0)
    mx, my = np.meshgrid(np.arange(1, nc + 1), np.arange(1, nr + 1))
    px = mx.T.ravel(order="F").astype(np.float64)  # reshape(mx', nc*nr, 1)
    py = my.T.ravel(order="F").astype(np.float64)
    kk = np.array([[fc[0], 0, cc[0]], [0, fc[1], cc[1]], [0, 0, 1]])
    rays = np.linalg.inv(kk) @ np.stack([px - 1, py - 1, np.ones_like(px)])
    x = np.stack([rays[0] / rays[2], rays[1] / rays[2]])
    xd = _apply_distortion(x, kc)
    px2 = fc[0] * xd[0] + cc[0]
    py2 = fc[1] * xd[1] + cc[1]
    px_0 = np.floor(px2)
    py_0 = np.floor(py2)
    good = (px_0 >= 0) & (px_0 <= nc - 2) & (py_0 >= 0) & (py_0 <= nr - 2)
    px2, py2, px_0, py_0 = px2[good], py2[good], px_0[good], py_0[good]
    ax = px2 - px_0
    ay = py2 - py_0
    a1, a2, a3, a4 = (1 - ay) * (1 - ax), (1 - ay) * ax, ay * (1 - ax), ay * ax
    ind_lu = (px_0 * nr + py_0 + 1).astype(int)
    ind_ru = ((px_0 + 1) * nr + py_0 + 1).astype(int)
    ind_ld = (px_0 * nr + (py_0 + 1) + 1).astype(int)
    ind_rd = ((px_0 + 1) * nr + (py_0 + 1) + 1).astype(int)
    ind_new = ((px[good] - 1) * nr + py[good]).astype(int)
    irec[ind_new - 1] = (
        a1 * flat[ind_lu - 1]
        + a2 * flat[ind_ru - 1]
        + a3 * flat[ind_ld - 1]
        + a4 * flat[ind_rd - 1]
    )
    return irec.reshape((nr, nc), order="F")


def _matlab_round(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _toolbox(raw: npt.NDArray[np.uint16], rgb: npt.NDArray[np.uint8]
             ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint8]]:  # fmt: skip
    rgb_und = np.stack([_rect(rgb[:, :, i].astype(float), FC_RGB, CC_RGB, KC_RGB)
                        for i in range(3)], axis=2)  # fmt: skip
    rgb_und = np.clip(_matlab_round(rgb_und), 0, 255).astype(np.uint8)
    img = raw.astype(np.float64)
    noise = 255.0 * (img == img.max())
    noise = _rect(noise, FC_D, CC_D, KC_D) > 0
    img = _rect(img, FC_D, CC_D, KC_D)
    img[img < 600] = 2047
    img[noise] = 2047
    with np.errstate(divide="ignore"):
        depth2 = 351.3 / (1092.5 - img)
    depth2[depth2 > 10] = 10
    depth2[depth2 < 0] = 0
    xx, yy = np.meshgrid(np.arange(1, W + 1), np.arange(1, H + 1))
    x3 = (xx - CC_D[0]) * depth2 / FC_D[0]
    y3 = (yy - CC_D[1]) * depth2 / FC_D[1]
    points = np.stack([x3.ravel(order="F"), y3.ravel(order="F"), depth2.ravel(order="F")])
    r = np.linalg.inv((-np.array(R0).reshape(3, 3, order="F")).T)
    moved = r @ points + np.array([[T_X], [T_Z], [T_Y]])
    with np.errstate(divide="ignore", invalid="ignore"):
        x_proj = moved[0] * FC_RGB[0] / moved[2] + CC_RGB[0]
        y_proj = moved[1] * FC_RGB[1] / moved[2] + CC_RGB[1]
    x_proj = _matlab_round(x_proj)
    y_proj = _matlab_round(y_proj)
    good = np.flatnonzero((x_proj > 0) & (x_proj < W) & (y_proj > 0) & (y_proj < H))
    d = depth2.ravel(order="F")
    order = np.argsort(-d[good], kind="stable")
    out = np.zeros((H, W))
    # The toolbox's loop: out(y, x) = depth, farthest first, so the nearest is written last.
    ys = y_proj[good][order].astype(int) - 1
    xs = x_proj[good][order].astype(int) - 1
    vals = d[good][order]
    key = ys * W + xs
    _, last = np.unique(key[::-1], return_index=True)  # the last write to each pixel
    keep = len(key) - 1 - last
    out.ravel()[key[keep]] = vals[keep]
    out[out > 10] = 10
    out[np.isnan(out)] = 0
    return out, rgb_und


def _nyu_like_frame(seed: int) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.uint8]]:
    """Raw disparity of a room (wall, floor, a near box, holes of 2047) and a textured image."""
    rng = np.random.default_rng(seed)
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    metres = 3.5 - 0.002 * u + 0.001 * v
    metres[300:, :] = np.minimum(metres[300:, :], 1.5 + 300.0 / (v[300:, :] - 250.0))
    metres[120:300, 220:420] = 1.1 + 0.0008 * u[120:300, 220:420]
    raw = np.rint(1092.5 - 351.3 / metres + rng.normal(0, 0.4, (H, W))).astype(np.uint16)
    raw[rng.random((H, W)) < 0.03] = 2047
    raw[:, 632:] = 2047
    rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    return raw, rgb


@pytest.fixture(params=["numba", "numpy"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "numpy":
        monkeypatch.setattr(stereo, "_KERNELS", None)
    return str(request.param)


def test_project_depth_map_is_the_toolboxs(backend: str) -> None:
    raw, rgb = _nyu_like_frame(1)
    ours, colour = nyu_toolbox.project_depth_map(raw, rgb)
    want, want_rgb = _toolbox(raw, rgb)
    close = np.abs(ours - want) <= 0.001
    assert close.mean() >= 0.995, f"only {close.mean():.4%} within 1 mm"
    assert np.count_nonzero(want) > 0.5 * H * W  # the comparison is not of empty frames
    assert colour is not None
    assert np.abs(colour.astype(int) - want_rgb.astype(int)).max() <= 1
    assert (colour == want_rgb).mean() > 0.999


def test_a_real_kinect_frame_from_the_sample() -> None:
    """The shipped recording's raw frames, as NYU's raw dumps hold them."""
    with dv.open("sample") as src:
        frame = src.frame_at(5) if hasattr(src, "frame_at") else next(iter(src))
        raw = frame.depth
    rgb = np.zeros((H, W, 3), np.uint8)
    ours, _ = nyu_toolbox.project_depth_map(raw, rgb)
    want, _ = _toolbox(raw, rgb)
    close = np.abs(ours - want) <= 0.001
    assert close.mean() >= 0.995
    assert np.count_nonzero(want) > 0.2 * H * W


def test_nyu_is_a_depth_format() -> None:
    raw = np.array([[700, 900, 1000, 2047]], dtype=np.uint16)
    np.testing.assert_allclose(
        dv.to_metres(raw, "nyu")[0, :3], 351.3 / (1092.5 - raw[0, :3].astype(float)), rtol=1e-6
    )
    assert np.isnan(dv.to_metres(raw, "nyu")[0, 3])
    assert dv.DepthFormat.parse("nyu") is dv.DepthFormat.RAW_11BIT_NYU


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="expected raw disparity as \\(480, 640\\)"):
        nyu_toolbox.project_depth_map(np.zeros((10, 10), np.uint16), None)
    with pytest.raises(ValueError, match="expected rgb as \\(480, 640, 3\\) uint8"):
        nyu_toolbox.project_depth_map(np.zeros((H, W), np.uint16), np.zeros((H, W), np.uint8))
