"""The scan window as the user sees it: ``depthview scan demo:walk`` in a real X window
under Xvfb, read back from the X server. The model panel must fill in and change while
the camera moves, the paused window must be the picture the program saves on quitting,
and quitting writes the mesh; the model turns with a drag and zooms with the wheel and
``z`` brings back the camera's view to the pixel; ``c`` shades it, ``v`` shows colour on
the left; a recording that goes blank mid-scan shows the red "tracking lost" on screen.
Keys and the mouse go through the X server (XTest)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _helpers_xcapture import (
    assert_screen_is_saved,
    capture,
    capture_stable,
    drag_pointer,
    press_key,
    program_window,
    quit_program,
    run_on_x,
    scroll,
    wait_for_change,
    wait_for_picture,
)
from _helpers_xvfb import start_xvfb
from depthview.frame import RAW_11BIT_INVALID, Frame
from depthview.recording import record
from depthview.registration import Registration
from depthview.scan import Scanner
from depthview.scene_walk import WalkScene, walk_pose
from depthview.viewer import scan_state
from depthview.viewer.scan_window import PANEL, hud_lines

pytestmark = pytest.mark.xvfb
xvfb = pytest.fixture(start_xvfb)


def test_the_model_grows_on_screen(xvfb: str, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    with _scan_window(
        "demo:walk", "room.ply", tmp_path, xvfb, "--screenshot", str(shot), title_prefix=False
    ) as (proc, window):
        model_lit: list[float] = []
        shots: list[np.ndarray] = []

        def grown(shot: np.ndarray) -> bool:
            shots.append(shot)
            model_lit.append(_lit(_model(shot)))
            return model_lit[-1] > 0.4 and len(shots) >= 3

        wait_for_picture(window, xvfb, grown, timeout=90, every=1.0)
        assert model_lit[-1] > 0.4, f"the model panel is lit at {model_lit}"
        assert not np.array_equal(shots[-1], shots[-2]), "the window on screen is frozen"
        depth = shots[-1][: PANEL[1], : PANEL[0]]
        assert (depth.max(axis=2) > 30).mean() > 0.5
        assert _green(shots[-1]).sum() > 20, "no green 'tracking' in the HUD"
        paused = _pause(window, xvfb)
        quit_program(proc, window, xvfb, timeout=120)
    assert_screen_is_saved(paused, shot, "the scan window")
    header = (tmp_path / "room.ply").read_bytes()[:400]
    assert b"element face" in header and (tmp_path / "room-trajectory.txt").exists()


def test_a_model_saved_then_reset_stays_and_the_scan_ends_well(xvfb: str, tmp_path: Path) -> None:
    """Trial AA (D3): ``s`` saved the model, ``r`` reset it and ``q`` (paused: nothing fused
    since) ended with exit 2, "no frame could be fused ... nothing was written", though the
    run had fused frames and written OUT. The saved model stays, said, exit 0, with its
    figures."""
    with _scan_window("demo:walk", "room.ply", tmp_path, xvfb) as (proc, window):
        wait_for_picture(window, xvfb, lambda shot: _lit(_model(shot)) > 0.4, timeout=90)
        _pause(window, xvfb)
        press_key(window, "s", xvfb)
        deadline = time.monotonic() + 60
        while not (tmp_path / "room-params.json").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        saved = {p.name: p.read_bytes() for p in tmp_path.glob("room*")}
        assert set(saved) == {"room.ply", "room-trajectory.txt", "room-params.json"}
        press_key(window, "r", xvfb)
        time.sleep(1.0)
        out = quit_program(proc, window, xvfb, timeout=120)
    # --stats: the figures of the run since the reset, as every run that ends well prints
    # them (trial AQ D2: nothing was printed)
    stats = json.loads(out)
    assert stats["fused"] == 0 and stats["frames"] >= 0 and stats["vertices"] == 0
    assert {p.name: p.read_bytes() for p in tmp_path.glob("room*")} == saved
    assert b"element face" in saved["room.ply"][:400]


def test_a_window_scan_that_writes_nothing_leaves_an_earlier_screenshot(
    xvfb: str, tmp_path: Path
) -> None:
    """Trial AK (D2, LOST): a scan window that fused nothing ended "nothing was written",
    exit 2, yet wrote ``--screenshot``, with ``--overwrite`` over the user's earlier picture.
    The picture is written with the scan's own files, or not at all."""
    np.save(tmp_path / "zeros.npy", np.zeros((5, 120, 160), np.uint16))
    keep = tmp_path / "keep.png"
    keep.write_bytes(b"the user's own picture")
    argv = ["scan", "zeros.npy", "m.ply", "--screenshot", "keep.png", "--overwrite"]
    done = run_on_x(argv, xvfb, cwd=tmp_path, timeout=180)
    assert done.returncode == 2 and "nothing was written" in done.stderr, done.stderr
    assert keep.read_bytes() == b"the user's own picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png", "zeros.npy"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_keeps_what_the_window_fused(
    xvfb: str, tmp_path: Path, signum: signal.Signals
) -> None:
    """Trial AI (D3): SIGTERM or Ctrl-C in the scan window said only "interrupted" and threw
    the fused model away, while the batch scan writes it (README: "Ctrl-C keeps what was
    built"). The mesh and its companions are written, the line says so, --stats prints its
    figures, exit 130."""
    with _scan_window("demo:walk", "room.ply", tmp_path, xvfb) as (proc, window):
        wait_for_picture(window, xvfb, lambda shot: _lit(_model(shot)) > 0.4, timeout=90)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    stats = json.loads(out)
    assert stats["fused"] >= 1
    names = {p.name for p in tmp_path.glob("room*")}
    assert names == {"room.ply", "room-trajectory.txt", "room-params.json"}, (names, err)
    assert b"element face" in (tmp_path / "room.ply").read_bytes()[:400]
    line = err.strip().splitlines()[-1]
    assert line.startswith("depthview: interrupted: ") and "room.ply" in line, err
    assert f"from {stats['fused']} of " in line


