"""The 3D view in a real X window under Xvfb, with OpenGL from Mesa's llvmpipe: the panel
read back from the window against an independent numpy projection of the same points,
mouse drags against the pose they should give, and the measuring tool against distances
worked out by hand. Every window test runs twice: points drawn by the GPU's compute passes
and by the CPU's splat (``DEPTHVIEW_POINTS``). Fails (not skips) without Xvfb or a usable
OpenGL: CI installs both."""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pygame
import pytest

import depthview as dv
from _helpers_cli import headless
from _helpers_viewer import click, press
from _helpers_xcapture import capture
from _helpers_xvfb import start_xvfb
from depthview.frame import DepthFormat, Frame
from depthview.sources.base import Source
from depthview.viewer import Layout, Viewer, ViewerOptions
from depthview.viewer.view3d import BACKGROUND, CloudView

pytestmark = pytest.mark.xvfb
xvfb = pytest.fixture(start_xvfb)

# The Kinect v1 depth camera's pinhole, written out here rather than taken from depthview.
FX, FY, CX, CY = 594.21, 591.04, 339.5, 242.7
NEAR, FAR = 0.5, 4.5


class StillSource(Source):
    """One millimetre depth frame, over and over (about 100 frames/s), no video."""

    name = "still"

    def __init__(self, depth_mm: np.ndarray) -> None:
        self.depth = depth_mm.astype(np.uint16)
        self.closed = threading.Event()
        self.has_video = False
        self.i = 0

    def read(self) -> Frame:
        if self.closed.wait(0.01):
            raise StopIteration
        self.i += 1
        return Frame(depth=self.depth, depth_format=DepthFormat.MM, index=self.i, timestamp=0.0)

    def close(self) -> None:
        self.closed.set()


