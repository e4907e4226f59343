"""The HUD as the user reads it (issue 22): every line whole at 640 px (a line too long goes
on over the next, never cut), the probe naming millimetres as millimetres, a guess of units
said, and the HUD on the picture, not over a letterboxed window's black bars (read back
from the X server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import depthview as dv
from _helpers_viewer import move_mouse, press, wait_for
from _helpers_xcapture import (
    capture_stable,
    press_key,
    program_window,
    quit_program,
    wait_for_picture,
)
from _helpers_xvfb import start_xvfb
from depthview.sources import sample
from depthview.viewer import Layout, Viewer
from depthview.viewer.overlays import ELLIPSIS

xvfb = pytest.fixture(start_xvfb)


def hud_drawn(v: Viewer) -> tuple[str, ...]:
    return next(p.text for p in v.placed if p.name == "hud")


def hud_meant(v: Viewer) -> list[str]:
    return [t for t, _ in v.overlays.hud_lines(v.state, v.info())]


def test_at_640_px_no_hud_line_is_cut(viewers: Any) -> None:
    v = viewers(dv.open("sample", loop=True), layout=Layout.DEPTH, size=(640, 480))
    wait_for(v, lambda: v.frame is not None)
    press(v, "F")  # the filters, as the user turns them on
    assert v.state.filters_on
    move_mouse(v, (400, 300))
    wait_for(v, lambda: any(s.startswith("probe ") for s in hud_meant(v)))
    v.draw()
    meant, drawn = hud_meant(v), hud_drawn(v)
    assert any(s.startswith("filters ") for s in meant)
    assert not any(ELLIPSIS in s for s in drawn), drawn
    # The words drawn are the words meant, all of them, in order (a line may go on below).
    assert " ".join(drawn).split() == " ".join(meant).split()
    probe = [s for s in drawn if "Z " in s or s.startswith("Z ")]
    assert probe, drawn


def test_the_probe_on_millimetres_says_mm(viewers: Any, tmp_path: Path) -> None:
    depth = np.full((2, 480, 640), 1185, np.uint16)  # 1.185 m, in millimetres
    np.save(tmp_path / "mm.npy", depth)
    v = viewers(dv.open(str(tmp_path / "mm.npy"), depth_format="mm"), layout=Layout.DEPTH)
    wait_for(v, lambda: v.frame is not None)
    move_mouse(v, (320, 240))
    wait_for(v, lambda: any(s.startswith("probe ") for s in hud_meant(v)))
    probe = next(s for s in hud_meant(v) if s.startswith("probe "))
    assert "1185 mm = 1.185 m" in probe and "raw" not in probe, probe


def test_filtered_depth_probe_says_mm_not_raw(viewers: Any) -> None:
    v = viewers(dv.open("sample", loop=True), layout=Layout.DEPTH)
    wait_for(v, lambda: v.frame is not None)
    press(v, "F")
    move_mouse(v, (320, 240))
    wait_for(v, lambda: v.frame is not None and v.frame.depth_format is dv.DepthFormat.MM)
    wait_for(v, lambda: any(s.startswith("probe ") for s in hud_meant(v)))
    probe = next(s for s in hud_meant(v) if s.startswith("probe "))
    assert "raw" not in probe and " mm = " in probe, probe


def test_a_guess_of_units_is_on_the_hud(viewers: Any, tmp_path: Path) -> None:
    np.save(tmp_path / "d.npy", np.full((2, 48, 64), 800, np.uint16))
    v = viewers(dv.open(str(tmp_path / "d.npy")), layout=Layout.DEPTH)
    wait_for(v, lambda: v.frame is not None)
    assert any(s.startswith("units are a guess: raw 11-bit") for s in hud_meant(v))
    v.close()
    said = viewers(dv.open(str(tmp_path / "d.npy"), depth_format="11bit"), layout=Layout.DEPTH)
    wait_for(said, lambda: said.frame is not None)
    assert not any(s.startswith("units are a guess") for s in hud_meant(said))


@pytest.mark.xvfb
def test_in_a_wide_window_the_hud_is_on_the_picture_not_the_bars(xvfb: str, tmp_path: Path) -> None:
    """1000x480 shows the 640x480 depth picture between black bars: on the X server's
    window the bars stay black, and the HUD (a dark box) lies on the picture's corner."""
    rec = sample.write_to(tmp_path / "rec")
    args = [str(rec), "--layout", "depth", "--size", "1000x480", "--palette", "grayscale"]
    with program_window(["view", *args], xvfb, "depthview - ", prefix=True) as (proc, window):
        # a loaded machine may take a while to draw
        wait_for_picture(window, xvfb, lambda p: (p[:, 180:820].max(axis=2) > 0).mean() > 0.5, 30)
        press_key(window, "space", xvfb)
        shown = capture_stable(window, xvfb)
        quit_program(proc, window, xvfb)
    h, w, _ = shown.shape
    assert (w, h) == (1000, 480)
    lit = shown.max(axis=2) > 0
    left, right = (1000 - 640) // 2, (1000 + 640) // 2  # the 4:3 picture, centred
    assert lit[:, left:right].mean() > 0.5  # the picture is there
    assert not lit[:, :left].any() and not lit[:, right:].any(), "something drawn on the bars"
    # The HUD's text is at the picture's top-left corner: bright pixels there.
    corner = shown[8:40, left + 8 : left + 200]
    assert (corner.max(axis=2) > 200).any()