def test_s_onto_a_full_disk_is_said_and_the_scan_goes_on(xvfb: str) -> None:
    """Trial AI (D2): ``s`` onto a full disk ended the window in an OSError traceback. The
    HUD says it and the scan goes on; quitting then fails in one line naming OUT, exit 2,
    nothing left on the disk (a real full disk: a small tmpfs)."""
    from _helpers_disk import fill, tmpfs

    with tmpfs("2m") as disk:
        fill(disk, 4096)
        with _scan_window("demo:walk", "room.ply", disk, xvfb) as (proc, window):
            wait_for_picture(window, xvfb, lambda shot: _lit(_model(shot)) > 0.4, timeout=90)
            paused = _pause(window, xvfb)
            press_key(window, "s", xvfb)
            wait_for_change(window, paused, xvfb, timeout=60)  # the HUD says it
            assert proc.poll() is None, proc.communicate()[1]
            press_key(window, "q", xvfb)
            out, err = proc.communicate(timeout=120)
        left = sorted(p.name for p in disk.iterdir())
    assert proc.returncode == 2, err
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("depthview: error: room.ply: cannot write (disk full)"), err
    assert out == "" and left == ["filler"]


@pytest.mark.parametrize(
    ("raw", "reason", "fuses"), [(800, "a lone surface", True), (0, "too few readings", False)]
)
def test_the_window_last_line_says_why_frames_were_not_fused(
    xvfb: str, tmp_path: Path, raw: int, reason: str, fuses: bool
) -> None:
    """Trial AM (D4): the window's last line said ``1 of 5 frames (3 lost)`` where the batch
    scan says ``(4 lost: 4 a lone surface)``: no reasons, and the frame the window skipped
    left unexplained; ``no frame could be fused (3 read)`` likewise. The window's line gives
    the reasons and the skipped frames, and they account for every frame read. A flat wall
    leaves the motion along it free (every frame after the first is lost as "a lone
    surface"); frames of zeros have no reading at all ("too few readings")."""
    np.save(tmp_path / "wall.npy", np.full((5, 480, 640), raw, np.uint16))
    done = run_on_x(["scan", "wall.npy", "m.ply", "--stats"], xvfb, cwd=tmp_path, timeout=180)
    line = done.stderr.strip().splitlines()[-1]
    if fuses:
        assert done.returncode == 0, done.stderr
        stats = json.loads(done.stdout)
        said = re.search(r"from (\d+) of 5 frames \((\d+) lost(?P<why>[:;] [^)]*)?\) -> ", line)
        assert said is not None, line
        fused, lost = int(said[1]), int(said[2])
        assert (fused, lost) == (1, stats["lost"]), line
        expected = {reason: lost, "skipped": stats["skipped"]}
    else:
        assert done.returncode == 2, done.stderr
        said = re.search(r"no frame could be fused \(5 read(?P<why>[:;] [^)]*)?\)", line)
        assert said is not None, line
        fused, expected = 0, {}
    counts = _counted((said["why"] or "")[2:])
    if fuses:
        assert counts == {k: n for k, n in expected.items() if n}, line
    else:
        assert set(counts) <= {reason, "skipped"} and counts.get(reason), line
    assert fused + sum(counts.values()) == 5, line


