"""Depth filters in the viewer: the keys (F on/off, P presets, V split), what the HUD says,
frames filtered on the reader's thread exactly as librealsense filters them, raw frames
kept for the split view and for recordings."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pygame
import pytest

import depthview as dv
from _helpers_realsense import Oracle, block, data
from _helpers_viewer import move_mouse, press, wait_for
from depthview.filters import PRESETS
from depthview.viewer import Layout, Viewer, ViewerOptions, actions, layout
from depthview.viewer.actions import Facts, Relayout, SetFilters
from depthview.viewer.state import ViewState
from test_viewer_3d import (
    agreement,
    box,
    expected_panel,
    redraw,
    xvfb,  # noqa: F401 - a fixture, used by name
)
from test_viewer_3d import window as window3d  # noqa: F401 - a fixture, used by name


def test_filter_actions_toggle_cycle_and_split() -> None:
    state, facts = ViewState(), Facts()
    assert actions.filters(state, facts, 0)[0] == SetFilters("realsense")
    assert state.filters_on
    assert actions.filters(state, facts, 0)[0] == SetFilters(None)
    names = [actions.next_filters(state, facts, 0)[0] for _ in PRESETS]
    assert [n.spec for n in names if isinstance(n, SetFilters)] == [*list(PRESETS)[1:], "realsense"]
    state.layout = Layout.DEPTH
    assert actions.split_view(state, facts, 0) == [Relayout()]
    assert state.layout is Layout.SPLIT
    assert layout.panels(Layout.SPLIT)["depth"] == layout.Rect(640, 0, 640, 480)
    assert layout.native_size(Layout.SPLIT) == (1280, 480)
    actions.split_view(state, facts, 0)
    assert state.layout is Layout.DEPTH
    assert Layout.SPLIT not in {m.next() for m in Layout}  # v never lands on it


@pytest.fixture
def viewer(tmp_path: Path) -> Any:
    made: list[Viewer] = []

    def make(**kw: Any) -> Viewer:
        v = Viewer(dv.open("sample", loop=True), ViewerOptions(snapshot_dir=tmp_path, **kw))
        made.append(v)
        return v

    yield make
    for v in made:
        if pygame.display.get_init():
            v.close()


def hud(v: Viewer) -> list[str]:
    return [t for t, _ in v.overlays.hud_lines(v.state, v.info())]


def test_keys_switch_the_chain_on_the_reader_thread_and_the_hud_says_so(viewer: Any) -> None:
    v = viewer(layout=Layout.DEPTH)
    wait_for(v, lambda: v.frame is not None)
    assert v.frame.depth_format is dv.DepthFormat.RAW_11BIT
    assert not any(line.startswith("filters") for line in hud(v))
    press(v, "P")  # the next preset after realsense: smooth
    press(v, "P")  # then fill: librealsense's hole filling alone (stateless)
    assert v.state.filter_spec == "fill" and "filters fill: holes" in hud(v)
    wait_for(v, lambda: v.frame is not None and "unfiltered" in v.frame.meta)
    frame = v.frame
    raw = frame.meta["unfiltered"]
    assert raw.depth_format is dv.DepthFormat.RAW_11BIT and frame.depth_format is dv.DepthFormat.MM
    oracle = Oracle(640, 480)
    want = data(block("holes").process(oracle.frame(dv.to_mm(raw.depth))))
    oracle.close()
    np.testing.assert_array_equal(frame.depth, want)
    press(v, "F")
    assert not v.state.filters_on and v.state.message == "filters off: raw depth"
    wait_for(v, lambda: v.frame is not None and v.frame.depth_format is dv.DepthFormat.RAW_11BIT)


def test_split_view_shows_raw_left_and_filtered_right(viewer: Any) -> None:
    v = viewer(layout=Layout.DEPTH, filters="threshold:min_m=0.1,max_m=1.2", hud=False)
    assert v.state.filters_on and v.state.palette == "turbo"
    v.state.near, v.state.far = 0.5, 4.5  # a fixed scale: the same depth, the same colour
    press(v, "V")
    assert v.state.layout is Layout.SPLIT and v.display.get_size() == (1280, 480)
    wait_for(v, lambda: v.frame is not None and "unfiltered" in v.frame.meta)
    v.draw()
    rgb = pygame.surfarray.array3d(v.display).transpose(1, 0, 2)
    frame = v.frame
    far = (dv.to_mm(frame.meta["unfiltered"].depth) > 1200) & (frame.depth == 0)
    assert far.sum() > 1000  # the person's background is past 1.2 m
    left, right = rgb[:, :640][far], rgb[:, 640:][far]
    assert (np.abs(left.astype(int) - right.astype(int)).sum(axis=1) > 0).mean() > 0.9
    kept = (frame.depth > 0) & (frame.depth == dv.to_mm(frame.meta["unfiltered"].depth))
    assert kept.sum() > 1000
    np.testing.assert_array_equal(rgb[:, :640][kept], rgb[:, 640:][kept])
    press(v, "V")
    assert v.state.layout is Layout.DEPTH


def test_recording_from_the_viewer_keeps_raw_frames(viewer: Any, tmp_path: Path) -> None:
    v = viewer(layout=Layout.DEPTH, filters="smooth")
    wait_for(v, lambda: v.frame is not None)
    press(v, "R")
    wait_for(v, lambda: v.reader.frames_read > 8)
    folder = v.state.recording
    press(v, "R")
    with dv.open(str(folder)) as rec:
        first = rec.read()
    assert first.depth_format is dv.DepthFormat.RAW_11BIT
    with dv.open("sample") as sample:
        raws = [f.depth.tobytes() for f in sample]
    assert first.depth.tobytes() in raws


@pytest.mark.xvfb
def test_the_3d_view_shows_the_filtered_points(xvfb: str, window3d: Any) -> None:  # noqa: F811
    """A real X window (Xvfb, Mesa): with a threshold at 2 m the wall behind the box leaves
    the point cloud, exactly as numpy's projection of the thresholded depth says."""
    depth = box()
    v = window3d(depth, filters="threshold:min_m=0.1,max_m=2.0")
    wait_for(v, lambda: v.frame is not None and "unfiltered" in v.frame.meta)
    cam = v.state.camera
    cam.guides = False
    cam.point_size = 1
    cam.yaw, cam.pitch = 20.0, -10.0  # about the centre the view chose: the kept scene's
    kept = np.where((depth >= 100) & (depth <= 2000), depth, 0).astype(np.uint16)
    shown = redraw(v)
    pose = (20.0, -10.0, cam.distance, cam.pivot)
    assert agreement(shown, expected_panel(kept, *pose)) >= 0.99
    assert agreement(shown, expected_panel(depth, *pose)) < 0.9