def test_the_probe_uses_the_sources_own_intrinsics(viewers: Any, tmp_path: Path) -> None:
    """Trial H (issue 22): the probe's X and Y came from the Kinect's default pinhole even
    for a source with its own (7-Scenes' 585/585/320/240, ``--intrinsics``), while ``info``
    and ``export .ply`` used the right one. X = (u - cx) / fx * Z, Y = (v - cy) / fy * Z,
    computed here from the intrinsics given."""
    depth = np.full((2, 480, 640), 1470, np.uint16)  # 1.470 m, in millimetres
    np.save(tmp_path / "mm.npy", depth)
    src = dv.open(str(tmp_path / "mm.npy"), depth_format="mm")
    k = dv.Intrinsics(500.0, 520.0, 310.0, 250.0)
    src.set_intrinsics(k, "--intrinsics")
    v = viewers(src, layout=Layout.DEPTH)
    wait_for(v, lambda: v.frame is not None)
    move_mouse(v, (100, 300))
    wait_for(v, lambda: any(s.startswith("probe ") for s in hud_meant(v)))
    probe = next(s for s in hud_meant(v) if s.startswith("probe "))
    u, vv, z = 100, 300, 1.470
    x, y = (u - k.cx) / k.fx * z, (vv - k.cy) / k.fy * z
    assert f"X {x:+.3f} Y {y:+.3f}" in probe, probe


def _letters(lines: Any) -> str:
    return "".join(lines).replace(" ", "")