def _counted(said: str) -> dict[str, int]:
    """``"3 a lone surface; 1 skipped"`` as ``{"a lone surface": 3, "skipped": 1}``."""
    counts: dict[str, int] = {}
    for part in filter(None, re.split(r"; |, ", said)):
        n, what = part.split(" ", 1)
        counts[what] = int(n)
    return counts


def test_a_resized_window_shows_the_whole_picture_fitted(xvfb: str, tmp_path: Path) -> None:
    """Trial AA (D10): the scan window drew its 1280x520 picture unscaled into a resized
    window, cropped: at half size only the depth panel showed, the model and the HUD's
    tracking line were outside. It is fitted (scaled, letterboxed), as the viewer's: the
    paused window at half size is the full one scaled down."""
    from Xlib import display as xdisplay

    with _scan_window("demo:walk", "room.ply", tmp_path, xvfb) as (proc, window):
        wait_for_picture(window, xvfb, lambda shot: _lit(_model(shot)) > 0.4, timeout=90)
        full = _pause(window, xvfb).astype(float)
        d = xdisplay.Display(xvfb)
        try:
            d.create_resource_object("window", window).configure(width=640, height=260)
            d.sync()
        finally:
            d.close()
        wait_for_picture(window, xvfb, lambda shot: shot.shape[:2] == (260, 640), timeout=30)
        half = capture_stable(window, xvfb).astype(float)
        quit_program(proc, window, xvfb, timeout=120)
    assert full.shape[:2] == (520, 1280)
    shrunk = full.reshape(260, 2, 640, 2, 3).mean(axis=(1, 3))  # 2x2 blocks averaged
    assert np.abs(half - shrunk).mean() < 8, np.abs(half - shrunk).mean()


def test_hud_says_tracking_lost_in_red() -> None:
    scene = WalkScene(seed=6, width=160, height=120)
    scanner = Scanner()
    depth, rgb, _ = scene.render(0)
    scanner.add(Frame(depth=depth, video=rgb))
    figures, state, colour = hud_lines(scanner, paused=False)
    assert state == "tracking" and "fused 1  lost 0" in figures
    scanner.add(Frame(depth=np.full_like(depth, RAW_11BIT_INVALID), video=rgb))
    figures, state, colour = hud_lines(scanner, paused=False)
    assert state == "tracking lost: move back to the model" and colour[0] > 200 > colour[1]
    assert "fused 1  lost 1" in figures


