"""The viewer with a source that has its own registration (a recording with device.json):
the overlay blends registered depth over colour, a key switches it, the probe reads
libfreenect's millimetres, recording keeps device.json and the 3D points take the real
colour. Under SDL's dummy driver (conftest); the 3D panel itself is checked under Xvfb in
test_viewer_3d.py.

Golden values come from the pure layers that the libfreenect oracle tests pin down
(``dv.register``, ``dv.to_mm``, ``dv.map_rgb_to_depth``) and from numpy here: the blend,
the pinhole, and the decisions, never from the viewer's own code."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pygame
import pytest
from PIL import Image

import depthview as dv
from _helpers_sources import write_recording
from _helpers_viewer import move_mouse, press, wait_for
from _registration_cases import PARAMETER_SETS
from depthview.frame import DepthFormat, Frame
from depthview.viewer import Layout, Viewer, ViewerOptions, actions, keys
from depthview.viewer.actions import Facts
from depthview.viewer.registered import KEY, PointColours, alignment
from depthview.viewer.state import ViewState

NEAR, FAR = 0.5, 4.5
LAYOUT = PARAMETER_SETS["perturbed"]


@pytest.fixture
def registered_recording(tmp_path: Path) -> Path:
    """Three frames of random raw depth with RGB video, and the perturbed parameter set
    written beside them as libfreenect's device.json."""
    folder = tmp_path / "rec"
    write_recording(folder, n=3, video=True, accel=True, seed=3, video_first=True)
    (folder / "device.json").write_text(json.dumps(LAYOUT, indent=4))
    return folder


@pytest.fixture
def viewers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("DEPTHVIEW_GL", "none")  # the 3D panel's pixels are Xvfb's business
    made: list[Viewer] = []

    def factory(source: Any, **kw: Any) -> Viewer:
        kw.setdefault("snapshot_dir", tmp_path / "out")
        kw.setdefault("hud", False)
        v = Viewer(source, ViewerOptions(**kw))
        made.append(v)
        press(v, " ")  # paused: the first frame stays on screen
        wait_for(v, lambda: v.frame is not None)
        for _ in range(3):  # frames read before the pause are taken now, not mid-test
            time.sleep(0.05)
            wait_for(v, lambda: v.reader.pending == 0)
        return v

    yield factory
    for v in made:
        if pygame.display.get_init():
            v.close()


def shown(viewer: Viewer) -> np.ndarray:
    """Draw now and read the window back as (H, W, 3) int RGB."""
    viewer.draw()
    return pygame.surfarray.array3d(viewer.display).transpose(1, 0, 2).astype(int)


def blend(depth_rgb: np.ndarray, video: np.ndarray, opacity: float) -> np.ndarray:
    """Depth over video at ``opacity`` as SDL blends a surface with per-surface alpha
    (alpha a in 0..255, then (s * a + d * (256 - a)) >> 8), in numpy."""
    a = round(opacity * 255)
    s, d = depth_rgb.astype(int), video.astype(int)
    return (s * a + d * (256 - a)) >> 8


def hud(viewer: Viewer) -> list[str]:
    return [t for t, _ in viewer.overlays.hud_lines(viewer.state, viewer.info())]


def registration() -> dv.Registration:
    return dv.Registration.from_dict(LAYOUT)