@pytest.fixture(params=["cpu", "gpu"])
def window(
    xvfb: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """Opens viewers in a real X window, their points drawn by the CPU or the GPU; closes
    them after the test."""
    monkeypatch.setenv("DISPLAY", xvfb)
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    monkeypatch.setenv("DEPTHVIEW_POINTS", request.param)
    made: list[Viewer] = []

    def factory(depth_mm: np.ndarray, layout: Layout = Layout.CLOUD, **kw: Any) -> Viewer:
        opts = ViewerOptions(
            palette="turbo",
            near=NEAR,
            far=FAR,
            layout=layout,
            hud=False,
            snapshot_dir=tmp_path,
            **kw,
        )
        v = Viewer(StillSource(depth_mm), opts)
        made.append(v)
        for _ in range(400):
            v.step()
            if v.frame is not None:
                break
            time.sleep(0.005)
        assert v.frame is not None
        cloud = v.renderer.ensure_cloud()
        assert cloud.ok, cloud.error
        assert cloud.points == request.param
        return v

    yield factory
    for v in made:
        if pygame.display.get_init():
            v.close()


def redraw(v: Viewer) -> np.ndarray:
    """Draw now, show it, and read the window back from the X server as (H, W, 3) RGB
    (checked equal to the viewer's own picture of it)."""
    v.draw()
    v.presenter.show()
    mine = pygame.surfarray.array3d(v.display).transpose(1, 0, 2)
    shown = capture(pygame.display.get_wm_info()["window"])
    assert np.array_equal(shown, mine), "the screen is not what the viewer drew"
    return shown


def pose_axes(yaw: float, pitch: float) -> np.ndarray:
    """Columns: the eye's right, down and forward, turned by yaw about y then pitch about x."""
    y, p = math.radians(yaw), math.radians(pitch)
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    return ry @ rx


def expected_panel(
    depth_mm: np.ndarray,
    yaw: float,
    pitch: float,
    distance: float,
    pivot: tuple[float, ...],
    point_size: float = 1.0,
) -> np.ndarray:
    """The 3D panel worked out in numpy: unproject every valid pixel, look at it from the
    pose, splat it as a square as wide as its depth pixel's footprint seen from the eye
    (a rectangle: ``point_size`` times the x and y reach of the offsets to its right and
    lower neighbours on the same surface, within 2 % in depth, at most four times and, without
    both neighbours, at least once FX * z / (FX * z_eye) pixels; rounded up, at most 8),
    keep the nearest point per
    pixel, colour it as the depth panel would."""
    h, w = depth_mm.shape
    zz = depth_mm / 1000.0
    vv, uu = np.mgrid[0:h, 0:w]
    grid = np.stack([(uu - CX) / FX * zz, (vv - CY) / FY * zz, zz], axis=2)
    axes = pose_axes(yaw, pitch)
    eye = np.asarray(pivot) - distance * axes[:, 2]
    eyed = (grid - eye) @ axes  # every pixel along right, down, forward
    with np.errstate(divide="ignore", invalid="ignore"):
        screen = np.stack([FX * eyed[..., 0] / eyed[..., 2], FY * eyed[..., 1] / eyed[..., 2]], 2)
    valid = depth_mm > 0
    ahead_grid = valid & (eyed[..., 2] > 0.02)
    extent = np.zeros((h, w, 2))
    found = np.zeros((h, w), int)
    for dv_, du in ((0, 1), (1, 0)):
        here = (slice(0, h - dv_), slice(0, w - du))
        there = (slice(dv_, h), slice(du, w))
        same = ahead_grid[there] & valid[here] & (abs(zz[there] - zz[here]) <= 0.02 * zz[here])
        offset = np.abs(screen[there] - screen[here])
        extent[here] += np.where(same[..., None], offset, 0.0)
        found[here] += same
    with np.errstate(divide="ignore", invalid="ignore"):
        footprint = (zz / eyed[..., 2])[..., None]
    extent = np.minimum(extent, 4.0 * footprint)  # at most four footprints each way
    span_grid = point_size * np.where(
        (found == 2)[..., None], extent, np.maximum(extent, footprint)
    )
    v, u = np.nonzero(valid)
    cam = eyed[v, u]
    ahead = cam[:, 2] > 0.02
    px = np.floor(FX * cam[:, 0] / cam[:, 2] + CX + 0.5).astype(int)
    py = np.floor(FY * cam[:, 1] / cam[:, 2] + CY + 0.5).astype(int)
    span = span_grid[v, u]
    size = np.clip(np.ceil(np.where(ahead[:, None], span, 1.0) - 0.001), 1, 8).astype(int)
    sx, sy = size[:, 0], size[:, 1]
    colours = dv.colorize(
        depth_mm.astype(np.uint16), "turbo", near=NEAR, far=FAR, depth_format="mm"
    )
    targets, depths, sources = [], [], []
    for dy in range(int(sy.max())):
        for dx in range(int(sx.max())):
            x = px - (sx - 1) // 2 + dx
            y = py - (sy - 1) // 2 + dy
            ok = ahead & (dx < sx) & (dy < sy) & (x >= 0) & (x < w) & (y >= 0) & (y < h)
            targets.append(y[ok] * w + x[ok])
            depths.append(cam[ok, 2])
            sources.append(np.flatnonzero(ok))
    target, zs, source = (np.concatenate(a) for a in (targets, depths, sources))
    order = np.lexsort((zs, target))  # by pixel, nearest first
    first = np.ones(len(order), bool)
    first[1:] = target[order][1:] != target[order][:-1]
    keep = order[first]
    image = np.empty((h * w, 3), np.uint8)
    image[:] = BACKGROUND
    image[target[keep]] = colours[v[source[keep]], u[source[keep]]]
    return image.reshape(h, w, 3)


def agreement(shown: np.ndarray, expected: np.ndarray) -> float:
    """Share of the pixels drawn in either picture that are the same in both."""
    drawn = (shown != BACKGROUND).any(axis=2) | (expected != BACKGROUND).any(axis=2)
    assert drawn.sum() > 20_000  # a real picture, not an empty panel agreeing with itself
    same = (shown == expected).all(axis=2) & drawn
    return float(same.sum() / drawn.sum())


def plane(metres: float) -> np.ndarray:
    depth = np.full((480, 640), round(metres * 1000), np.uint16)
    depth[:, :40] = 0  # no reading down the left: left out of the cloud
    return depth


def box() -> np.ndarray:
    """A wall at 2.6 m with a box whose front face is at 1.3 m and whose sides recede."""
    depth = np.full((480, 640), 2600, np.uint16)
    yy, xx = np.mgrid[0:480, 0:640]
    front = (abs(xx - 320) < 110) & (abs(yy - 240) < 90)
    depth[front] = 1300 + ((xx[front] - 320) * 2).astype(np.uint16)
    depth[yy > 440] = 0
    return depth


def test_a_plane_at_a_known_distance_from_a_known_pose(window: Any) -> None:
    depth = plane(1.5)
    v = window(depth)
    cam = v.state.camera
    cam.guides = False
    cam.point_size = 1
    shown = redraw(v)
    assert agreement(shown, expected_panel(depth, 0, 0, cam.distance, cam.pivot)) >= 0.99
    cam.yaw, cam.pitch, cam.distance = 25.0, -15.0, 1.2
    shown = redraw(v)
    expected = expected_panel(depth, 25.0, -15.0, 1.2, cam.pivot)
    assert agreement(shown, expected) >= 0.99
    # No reading, no point: the left band of the depth frame is not in the reset view.
    cam.yaw, cam.pitch, cam.distance = 0.0, 0.0, 2.0
    assert (redraw(v)[:, :35] == BACKGROUND).all()


def test_a_box_from_a_known_pose(window: Any) -> None:
    depth = box()
    v = window(depth)
    cam = v.state.camera
    cam.guides, cam.point_size = False, 1
    cam.yaw, cam.pitch, cam.distance, cam.pivot = -30.0, 20.0, 2.4, (0.0, 0.0, 1.8)
    expected = expected_panel(depth, -30.0, 20.0, 2.4, (0.0, 0.0, 1.8))
    assert agreement(redraw(v), expected) >= 0.99


def post_drag(v: Viewer, start: tuple[int, int], move: tuple[int, int], button: int) -> None:
    buttons = (1, 0, 0) if button == 1 else (0, 0, 1)
    end = (start[0] + move[0], start[1] + move[1])
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=start, button=button))
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=end, rel=move, buttons=buttons))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=end, button=button))
    v.step()