def _scan_window(
    source: str, out: str, tmp_path: Path, xvfb: str, *more: str, title_prefix: bool = True
) -> AbstractContextManager[tuple[subprocess.Popen[str], int]]:
    """``depthview scan SOURCE OUT --stats MORE`` in a window on ``xvfb``, and the window
    (found by its full title, or by its start when ``title_prefix``)."""
    title = "depthview scan - " if title_prefix else f"depthview scan - {source}"
    argv = ["scan", source, out, "--stats", *more]
    return program_window(argv, xvfb, title, prefix=title_prefix, timeout=60, cwd=tmp_path)


def _pause(window: int, xvfb: str) -> np.ndarray:
    """Press space and wait until the HUD says paused (its green "tracking" gone: a slow
    frame may hold the window's loop past a capture), then the settled window."""
    press_key(window, "space", xvfb)
    wait_for_picture(window, xvfb, lambda shot: _green(shot).sum() == 0, timeout=30)
    return capture_stable(window, xvfb)


def _green(shot: np.ndarray) -> np.ndarray:
    """The HUD's pixels in the green of "tracking"."""
    hud = shot[PANEL[1] :, PANEL[0] :]
    return (hud[:, :, 1] > 180) & (hud[:, :, 0] < 140) & (hud[:, :, 2] < 140)


def _after(act: Callable[[], None], before: np.ndarray, window: int, xvfb: str) -> np.ndarray:
    """Do ``act`` (a key, a drag) and wait for the window to change from ``before`` (the
    loop may be busy for a moment), then the settled window."""
    act()
    wait_for_change(window, before, xvfb, timeout=30, every=0.1)
    return capture_stable(window, xvfb)


def _model(shot: np.ndarray) -> np.ndarray:
    return shot[: PANEL[1], PANEL[0] :].astype(int)


def _left(shot: np.ndarray) -> np.ndarray:
    return shot[: PANEL[1], : PANEL[0]].astype(int)


def _lit(panel: np.ndarray) -> float:
    """The share of a panel's pixels that are lit (not the dark background)."""
    return float((panel.max(axis=2) > 30).mean())


def _changed(a: np.ndarray, b: np.ndarray) -> float:
    """The share of pixels that differ by more than a little."""
    return float((np.abs(a - b).max(axis=2) > 10).mean())