def same_numbers(a: Any, b: Any) -> bool:
    """Two device.json layouts hold the same keys and values (floats as float32 holds them)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_numbers(a[k], b[k]) for k in a)
    return bool(np.float32(a) == np.float32(b))


def camera_to_world(u: int, v: int, mm: int) -> tuple[float, float, float]:
    """libfreenect's freenect_camera_to_world, written out from device.json's values:
    2 * reference_pixel_size * z / reference_distance per pixel from the centre."""
    zp = LAYOUT["reg_info"]["zero_plane_info"]
    factor = 2 * zp["reference_pixel_size"] * mm / zp["reference_distance"]
    return ((u - 320) * factor / 1000, (v - 240) * factor / 1000, mm / 1000)


# -- the overlay ---------------------------------------------------------------------------
def test_overlay_blends_registered_depth_over_colour_and_the_key_switches_it(
    viewers: Any, registered_recording: Path
) -> None:
    src = dv.open(str(registered_recording), realtime=False)
    assert src.registration == registration()
    v = viewers(src, palette="turbo", near=NEAR, far=FAR, layout=Layout.OVERLAY)
    raw, video = v.frame.depth, v.frame.video
    aligned = dv.colorize(
        dv.register(raw, registration()), "turbo", near=NEAR, far=FAR, depth_format="registered"
    )
    plain = dv.colorize(raw, "turbo", near=NEAR, far=FAR)
    registered_blend = blend(aligned, video, v.state.opacity)
    plain_blend = blend(plain, video, v.state.opacity)
    assert (np.abs(registered_blend - plain_blend) > 1).any(axis=2).mean() > 0.3  # tells apart

    assert v.state.registered  # on by default: the source has a registration
    assert np.abs(shown(v) - registered_blend).max() <= 1  # SDL's rounding at most
    assert "registered: depth lined up with colour" in hud(v)

    press(v, KEY)
    assert not v.state.registered and "registration off" in v.state.message
    assert np.abs(shown(v) - plain_blend).max() <= 1
    assert f"plain overlay: registration off ({KEY})" in hud(v)

    press(v, KEY)
    assert v.state.registered
    assert np.abs(shown(v) - registered_blend).max() <= 1

    press(v, "m")  # a recording cannot mirror: the viewer mirrors what it registered
    assert v.state.flip
    mirrored = blend(aligned[:, ::-1], video[:, ::-1], v.state.opacity)
    assert np.abs(shown(v) - mirrored).max() <= 1


def test_the_depth_panel_keeps_the_depth_cameras_picture(
    viewers: Any, registered_recording: Path
) -> None:
    src = dv.open(str(registered_recording), realtime=False)
    v = viewers(src, palette="turbo", near=NEAR, far=FAR, layout=Layout.BOTH)
    pixels = shown(v)
    assert np.array_equal(pixels[:, :640], dv.colorize(v.frame.depth, "turbo", near=NEAR, far=FAR))
    assert np.array_equal(pixels[:, 640:], v.frame.video)


def test_glview_gives_way_to_a_metric_palette_on_registered_depth(
    viewers: Any, registered_recording: Path
) -> None:
    v = viewers(dv.open(str(registered_recording), realtime=False), layout=Layout.OVERLAY)
    assert v.state.palette == "turbo"
    assert "registered depth is millimetres" in v.state.message


def test_without_a_registration_the_overlay_stays_plain(viewers: Any, tmp_path: Path) -> None:
    write_recording(tmp_path / "plain", 2, video_first=True)  # colour, no device.json
    src = dv.open(str(tmp_path / "plain"), realtime=False)
    v = viewers(src, palette="turbo", near=NEAR, far=FAR, layout=Layout.OVERLAY)
    plain = dv.colorize(v.frame.depth, "turbo", near=NEAR, far=FAR)
    assert np.abs(shown(v) - blend(plain, v.frame.video, v.state.opacity)).max() <= 1
    assert "plain overlay: the source has no registration" in hud(v)
    press(v, KEY)
    press(v, KEY)
    assert "not used here: the source has no registration" in v.state.message


def test_the_demo_lines_up_already(viewers: Any) -> None:
    # The demo renders its colour image from the depth camera: the plain overlay is right,
    # and its 3D points take the colour image as it is.
    v = viewers(dv.open("demo", fps=0), palette="turbo", near=NEAR, far=FAR, layout=Layout.OVERLAY)
    plain = dv.colorize(v.frame.depth, "turbo", near=NEAR, far=FAR)
    assert np.abs(shown(v) - blend(plain, v.frame.video, v.state.opacity)).max() <= 1
    assert "plain overlay: depth and colour line up already" in hud(v)
    assert v.renderer.alignment(v.state, v.frame).colours is PointColours.VIDEO


@pytest.mark.parametrize(
    ("layout", "said"), [(Layout.OVERLAY, "plain overlay"), (Layout.CLOUD, "palette colours")]
)
def test_colour_of_another_size_is_said_not_missing(
    viewers: Any, tmp_path: Path, layout: Layout, said: str
) -> None:
    """Trial AM (D6): a TUM folder whose colour is 1280x1024 beside 640x480 depth: the HUD
    said "no colour image" while the overlay showed that colour (scaled). It says why the
    colour is not used, as ``export`` does."""
    folder = tmp_path / "tum"
    for name in ("depth", "rgb"):
        (folder / name).mkdir(parents=True)
        (folder / f"{name}.txt").write_text(f"# {name}\n# \n# \n1.000000 {name}/1.000000.png\n")
    Image.fromarray(np.full((480, 640), 7500, np.uint16)).save(folder / "depth/1.000000.png")
    Image.fromarray(np.zeros((1024, 1280, 3), np.uint8)).save(folder / "rgb/1.000000.png")
    src = dv.open(str(folder), realtime=False, depth_format="tum")
    v = viewers(src, layout=layout)
    lines = hud(v)
    assert f"{said}: colour 1280x1024 is not the depth's 640x480: not lined up" in lines, lines
    assert not any("no colour image" in line for line in lines), lines


# -- the probe -----------------------------------------------------------------------------
def test_probe_reads_libfreenect_millimetres_and_the_point_cloud(
    viewers: Any, registered_recording: Path
) -> None:
    src = dv.open(str(registered_recording), realtime=False)
    v = viewers(src, palette="turbo", near=NEAR, far=FAR, layout=Layout.DEPTH)
    raw = v.frame.depth
    mm = dv.to_mm(raw, registration())
    cloud = dv.point_cloud(raw, registration=registration(), organized=True).points
    ys, xs = np.nonzero((mm > 0) & (mm < 10000))
    for x, y in [(int(xs[i]), int(ys[i])) for i in (0, len(xs) // 2, len(xs) - 1)]:
        move_mouse(v, (x, y))
        wx, wy, wz = camera_to_world(x, y, int(mm[y, x]))
        text = f"probe ({x}, {y}) raw {raw[y, x]} = {mm[y, x]} mm"
        text += f"  X {wx:+.3f} Y {wy:+.3f} Z {wz:.3f}"
        assert text in hud(v)
        px, py, pz = (float(c) for c in cloud[y, x])  # the library's cloud says the same
        assert f"X {px:+.3f} Y {py:+.3f} Z {pz:.3f}" in text
    ys, xs = np.nonzero(mm == 0)  # no reading in libfreenect's table
    x, y = int(xs[0]), int(ys[0])
    move_mouse(v, (x, y))
    assert f"probe ({x}, {y}) raw {raw[y, x]} no reading" in hud(v)


def test_probe_on_the_registered_overlay_reads_registered_depth(
    viewers: Any, registered_recording: Path
) -> None:
    src = dv.open(str(registered_recording), realtime=False)
    v = viewers(src, palette="turbo", near=NEAR, far=FAR, layout=Layout.OVERLAY)
    registered = dv.register(v.frame.depth, registration())
    ys, xs = np.nonzero(registered)
    x, y = int(xs[len(xs) // 2]), int(ys[len(ys) // 2])
    move_mouse(v, (x, y))
    wx, wy, wz = camera_to_world(x, y, int(registered[y, x]))
    expected = f"probe ({x}, {y}) registered {registered[y, x]} mm"
    assert f"{expected}  X {wx:+.3f} Y {wy:+.3f} Z {wz:.3f}" in hud(v)


# -- recording -----------------------------------------------------------------------------
def test_recording_keeps_the_sources_registration(
    viewers: Any, registered_recording: Path, tmp_path: Path, person_recording: Path
) -> None:
    src = dv.open(str(registered_recording), realtime=False, loop=True)
    v = viewers(src, layout=Layout.BOTH)
    press(v, "R")
    folder = v.state.recording
    assert folder is not None, v.state.message
    start = v.reader.frames_read
    press(v, " ")  # play again
    wait_for(v, lambda: v.reader.frames_read > start + 4)
    press(v, "R")
    assert dv.Registration.from_json(folder / "device.json") == registration()
    text = (folder / "device.json").read_text()
    assert text == src.registration.to_json()  # as libfreenect's recorder writes it
    assert same_numbers(json.loads(text), LAYOUT)  # libfreenect's layout, the same values
    with dv.open(str(folder), realtime=False) as again:
        assert again.registration == registration()

    source = dv.open(str(person_recording), realtime=False, loop=True)
    plain = viewers(source, snapshot_dir=tmp_path / "out2")  # folders are named by the second
    press(plain, "R")
    other = plain.state.recording
    assert other is not None, plain.state.message
    start = plain.reader.frames_read
    press(plain, " ")
    wait_for(plain, lambda: plain.reader.frames_read > start + 3)
    press(plain, "R")
    assert (other / "INDEX.txt").exists() and not (other / "device.json").exists()


# -- the 3D view's colours -----------------------------------------------------------------
def test_point_colours_are_the_colour_pixels_the_points_fall_on(
    viewers: Any, registered_recording: Path
) -> None:
    src = dv.open(str(registered_recording), realtime=False)
    v = viewers(src, palette="turbo", near=NEAR, far=FAR, layout=Layout.CLOUD)
    frame = v.frame
    colours = v.renderer.point_colours(v.state, frame, frame.depth)
    expected = dv.map_rgb_to_depth(frame.depth, frame.video, registration())
    assert colours.shape == (480, 640, 3) and np.array_equal(colours, expected)
    assert not np.array_equal(expected, frame.video)  # mapped, not the image as it is
    assert "registered: points in their real colour" in hud(v)

    press(v, KEY)  # off: the palette, as the depth panel shows it
    palette = v.renderer.point_colours(v.state, frame, frame.depth)
    order = v.renderer.order
    packed = dv.colorize_packed(frame.depth, "turbo", order=order, near=NEAR, far=FAR)
    assert palette.shape == (480, 640) and np.array_equal(palette, packed)
    assert "palette colours: registration off (l)" in hud(v)


# -- the decisions, without a window -------------------------------------------------------
def frame_of(fmt: DepthFormat, video: bool = True, shape: tuple[int, int] = (480, 640)) -> Frame:
    depth = np.full(shape, 800 if fmt.is_raw else 1500, np.uint16)
    rgb = np.zeros((*shape, 3), np.uint8) if video else None
    return Frame(depth=depth, video=rgb, depth_format=fmt)


def test_where_the_registration_applies() -> None:
    reg = registration()
    raw, mm = DepthFormat.RAW_11BIT, DepthFormat.MM
    on = alignment(True, reg, frame_of(raw))
    assert on.overlay and on.colours is PointColours.MAPPED and not on.reason
    assert alignment(True, None, frame_of(raw)).reason == "the source has no registration"
    off = alignment(False, reg, frame_of(raw))
    assert not off.overlay and off.colours is PointColours.PALETTE and "off" in off.reason
    millimetres = alignment(True, reg, frame_of(mm))  # colours map, depth cannot register
    assert not millimetres.overlay and millimetres.colours is PointColours.MAPPED
    assert "raw depth" in millimetres.note(Layout.OVERLAY)
    no_video = alignment(True, reg, frame_of(raw, video=False))
    assert no_video.overlay and no_video.colours is PointColours.PALETTE
    assert "no colour image" in no_video.note(Layout.CLOUD)
    # trial AA: millimetres (a filter's) without colour lack the colour first, and a raw
    # source under a filter was said to give millimetres
    assert alignment(True, reg, frame_of(mm, video=False)).reason == "no colour image"
    assert "source" not in millimetres.reason
    already = alignment(True, None, frame_of(DepthFormat.REGISTERED))
    assert not already.overlay and already.colours is PointColours.VIDEO
    assert already.note(Layout.OVERLAY) == "depth registered by the source"
    assert "registered by the source" in already.note(Layout.CLOUD)
    small = alignment(True, reg, frame_of(raw, shape=(240, 320)))
    assert "640x480" in small.reason
    mirrored = alignment(True, reg, frame_of(raw), source_mirrors=True)
    assert not mirrored.overlay and "mirrors" in mirrored.reason
    assert on.note(Layout.BOTH) == "" and alignment(True, reg, None).note(Layout.OVERLAY) == ""


def test_the_key_toggles_the_state_and_says_what_it_does() -> None:
    state = ViewState()
    assert state.registered
    binding = keys.lookup(KEY, KEY)
    assert binding is not None and binding.action is actions.registered
    (say,) = binding.action(state, Facts(), binding.arg)
    assert not state.registered and isinstance(say, actions.Say) and "off" in say.text
    (say,) = binding.action(state, Facts(unregistered="the source has no registration"), 0)
    assert state.registered and "not used here" in say.text  # type: ignore[union-attr]
    assert any("registration" in text for key, text in keys.help_lines() if key == "l")