def test_mouse_drags_orbit_pan_and_zoom_as_documented(window: Any) -> None:
    depth = box()
    v = window(depth)
    cam = v.state.camera
    cam.guides, cam.point_size = False, 1
    # The view orbits about the scene: the median depth of its points, on the Kinect's axis.
    sampled = depth[::4, ::4]
    centre = float(np.median(sampled[sampled > 0])) / 1000.0
    assert cam.pivot == pytest.approx((0.0, 0.0, centre)) and cam.distance == pytest.approx(centre)
    post_drag(v, (320, 240), (40, -20), 1)  # left drag: orbit, 0.3 degrees per pixel
    assert (cam.yaw, cam.pitch) == pytest.approx((-12.0, -6.0))
    start = (0.0, 0.0, centre)
    assert agreement(redraw(v), expected_panel(depth, -12.0, -6.0, centre, start, 1)) >= 0.99
    post_drag(v, (320, 240), (30, 10), 3)  # right drag: pan at the pivot's distance
    axes = pose_axes(-12.0, -6.0)
    pivot = np.array(start) - centre / FX * (30 * axes[:, 0] + 10 * axes[:, 1])
    assert np.allclose(cam.pivot, pivot)
    pygame.event.post(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=2))
    v.step()
    assert cam.distance == pytest.approx(centre * 0.81)
    expected = expected_panel(depth, -12.0, -6.0, centre * 0.81, tuple(pivot))
    assert agreement(redraw(v), expected) >= 0.99
    v.state.camera.yaw = 50.0
    press(v, "z")  # reset: the Kinect's own view, centred on the scene again
    redraw(v)
    assert v.state.camera.yaw == 0.0
    assert v.state.camera.distance == pytest.approx(centre)