def test_orbit_zoom_look_and_left_panel_on_screen(xvfb: str, tmp_path: Path) -> None:
    with _scan_window("demo:walk", "room.ply", tmp_path, xvfb) as (proc, window):
        wait_for_picture(window, xvfb, lambda shot: _lit(_model(shot)) > 0.4, timeout=90, every=1.0)
        coloured = _pause(window, xvfb)  # from now only the user's choices change the picture
        lit = _model(coloured).max(axis=2) > 30
        assert lit.mean() > 0.4, "the model panel never filled in"
        spread = np.ptp(_model(coloured), axis=2)
        assert (spread[lit] > 20).mean() > 0.05, "the model is not in its colours"

        shaded = _after(lambda: press_key(window, "c", xvfb), coloured, window, xvfb)
        spread = np.ptp(_model(shaded), axis=2)
        lit = _model(shaded).max(axis=2) > 30
        assert lit.mean() > 0.4 and (spread[lit] <= 2).mean() > 0.99, "the model is not grey"
        assert np.array_equal(_left(shaded), _left(coloured))

        colour_left = _after(lambda: press_key(window, "v", xvfb), shaded, window, xvfb)
        assert _changed(_left(colour_left), _left(shaded)) > 0.5, "the left panel is still depth"
        assert np.array_equal(_model(colour_left), _model(shaded))

        centre = (PANEL[0] + PANEL[0] // 2, PANEL[1] // 2)
        turn = (centre[0] + 120, centre[1] + 40)
        orbited = _after(
            lambda: drag_pointer(window, centre, turn, xvfb), colour_left, window, xvfb
        )
        assert _changed(_model(orbited), _model(shaded)) > 0.2, "the model did not turn"
        assert (_model(orbited).max(axis=2) > 30).mean() > 0.2, "the turned model is gone"
        assert np.array_equal(_left(orbited), _left(colour_left))

        # Away from the model: it shrinks in the panel.
        zoomed = _after(lambda: scroll(window, centre, -4, xvfb), orbited, window, xvfb)
        assert (_model(zoomed).max(axis=2) > 30).mean() < (_model(orbited).max(axis=2) > 30).mean()

        press_key(window, "z", xvfb)
        # The model is raycast small first and sharpened when the window is idle: on a busy
        # machine a settled picture can be the small one, so wait for the camera's own view.
        back = wait_for_picture(
            window, xvfb, lambda now: _changed(_model(now), _model(shaded)) == 0, timeout=30
        )
        differ = _changed(_model(back), _model(shaded))
        assert differ == 0, f"z did not bring the camera's view: {differ:.1%} of the model differs"
        out = quit_program(proc, window, xvfb, timeout=120)
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["scanned"] + stats["skipped"] == stats["frames"]
    assert stats["fused"] + stats["lost"] == stats["scanned"]
    assert stats["latency_p95_ms"] > 0


def _walk_then_blank(folder: Path, walked: int, blank: int) -> Path:
    """A fakenect recording of the demo room walked for ``walked`` frames, then ``blank``
    frames with no depth at all (the camera covered)."""
    scene = WalkScene(seed=0)
    frames = []
    for i in range(walked + blank):
        depth, _, _ = scene.render(min(i, walked - 1))
        if i >= walked:
            depth = np.full_like(depth, RAW_11BIT_INVALID)
        frames.append(Frame(depth=depth, timestamp=i / 30.0, index=i))
    record(frames, folder, depth_only=True, registration=Registration.default())
    return folder


def test_tracking_lost_in_red_on_screen(xvfb: str, tmp_path: Path) -> None:
    folder = _walk_then_blank(tmp_path / "covered", walked=90, blank=150)
    seen: dict[str, float] = {}
    with _scan_window(str(folder), "room.ply", tmp_path, xvfb) as (proc, window):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                hud = capture(window, xvfb)[PANEL[1] :, PANEL[0] :].astype(int)
            except Exception:  # the window closed at the recording's end
                break
            red = (hud[:, :, 0] > 200) & (hud[:, :, 1] < 80) & (hud[:, :, 2] < 80)
            green = (hud[:, :, 1] > 180) & (hud[:, :, 0] < 140) & (hud[:, :, 2] < 140)
            if green.sum() > 20:
                seen.setdefault("green", time.monotonic())
            if red.sum() > 40:
                seen.setdefault("red", time.monotonic())
                break
            time.sleep(0.2)
        out, err = proc.communicate(timeout=120)
    assert "red" in seen, f"no red 'tracking lost' in the HUD on screen ({seen})"
    assert seen.get("green", np.inf) < seen["red"], "it never showed tracking first"
    assert proc.returncode == 0, err
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["fused"] >= 1 and stats["lost"] >= 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["orbit", "zoom"]), st.integers(-400, 400), st.integers(-9, 9)),
        max_size=12,
    ),
    st.integers(0, 300),
)
def test_orbit_is_rigid_and_z_returns_to_the_camera(
    moves: list[tuple[str, int, int]], index: int
) -> None:
    """Any orbit and zoom keeps the eye a rigid pose; ``z`` gives back the camera's own."""
    pose = walk_pose(index)
    state = scan_state.ScanViewState()
    assert np.array_equal(state.eye_pose(pose), pose)
    for kind, a, b in moves:
        if kind == "orbit":
            scan_state.orbit(state, (a, b), pose, 1.5)
        else:
            scan_state.zoom(state, b, pose, 1.5)
        eye = state.eye_pose(pose)
        rotation = eye[:3, :3]
        assert np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-9)
        assert np.isclose(np.linalg.det(rotation), 1.0)
        pivot = pose @ np.array([0, 0, 1.5, 1.0])
        seen_at = np.linalg.inv(eye) @ pivot  # the pivot stays straight ahead of the eye
        assert np.allclose(seen_at[:2], 0, atol=1e-9) and seen_at[2] > 0
    scan_state.camera_view(state)
    assert np.array_equal(state.eye_pose(pose), pose)