@pytest.mark.parametrize("shape", [(640, 240), (4000, 3), (3, 4000)])
def test_a_narrow_or_short_picture_has_its_whole_hud(
    viewers: Any, tmp_path: Path, shape: tuple[int, int]
) -> None:
    """Trial P (P1): the HUD was wrapped into the picture, so a 240x640 array's 180-pixel
    picture cut the units guess and the probe with "…", and a 4000x3 (or 3x4000) array's
    picture of a pixel or so had no HUD at all. In a 640x480 window every character meant
    is drawn, the units guess and its advice among them, inside the window."""
    np.save(tmp_path / "d.npy", np.full(shape, 800, np.uint16))
    v = viewers(dv.open(str(tmp_path / "d.npy")), layout=Layout.DEPTH, size=(640, 480))
    wait_for(v, lambda: v.frame is not None)
    panel = v.renderer.window_rects()["depth"]
    move_mouse(v, (panel.x + panel.w // 2, panel.y + panel.h // 2))
    wait_for(v, lambda: any(s.startswith("probe ") for s in hud_meant(v)))
    info = v.info()  # one moment's figures for both (the source may end in between)
    placed = v.overlays.plan(v.state, info, v.renderer.window_rects(), v.display)
    meant = [t for t, _ in v.overlays.hud_lines(v.state, info)]
    drawn = next((p.text for p in placed if p.name == "hud"), ())
    assert "units are a guess: raw 11-bit disparity; if not, say --depth-format mm" in meant
    assert not any(ELLIPSIS in s for s in drawn), drawn
    assert _letters(drawn) == _letters(meant), drawn
    hud = next(p.rect for p in placed if p.name == "hud")
    assert hud.x >= 0 and hud.y >= 0 and hud.right <= 640 and hud.bottom <= 480, hud


@pytest.mark.xvfb
def test_a_narrow_pictures_units_guess_is_on_the_screen(xvfb: str, tmp_path: Path) -> None:
    """Trial P (P1), read back from the X server: a 240x640 array in a 640x480 window is a
    180-pixel picture at x 230..410 between black bars. The units guess, the HUD's one line
    in its warning colour (255, 200, 80), now reaches over the left bar (it was cut inside
    the picture)."""
    np.save(tmp_path / "portrait.npy", np.full((640, 240), 800, np.uint16))
    args = [str(tmp_path / "portrait.npy"), "--layout", "depth", "--size", "640x480"]
    args += ["--palette", "grayscale"]
    with program_window(["view", *args], xvfb, "depthview - ", prefix=True) as (proc, window):
        wait_for_picture(window, xvfb, lambda p: (p[:, 240:400].max(axis=2) > 0).mean() > 0.5, 30)
        shown = capture_stable(window, xvfb)
        quit_program(proc, window, xvfb)
    assert shown.shape == (480, 640, 3)
    left_bar = shown[:, :225].astype(int)
    warn = (left_bar == (255, 200, 80)).all(axis=2)
    assert warn.sum() > 50, "no units guess over the left bar"


def test_characters_the_font_lacks_are_written_as_escapes(viewers: Any, tmp_path: Path) -> None:
    """Trial P (P7): a source named ``depth 数据 ü.npy`` showed ``depth □□ ü.npy`` on the HUD
    (the shipped DejaVu Sans Mono has no CJK). Each character it lacks is written as its
    escape (数 is U+6570, 据 U+636E); ü, which it has, stays."""
    path = tmp_path / "depth 数据 ü.npy"
    np.save(path, np.full((2, 48, 64), 800, np.uint16))
    v = viewers(dv.open(str(path), depth_format="11bit"), layout=Layout.DEPTH, size=(640, 480))
    wait_for(v, lambda: v.frame is not None)
    v.draw()
    drawn = _letters(hud_drawn(v))
    assert _letters(["depth \\u6570\\u636e ü.npy"]) in drawn, hud_drawn(v)
    assert "数" not in drawn and "据" not in drawn


def test_a_3d_view_of_a_4000x3_array_has_its_whole_hud(
    viewers: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trial P (P1), the 3D layout: its panel takes the picture's shape too, so a 4000x3
    array had no HUD there either. (No OpenGL here: the 3D panel says so in its label,
    which must stay clear of the HUD, as every overlay.)"""
    monkeypatch.setenv("DEPTHVIEW_GL", "none")  # as tests/test_viewer_overlays.py does
    np.save(tmp_path / "d.npy", np.full((4000, 3), 800, np.uint16))
    v = viewers(dv.open(str(tmp_path / "d.npy")), layout=Layout.CLOUD, size=(640, 480))
    wait_for(v, lambda: v.frame is not None)
    info = v.info()
    placed = v.overlays.plan(v.state, info, v.renderer.window_rects(), v.display)
    meant = [t for t, _ in v.overlays.hud_lines(v.state, info)]
    drawn = next((p.text for p in placed if p.name == "hud"), ())
    assert any(s.startswith("units are a guess: ") for s in meant)
    assert _letters(drawn) == _letters(meant), drawn
    solid = [p.rect for p in placed if p.solid]
    assert not any(a.intersects(b) for i, a in enumerate(solid) for b in solid[i + 1 :])


def test_a_long_source_name_keeps_its_end_and_the_frame_counter(
    viewers: Any, tmp_path: Path
) -> None:
    """Trial U (D5): a recording deep in folders with long names had the HUD's first line
    wrapped, then cut with an ellipsis: ``frame N/M`` (and the recording's own folder name)
    never reached the screen. Now the name is shortened from its start."""
    deep = tmp_path / ("a_very_long_folder_name_that_goes_on " * 4).strip() / "rec end"
    rec = sample.write_to(deep)
    v = viewers(dv.open(str(rec), realtime=False), layout=Layout.DEPTH, size=(640, 480))
    wait_for(v, lambda: v.frame is not None)
    v.draw()
    drawn = hud_drawn(v)
    position = v.info().position
    assert position.startswith("frame "), position
    at = next(i for i, line in enumerate(drawn) if line.endswith(f"rec end  {position}"))
    assert at < 3 and drawn[0].startswith(ELLIPSIS), drawn  # within the lines a wrap keeps
    assert len(" ".join(drawn[: at + 1])) < len(str(rec)), drawn  # shortened from its start


@pytest.mark.parametrize(
    ("depth_format", "units"),
    [("tum", "fifths of a millimetre, metres x 5000"), ("mm", "millimetres")],
)
def test_glview_on_metric_depth_names_its_units(
    viewers: Any, tmp_path: Path, depth_format: str, units: str
) -> None:
    """Trial AQ (D6): a TUM source's fifths of a millimetre were said as "millimetres" when
    glview gave way to turbo; its units are named as info and R name them."""
    np.save(tmp_path / "d.npy", np.full((2, 48, 64), 5000, np.uint16))
    src = dv.open(str(tmp_path / "d.npy"), depth_format=depth_format)
    v = viewers(src, layout=Layout.DEPTH, palette="glview")
    wait_for(v, lambda: v.frame is not None and v.state.palette == "turbo")
    assert v.state.message == f"glview maps raw values; this source gives {units}: using turbo"