@pytest.mark.parametrize("layout", [Layout.DEPTH, Layout.CLOUD])
def test_measuring_a_known_distance(window: Any, layout: Layout) -> None:
    depth = plane(2.0)
    v = window(depth, layout=layout)
    press(v, "d")
    assert v.state.measuring
    click(v, (100, 240))
    click(v, (500, 240))
    # Both points at 2 m, 400 pixels apart: (500 - 100) / fx * 2 m.
    expected = 400 / FX * 2.0
    assert v.state.distance() == pytest.approx(expected, abs=0.01)
    text = [t for t, _ in v.overlays.hud_lines(v.state, v.info())]
    assert f"distance {v.state.distance():.3f} m" in text
    click(v, (300, 100))  # a third click starts a new measurement
    assert len(v.state.measure) == 1 and v.state.distance() is None


def test_without_moderngl_the_cpu_draws_and_without_numba_too_the_panel_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "moderngl", None)  # as if the 3d extra were missing
    view = CloudView.open()
    assert view.ok and view.points == "cpu", view.error
    monkeypatch.setenv("DEPTHVIEW_POINTS", "gpu")
    assert "pip install 'depthview[3d]'" in (CloudView.open().error or "")
    monkeypatch.setenv("DEPTHVIEW_POINTS", "auto")
    monkeypatch.setenv("DEPTHVIEW_NO_NUMBA", "1")  # numba missing as well: nothing can draw
    view = CloudView.open()
    assert not view.ok and "pip install 'depthview[3d]'" in (view.error or "")


@pytest.mark.parametrize("points", ["auto", "gpu"])
def test_without_opengl_the_cpu_draws_the_3d_panel_or_it_says_why_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, points: str
) -> None:
    """A real GL failure (GLX with no X display; SDL's dummy driver draws the window):
    chosen automatically, the CPU draws the points; forced onto the GPU, the 3D panel says
    why it cannot, and the 2D panels draw as ever either way."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("DEPTHVIEW_GL", "x11")
    monkeypatch.setenv("DEPTHVIEW_POINTS", points)
    opts = ViewerOptions(
        palette="turbo", near=NEAR, far=FAR, layout=Layout.CLOUD, snapshot_dir=tmp_path
    )
    v = Viewer(StillSource(plane(1.0)), opts)
    try:
        for _ in range(400):
            v.step()
            if v.frame is not None:
                break
            time.sleep(0.005)
        v.step()
        names = [p.name for p in v.placed]
        assert "hud" in names
        if points == "gpu":
            assert "no-3d" in names
            assert "OpenGL" in (v.info().cloud_error or "")
        else:
            assert "no-3d" not in names and v.info().cloud_error is None
            assert v.renderer.cloud is not None and v.renderer.cloud.points == "cpu"
            assert "3D points on the CPU" in v.info().points
            v.state.camera.guides = False
            v.draw()
            shown = pygame.surfarray.array3d(v.display).transpose(1, 0, 2)
            cam = v.state.camera
            expected = expected_panel(plane(1.0), 0, 0, cam.distance, cam.pivot)
            below_hud = (slice(300, 480), slice(0, 640))
            assert agreement(shown[below_hud], expected[below_hud]) >= 0.99
        press(v, "v")  # on to 3d-video, then both: the 2D panels draw as ever
        press(v, "v")
        v.draw()
        shown = pygame.surfarray.array3d(v.display).transpose(1, 0, 2)
        expected = dv.colorize(plane(1.0), "turbo", near=NEAR, far=FAR, depth_format="mm")
        assert v.state.layout is Layout.BOTH
        assert (shown[300:, :500] == expected[300:, :500]).all()  # below HUD, left of the bar
    finally:
        v.close()


def test_points_take_the_colour_pixel_they_fall_on_with_a_registration(
    xvfb: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A recording with device.json: from the Kinect's own viewpoint each point lands on
    its own depth pixel (the registration's pinhole) in the colour map_rgb_to_depth gives
    it; pixels without a reading stay background."""
    import json

    from _helpers_sources import write_recording
    from _registration_cases import PARAMETER_SETS

    folder = tmp_path / "rec"
    write_recording(folder, n=2, video=True, accel=False, seed=11, video_first=True)
    (folder / "device.json").write_text(json.dumps(PARAMETER_SETS["perturbed"]))
    monkeypatch.setenv("DISPLAY", xvfb)
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    opts = ViewerOptions(layout=Layout.CLOUD, hud=False, snapshot_dir=tmp_path)
    v = Viewer(dv.open(str(folder), realtime=False), opts)
    try:
        for _ in range(400):
            v.step()
            if v.frame is not None:
                break
            time.sleep(0.005)
        assert v.frame is not None and v.renderer.ensure_cloud().ok
        v.state.camera.guides, v.state.camera.point_size = False, 1
        raw, video = v.frame.depth, v.frame.video
        reg = dv.Registration.from_dict(PARAMETER_SETS["perturbed"])
        expected = dv.map_rgb_to_depth(raw, video, reg)
        valid = (dv.to_mm(raw, reg) > 0) & (dv.to_mm(raw, reg) < 10000)
        expected[~valid] = BACKGROUND
        assert valid.mean() > 0.3
        shown = redraw(v)
        assert (shown == expected).all(axis=2).mean() >= 0.99
        assert (shown[valid] != video[valid]).any(axis=1).mean() > 0.5  # not the raw image
    finally:
        v.close()