def test_frames_ends_the_window_after_n_source_frames(xvfb: str, tmp_path: Path) -> None:
    """``--frames N`` with a window: the source hands over N frames, each scanned or
    skipped (the counts reconcile), and every scanned frame's latency is timed."""
    folder = _walk_then_blank(tmp_path / "walk", walked=60, blank=0)
    command = ["scan", str(folder), "room.ply", "--stats", "--frames", "30"]
    proc = run_on_x(command, xvfb, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    assert stats["frames"] == 30
    assert stats["scanned"] + stats["skipped"] == 30
    assert stats["fused"] + stats["lost"] == stats["scanned"] >= 1
    assert stats["latency_p95_ms"] > 0
    assert stats["startup_s"] > 0  # trial AC: the window's runs said 0.0 (the window opens first)


@settings(max_examples=20, deadline=None)
@given(
    st.integers(0, 6),
    st.one_of(st.none(), st.integers(0, 8)),
    st.lists(st.floats(0.0, 0.02), max_size=20),
)
def test_newest_frames_come_in_order_counted_and_the_last_kept(
    length: int, limit: int | None, pauses: list[float]
) -> None:
    """The window's reader (a real demo source, unpaced): whatever the window's pace, it
    takes frames in the source's order, none twice, the source's last frame is never
    dropped, and ``read`` counts every frame handed over (at most ``--frames``)."""
    from depthview.sources.demo import DemoSource
    from depthview.viewer.scan_window import _Newest

    newest = _Newest(DemoSource(frames=length, realtime=False), limit)
    taken: list[int] = []
    try:
        for pause in pauses:
            time.sleep(pause)
            got = newest.take()
            if got is not None:
                taken.append(got[0].index)
                newest.first_shown()  # as the window says once it showed a frame
        newest.first_shown()
        deadline = time.monotonic() + 60
        while not newest.ended and time.monotonic() < deadline:
            time.sleep(0.01)
        got = newest.take()
        if got is not None:
            taken.append(got[0].index)
    finally:
        newest.stop()
    expected = length if limit is None else min(length, limit)
    assert newest.ended and newest.error is None
    assert newest.read == expected
    assert taken == sorted(set(taken)) and len(taken) <= expected
    assert taken[-1:] == ([expected - 1] if expected else [])


def test_the_reader_holds_the_first_frame_until_the_window_showed_it() -> None:
    """The first frame's scan and draw may compile; meanwhile a recording must not run on
    (the next frame scanned would be far from the model, and tracking lost for good):
    the reader reads one frame, waits for ``first_shown``, then reads on."""
    from depthview.sources.demo import DemoSource
    from depthview.viewer.scan_window import _Newest

    newest = _Newest(DemoSource(frames=5, realtime=False), None)
    try:
        time.sleep(0.5)
        assert newest.read == 1 and not newest.ended
        first = newest.take()
        assert first is not None and first[0].index == 0
        newest.first_shown()
        deadline = time.monotonic() + 60
        while not newest.ended and time.monotonic() < deadline:
            time.sleep(0.01)
        assert newest.read == 5
    finally:
        newest.stop()


def test_the_model_panel_is_found_where_the_fitted_picture_shows_it() -> None:
    """Drags and the wheel act over the model panel wherever a resized window shows it."""
    from depthview.viewer.scan_window import _on_model

    assert _on_model((700, 100), (1280, 520)) and not _on_model((600, 100), (1280, 520))
    assert _on_model((350, 50), (640, 260)) and not _on_model((300, 50), (640, 260))
    assert not _on_model((350, 250), (640, 260))  # the HUD below it
    # a tall window: the picture letterboxed with bars above and below
    assert not _on_model((350, 10), (640, 600)) and _on_model((350, 200), (640, 600))


def test_a_model_without_colour_is_shaded_in_the_colour_view() -> None:
    """Trial AQ (D4): a depth-only scan's model showed as a flat grey silhouette in the
    window's colour view (the raycast gave uncoloured surface the mesh's grey, which the
    window took for a colour). The raycast leaves it black, so the window shades it."""
    from depthview.viewer.scan_window import model_picture

    scene = WalkScene(seed=2)
    scanner = Scanner(first_pose=walk_pose(0))
    for i in range(3):
        depth, _, _ = scene.render(2 * i)
        scanner.add(Frame(depth=depth, timestamp=i / 15, index=i))
    k = scanner.last_input[2]
    view = scanner.view(None, k, 160, 120)
    hit = ~np.isnan(view.vertex[..., 0])
    assert hit.mean() > 0.5 and not view.rgb.any()
    shaded = model_picture(view, False)
    np.testing.assert_array_equal(model_picture(view, True), shaded)
    assert shaded[hit].std() > 5  # the shape shows: not one flat grey


def test_s_after_a_reset_keeps_the_earlier_scan(xvfb: str, tmp_path: Path) -> None:
    """Trial AQ (D7, LOST): ``r`` then ``s`` wrote an empty mesh (0 vertices) over an
    earlier scan of OUT, said "saved", and the end said "the model saved before stays".
    A model with no surface is not saved: the earlier scan stays as it was."""
    first = subprocess.run(
        [sys.executable, "-m", "depthview", "scan", "demo:walk", "room.ply", "--no-window",
         "--quiet", "--frames", "4"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in tmp_path.glob("room*")}
    with _scan_window("demo:walk", "room.ply", tmp_path, xvfb, "--overwrite") as (proc, window):
        wait_for_picture(window, xvfb, lambda shot: _lit(_model(shot)) > 0.4, timeout=90)
        _pause(window, xvfb)
        press_key(window, "r", xvfb)
        time.sleep(0.5)
        press_key(window, "s", xvfb)
        time.sleep(1.0)
        press_key(window, "q", xvfb)
        _, err = proc.communicate(timeout=120)
    assert {p.name: p.read_bytes() for p in tmp_path.glob("room*")} == before
    assert proc.returncode == 2 and "nothing was written" in err, err
    assert "saved before stays" not in err


def test_a_screenshot_that_cannot_be_written_says_the_scan_was(xvfb: str, tmp_path: Path) -> None:
    """Trial AQ (D10): ``--screenshot`` onto a full disk ended in "cannot write (disk full)"
    alone, while the scan's files had been written (an earlier scan of OUT replaced,
    unsaid). The line says which files were written; they are whole."""
    from _helpers_disk import fill, tmpfs

    with tmpfs("2m") as disk:
        fill(disk, 1024)
        with _scan_window(
            "demo:walk", "room.ply", tmp_path, xvfb, "--frames", "8", "--screenshot",
            str(disk / "s.png"),
        ) as (proc, _):  # fmt: skip
            _, err = proc.communicate(timeout=300)
        assert not (disk / "s.png").exists()
    assert proc.returncode == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(
        f"depthview: error: --screenshot {disk / 's.png'}: cannot write (disk full)"
    )
    assert last.endswith(
        "; the scan's files are written: room.ply, room-trajectory.txt, room-params.json"
    )
    assert b"element face" in (tmp_path / "room.ply").read_bytes()[:400]