def test_view_command_takes_a_filter_and_refuses_a_bad_one(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    run = [sys.executable, "-m", "depthview", "view", "sample", "--frames", "20", "--stats"]
    bad = subprocess.run(
        [*run, "--filter", "spatial:magnitude=9"], capture_output=True, text=True, env=env
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "expected spatial magnitude as an integer in 1..5, got 9" in bad.stderr
    good = subprocess.run(
        [*run, "--filter", "realsense", "--layout", "split"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout.strip().splitlines()[-1])["frames_shown"] == 20


@pytest.mark.parametrize("mirror", [False, True])
def test_probe_reads_the_left_panel_of_the_split_view(
    tmp_path: Path, viewers: Any, mirror: bool
) -> None:
    """Trial M: with ``--layout split --filter fill`` the mouse over the left panel (the
    depth before the filters) showed no probe line at all; it reads the unfiltered frame
    there, in its own units, and says which panel it reads."""
    ramp = np.tile(np.arange(500, 1140, dtype=np.uint16), (480, 1))  # raw 11-bit, x + 500
    ramp[::7, ::5] = 0  # holes for the filter to fill
    np.save(tmp_path / "ramp.npy", ramp[None])
    v = viewers(
        dv.open(str(tmp_path / "ramp.npy"), loop=True),
        layout=Layout.SPLIT,
        filters="fill",
        mirror=mirror,
        size=(1280, 480),
    )
    wait_for(v, lambda: v.frame is not None and "unfiltered" in v.frame.meta)
    move_mouse(v, (100, 300))
    x = 639 - 100 if mirror else 100
    lines = [s for s in v.info().probe if s.startswith("probe")]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"probe unfiltered ({x}, 300) raw {500 + x} "), lines
    move_mouse(v, (640 + 260, 200))
    x = 639 - 260 if mirror else 260
    mm = int(v.frame.depth[200, x])
    lines = [s for s in v.info().probe if s.startswith("probe")]
    assert lines == [lines[0]] and lines[0].startswith(f"probe filtered ({x}, 200) {mm} mm"), lines


def _holes(depth_mm: np.ndarray) -> np.ndarray:
    """librealsense's hole filling (the "fill" preset) of ``depth_mm``, by pyrealsense2."""
    oracle = Oracle(depth_mm.shape[1], depth_mm.shape[0])
    try:
        return np.asarray(data(block("holes").process(oracle.frame(depth_mm))))
    finally:
        oracle.close()


def _settled(v: Viewer) -> Any:
    """The frame on screen once the reader has stopped (paused or ended): nothing pending."""
    wait_for(v, lambda: v.frame is not None and v.reader.pending == 0)
    time.sleep(0.1)  # a read under way when the pause came lands now
    wait_for(v, lambda: v.reader.pending == 0)
    return v.frame


def test_filters_changed_while_paused_apply_to_the_frame_shown(viewer: Any) -> None:
    """Trial P (P2): paused, ``F`` and ``P`` changed only the HUD; the picture, the probe
    and a ``p`` snapshot stayed the raw frame. Now the frame shown is filtered at once (the
    same frame: its index), the snapshot holds librealsense's filtering of it, and ``F``
    off gives the raw frame back."""
    v = viewer(layout=Layout.DEPTH)
    wait_for(v, lambda: v.frame is not None)
    press(v, " ")
    shown = _settled(v)
    assert shown.depth_format is dv.DepthFormat.RAW_11BIT
    press(v, "P")  # smooth
    press(v, "P")  # fill: librealsense's hole filling alone (stateless)
    assert v.state.paused and v.state.filter_spec == "fill"
    frame = v.frame  # no frame read since: the one on screen, filtered
    assert frame.index == shown.index and frame.depth_format is dv.DepthFormat.MM
    want = _holes(dv.to_mm(shown.depth))
    np.testing.assert_array_equal(frame.depth, want)
    move_mouse(v, (320, 240))
    probe = next(s for s in hud(v) if s.startswith("probe "))
    assert f"{int(want[240, 320])} mm = " in probe and "raw" not in probe, probe
    press(v, "p")
    (npz,) = [p for p in v.snapshots if p.name.endswith("-depth.npz")]
    with np.load(npz) as saved:
        assert int(saved["depth_format"]) == dv.DepthFormat.MM.value
        np.testing.assert_array_equal(saved["depth"], want)
    press(v, "F")  # off: the raw frame again
    assert v.frame.depth_format is dv.DepthFormat.RAW_11BIT
    assert v.frame.depth.tobytes() == shown.depth.tobytes()


def test_filters_turned_on_after_the_source_ended_apply_to_its_last_frame(
    tmp_path: Path,
) -> None:
    """Trial P (P2): a source that ended reads no next frame either; its last frame is
    filtered when the filters are turned on."""
    v = Viewer(dv.open("sample"), ViewerOptions(snapshot_dir=tmp_path, layout=Layout.DEPTH))
    try:
        wait_for(v, lambda: v.reader.ended, timeout=30)
        last = _settled(v)
        press(v, "P")
        press(v, "P")
        assert v.state.filter_spec == "fill" and v.frame.depth_format is dv.DepthFormat.MM
        np.testing.assert_array_equal(v.frame.depth, _holes(dv.to_mm(last.depth)))
    finally:
        v.close()


def test_split_view_paused_then_filters_on_shows_both(viewer: Any) -> None:
    """Trial P (P2), the split view: space, V, F showed the same raw picture in both panels
    under "left: raw depth  right: filtered". Now the right panel is the frame shown,
    filtered at once: the two panels differ where the filters changed the depth."""
    v = viewer(layout=Layout.DEPTH, hud=False, mirror=True)
    wait_for(v, lambda: v.frame is not None)
    press(v, " ")
    shown = _settled(v)
    press(v, "V")
    press(v, "F")
    assert v.state.layout is Layout.SPLIT and v.state.filters_on
    frame = v.frame
    assert frame.meta.get("unfiltered") is not None and frame.index == shown.index
    v.draw()
    rgb = pygame.surfarray.array3d(v.display).transpose(1, 0, 2)
    assert rgb.shape[:2] == (480, 1280)
    changed = (rgb[:, :640] != rgb[:, 640:]).any(axis=2).mean()
    assert changed > 0.05, changed