def row_gaps(shown: np.ndarray) -> int:
    """Background pixels between the first and last drawn pixel of each row: holes and
    stripes in a surface whose outline is convex."""
    drawn = (shown != BACKGROUND).any(axis=2)
    gaps = 0
    for row in drawn:
        xs = np.flatnonzero(row)
        if len(xs) > 1:
            gaps += int((~row[xs[0] : xs[-1] + 1]).sum())
    return gaps


def test_near_surfaces_are_closed_and_far_points_stay_small(window: Any) -> None:
    near = plane(0.5)
    v = window(near)
    cam = v.state.camera
    cam.guides = False
    assert cam.distance == pytest.approx(0.5)  # centred on the plane
    cam.yaw, cam.pitch = 35.0, -20.0
    assert row_gaps(redraw(v)) == 0  # the default size: a closed surface
    cam.point_size = 0.3  # one pixel a point, as before: stripes and holes
    assert row_gaps(redraw(v)) > 1000
    # Far points: one valid pixel in 10 each way at 4 m, seen from the Kinect: each point
    # covers its depth pixel's footprint (one panel pixel here), never a blob.
    far = np.zeros((480, 640), np.uint16)
    far[5::10, 5::10] = 4000
    v2 = window(far)
    cam2 = v2.state.camera
    cam2.guides = False
    drawn = (redraw(v2) != BACKGROUND).any(axis=2)
    points = int((far > 0).sum())
    assert drawn.sum() == points


def test_a_double_click_centres_the_orbit_on_the_point_under_it(window: Any) -> None:
    depth = box()
    v = window(depth)
    cam = v.state.camera
    cam.guides = False
    # Pixel (330, 240) of the box's front face: 1300 + 2 * 10 mm away.
    z = 1.320
    click(v, (330, 240))
    click(v, (330, 240))
    x, y = (330 - CX) / FX * z, (240 - CY) / FY * z
    assert cam.pivot == pytest.approx((x, y, z), abs=0.02)
    assert cam.centred and cam.distance == pytest.approx(float(np.linalg.norm([x, y, z])), abs=0.02)
    # The double click centres and does nothing else: its first click pins nothing (issue 22).
    assert v.state.pinned is None and not any(line.startswith("pin ") for line in hud_of(v))
    # A single click still pins; a double click elsewhere then leaves that pin as it was.
    click(v, (330, 240))
    pinned = v.state.pinned
    assert pinned is not None
    time.sleep(0.6)  # longer than a double click takes
    click(v, (300, 200))
    click(v, (300, 200))
    assert v.state.pinned == pinned


def hud_of(v: Any) -> list[str]:
    return [t for t, _ in v.overlays.hud_lines(v.state, v.info())]


def test_orbit_starts_with_the_yaw_the_view_keeps(window: Any) -> None:
    """Trial R D3: ``--orbit 1e308,0`` printed a 309-digit yaw in the HUD (now refused
    beyond a turn); a yaw within one starts as a drag keeps it, within -180..180."""
    v = window(plane(1.0), orbit=(270.0, 10.0))
    assert v.state.camera.yaw == 270.0 - 360.0
    assert any(line.startswith("3D yaw -90 pitch +10 at") for line in hud_of(v)), hud_of(v)


def test_picking_in_the_3d_view_follows_the_viewers_mirror(window: Any) -> None:
    depth = box()  # its front face slopes left to right, so a mirror shows
    v = window(depth, mirror=True)
    assert v.state.flip  # the source cannot mirror: the viewer mirrors what it draws
    v.state.camera.guides = False
    redraw(v)
    click(v, (380, 240))  # shown pixel 380 of the mirrored picture: frame pixel 639 - 380
    assert v.state.pinned is not None
    px, py = v.state.pinned
    assert 639 - 384 <= px <= 639 - 376 and 236 <= py <= 244


def test_orbit_takes_negative_angles_in_both_spellings(tmp_path: Path) -> None:
    """``--orbit -25,10`` (argparse would read -25,10 as an option) and ``--orbit=-25,10``
    give the same picture through the real command line, and not the unturned one."""
    import json

    pictures = {}
    for name, args in {
        "space": ["--orbit", "-25,10"],
        "equals": ["--orbit=-25,10"],
        "none": [],
    }.items():
        shot = tmp_path / f"{name}.png"
        command = ["view", "demo", "--layout", "3d", "--no-hud", "--frames", "1", "--stats"]
        proc = headless([*command, "--screenshot", str(shot), *args], timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout.splitlines()[-1])["last_frame_index"] == 0
        pictures[name] = pygame.surfarray.array3d(pygame.image.load(str(shot)))
    assert np.array_equal(pictures["space"], pictures["equals"])
    assert not np.array_equal(pictures["space"], pictures["none"])


@pytest.mark.parametrize("points", ["auto", "gpu"])
def test_a_window_without_opengl_shows_the_2d_view_and_the_cpus_3d_or_says_why_not(
    xvfb: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, points: str
) -> None:
    """No usable OpenGL in a real window (``DEPTHVIEW_GL=off`` stands in for it): the plain
    SDL surface reaches the screen with the points the CPU drew (chosen automatically), or,
    forced onto the GPU, the 3D panel says why it is empty rather than taking a second
    context (which would freeze the window, see docs/DESIGN.md)."""
    monkeypatch.setenv("DISPLAY", xvfb)
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    monkeypatch.setenv("DEPTHVIEW_GL", "off")
    monkeypatch.setenv("DEPTHVIEW_POINTS", points)
    opts = ViewerOptions(
        palette="turbo", near=NEAR, far=FAR, layout=Layout.CLOUD_VIDEO, snapshot_dir=tmp_path
    )
    v = Viewer(StillSource(plane(1.0)), opts)
    try:
        for _ in range(400):
            v.step()
            if v.frame is not None:
                break
            time.sleep(0.005)
        v.step()
        assert v.presenter.ctx is None
        if points == "gpu":
            assert "DEPTHVIEW_GL=off" in (v.info().cloud_error or "")
            assert "no-3d" in [p.name for p in v.placed]
        else:
            assert v.info().cloud_error is None
            assert "no-3d" not in [p.name for p in v.placed]
            v.state.camera.guides = False
            rect = v.renderer.window_rects()["cloud"]
            shown = redraw(v)[rect.y + 300 : rect.bottom, rect.x : rect.right]
            cam = v.state.camera
            expected = expected_panel(plane(1.0), 0, 0, cam.distance, cam.pivot)[300:]
            assert agreement(shown, expected) >= 0.99
        press(v, "v")  # on to both: depth beside the (empty) video panel
        shown = redraw(v)
        expected = dv.colorize(plane(1.0), "turbo", near=NEAR, far=FAR, depth_format="mm")
        assert (shown[300:, :500] == expected[300:, :500]).all()  # below HUD, left of the bar
    finally:
        v.close()
