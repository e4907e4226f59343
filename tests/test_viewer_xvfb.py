"""The viewer in a real X11 window under Xvfb: the picture it draws (``--screenshot``)
matches ``dv.colorize`` pixel for pixel. That this picture is what the X server shows is
checked in ``test_viewer_screen.py``. Fails (not skips) without Xvfb."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import depthview as dv
from _helpers_xcapture import program_window, quit_program, run_on_x, wait_for_picture
from _helpers_xvfb import start_xvfb
from depthview.sources import sample

pytestmark = pytest.mark.xvfb
xvfb = pytest.fixture(start_xvfb)


@pytest.mark.parametrize("layout", [None, "both"])
def test_real_window_matches_colorize(
    xvfb: str, person_recording: Path, tmp_path: Path, layout: str | None
) -> None:
    shot = tmp_path / "shot.png"
    args = ["--frames", "3", "--no-hud", "--stats", "--screenshot", str(shot)]
    layout_args = ["--layout", layout] if layout else []
    proc = run_on_x(["view", str(person_recording), *args, *layout_args], xvfb, timeout=60)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    assert stats["frames_shown"] == 3
    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("RGB"))
    # This recording has no video: by default the window shows depth alone.
    assert pixels.shape == ((480, 1280, 3) if layout == "both" else (480, 640, 3))
    with dv.open(str(person_recording), realtime=False) as rec:
        rec.seek(stats["last_frame_index"])
        frame = rec.read()
    expected = dv.colorize(frame.depth)
    assert np.array_equal(pixels[:, :640], expected)
    assert not np.array_equal(pixels[:, :640], dv.colorize(frame.depth, "turbo"))
    if layout == "both":
        assert (pixels[:, 640:] == 24).all()  # the empty video panel


@pytest.mark.parametrize("size", [(960, 1280), (12, 16)])
def test_colour_of_another_size_is_scaled_into_its_panel(
    xvfb: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    """A dataset whose colour image is not the depth's size (trial G: HD colour beside VGA
    depth ended the viewer with a traceback): the video panel shows it scaled to the
    panel. The colour is a grid of flat blocks, so the block centres are the same colour
    whatever the scaler's rounding; they are checked against the image itself."""
    folder = tmp_path / "scene"
    folder.mkdir()
    depth = np.full((480, 640), 1500, np.uint16)
    Image.fromarray(depth).save(folder / "frame-000000.depth.png")
    rng = np.random.default_rng(5)
    blocks = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    h, w = size
    colour = np.repeat(np.repeat(blocks, -(-h // 4), axis=0), -(-w // 4), axis=1)[:h, :w]
    Image.fromarray(np.ascontiguousarray(colour)).save(folder / "frame-000000.color.png")
    shot = tmp_path / "shot.png"
    argv = ["view", str(folder), "--layout", "both", "--frames", "2", "--no-hud"]
    proc = run_on_x([*argv, "--screenshot", str(shot)], xvfb, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    with Image.open(shot) as im:
        panel = np.asarray(im.convert("RGB"))[:, 640:]
    assert panel.shape == (480, 640, 3)
    for by in range(4):
        for bx in range(4):
            centre = panel[by * 120 + 60, bx * 160 + 80]
            assert tuple(centre) == tuple(blocks[by, bx]), (by, bx)


@pytest.mark.parametrize("points", ["", "gpu"])  # a plain SDL window, an OpenGL one
def test_a_window_destroyed_by_another_client_ends_as_closed(
    xvfb: str, tmp_path: Path, points: str
) -> None:
    """Trial M: R, then the window destroyed by another X client (``xdotool windowclose``
    is ``XDestroyWindow``) ended the viewer with exit 1 and Xlib's raw "X Error of failed
    request: BadWindow ... XInputExtension". It ends as a closed window: the recording is
    closed and readable, one line says why, exit 0."""
    import time

    from Xlib import XK, X
    from Xlib import display as xdisplay
    from Xlib.ext import xtest

    from _helpers_xcapture import program_window, x_env

    out = tmp_path / "rc"
    env = {**x_env(xvfb), "DEPTHVIEW_POINTS": points}
    with program_window(
        ["view", "sample", "--snapshot-dir", str(out)], xvfb, "depthview - sample", env=env
    ) as (
        proc,
        window,
    ):
        d = xdisplay.Display(xvfb)
        try:
            w = d.create_resource_object("window", window)
            d.set_input_focus(w, X.RevertToParent, 0)
            shift = d.keysym_to_keycode(XK.string_to_keysym("Shift_L"))
            r = d.keysym_to_keycode(XK.string_to_keysym("r"))
            for kind, code in ((X.KeyPress, shift), (X.KeyPress, r)):
                xtest.fake_input(d, kind, code)
            for code in (r, shift):
                xtest.fake_input(d, X.KeyRelease, code)
            d.sync()
            end = time.monotonic() + 20
            index = None
            while time.monotonic() < end:  # until the recording holds frames
                found = list(out.glob("depthview-*/INDEX.txt"))
                if found and found[0].stat().st_size > 0:
                    index = found[0]
                    break
                time.sleep(0.1)
            assert index is not None, "R started no recording"
            w.destroy()  # what xdotool windowclose does
            d.sync()
        finally:
            d.close()
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert stderr.strip().splitlines() == [
        "depthview: the window was destroyed by another X client"
    ], stderr
    assert f"recording: {index.parent}" in stdout
    with dv.open(str(index.parent), realtime=False) as rec:
        assert rec.length == len(
            [line for line in index.read_text().splitlines() if line.startswith("d-")]
        )
        assert rec.length > 0


def test_fullscreen_opens_a_window_the_size_of_the_screen(xvfb: str, tmp_path: Path) -> None:
    """Trial P (P3): ``view --fullscreen`` asked SDL for a video mode of the window's size
    (1280x480), which the screen does not have: the window stayed 1280x480 in the middle of
    the screen. Read from the X server: the window is the screen (1600x1000 here) at its
    corner, the 4:3 depth picture letterboxed in it."""
    from Xlib import display as xdisplay

    rec = sample.write_to(tmp_path / "rec")
    args = ["view", str(rec), "--layout", "depth", "--fullscreen", "--palette", "grayscale"]
    with program_window(args, xvfb, "depthview - ", prefix=True) as (proc, window):
        shown = wait_for_picture(window, xvfb, lambda p: (p.max(axis=2) > 0).mean() > 0.5, 30)
        d = xdisplay.Display(xvfb)
        try:
            w = d.create_resource_object("window", window)
            g = w.get_geometry()
            at = w.translate_coords(d.screen().root, 0, 0)
            size, corner = (g.width, g.height), (-at.x, -at.y)
        finally:
            d.close()
        quit_program(proc, window, xvfb)
    assert size == (1600, 1000) and corner == (0, 0), (size, corner)
    lit = shown.max(axis=2) > 0
    left, right = (1600 - 1333) // 2, (1600 + 1333) // 2  # 4:3 at 1000 high, centred
    assert lit[:, left + 2 : right - 2].mean() > 0.5
    assert not lit[500:, : left - 2].any() and not lit[500:, right + 2 :].any()


_REFUSED_ONCE = """
import os, pygame
from depthview.viewer import present
real, calls = pygame.display.init, []
def init():
    calls.append(1)
    if len(calls) != 2:
        return real()
    shown = os.environ["DISPLAY"]  # the display opened again after the OpenGL probe:
    os.environ["DISPLAY"] = ":1999"  # the X server refuses it, this once
    try:
        return real()
    finally:
        os.environ["DISPLAY"] = shown
pygame.display.init = init
present.Presenter((320, 240), False, "depthview - refused once")
print(len(calls), pygame.display.get_driver())
"""


def test_a_display_refused_for_a_moment_is_asked_again_not_replaced(xvfb: str) -> None:
    """Trial P (P3): a successful run printed "error: XDG_RUNTIME_DIR is invalid or not set
    in the environment." When the X server refused the display opened again after the
    OpenGL probe, SDL went on to Wayland (whose library prints that line) and then to its
    offscreen driver: a window nobody sees. The refusal is made here by pointing DISPLAY
    at a display nobody serves for that one call (a stand-in: a busy server's refusal
    cannot be had on demand), without SDL_VIDEODRIVER, as users run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDL_", "DEPTHVIEW_"))}
    env["DISPLAY"] = xvfb
    proc = subprocess.run(
        [sys.executable, "-c", _REFUSED_ONCE], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    calls, driver = proc.stdout.split()[-2:]
    assert driver == "x11" and int(calls) >= 3, proc.stdout
    assert "error" not in proc.stderr, proc.stderr


def test_question_mark_typed_as_shift_slash_lists_the_keys(xvfb: str) -> None:
    """Trial R D1: ``?`` typed as a user types it on a US keyboard, Shift+/ sent through
    XTest, shows the key list: the very picture F1 (the other help key) shows, and F1
    takes it away again, back to the picture before. (The trial saw "upright" and "cannot
    tilt": its shell had expanded an unquoted ``?`` to the files ``o`` and ``w``.)"""
    from _helpers_xcapture import capture_stable, press_chord, press_key, wait_for_change

    with program_window(["view", "demo"], xvfb, "depthview - ", prefix=True) as (proc, window):
        wait_for_picture(window, xvfb, lambda now: bool(now.any()), timeout=20)  # drawn
        press_key(window, "space", xvfb)  # paused: one picture
        press_key(window, "h", xvfb)  # no HUD: nothing changes with time
        before = capture_stable(window, xvfb)
        press_chord(window, ["Shift_L", "slash"], xvfb)
        wait_for_change(window, before, xvfb, timeout=10)
        helped = capture_stable(window, xvfb)
        assert not np.array_equal(helped, before)
        press_key(window, "F1", xvfb)
        wait_for_change(window, helped, xvfb, timeout=10)
        assert np.array_equal(capture_stable(window, xvfb), before)
        press_key(window, "F1", xvfb)
        wait_for_change(window, before, xvfb, timeout=10)
        assert np.array_equal(capture_stable(window, xvfb), helped)
        quit_program(proc, window, xvfb)


def _geometry(window: int, display: str) -> tuple[int, int, int, int]:
    """(width, height, x, y) of ``window`` on the screen, as the X server has it."""
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        w = d.create_resource_object("window", window)
        g = w.get_geometry()
        at = w.translate_coords(d.screen().root, 0, 0)
        return g.width, g.height, -at.x, -at.y
    finally:
        d.close()


def _wait_for_geometry(title: str, display: str, size: tuple[int, int]) -> int:
    """The window named ``title`` once it is ``size`` at the screen's corner or anywhere
    (fullscreen: at the corner); fails after 20 s with the last geometry seen."""
    import time

    from _helpers_xcapture import find_window

    seen: tuple[int, int, int, int] | None = None
    end = time.monotonic() + 20
    while time.monotonic() < end:
        window = find_window(title, display, prefix=True)
        seen = _geometry(window, display)
        if seen[:2] == size:
            return window
        time.sleep(0.2)
    raise AssertionError(f"expected a {size[0]}x{size[1]} window, got {seen}")


def test_f11_makes_the_window_the_screen_and_back(xvfb: str, tmp_path: Path) -> None:
    """Trial U (D1): F11 made the X window again at its old size (pygame's
    ``toggle_fullscreen`` without a window manager) and printed "re-creating window in
    toggle_fullscreen" twice. Now F11 does what ``--fullscreen`` does, read from the X
    server: the window is the screen (1600x1000 here) at its corner; F11 again gives the
    window its size back; nothing is printed but the snapshot-free run's own lines."""
    from _helpers_xcapture import press_key

    rec = sample.write_to(tmp_path / "rec")
    args = ["view", str(rec), "--layout", "depth", "--palette", "grayscale"]
    with program_window(args, xvfb, "depthview - ", prefix=True) as (proc, window):
        wait_for_picture(window, xvfb, lambda p: (p.max(axis=2) > 0).mean() > 0.5, 30)
        assert _geometry(window, xvfb)[:2] == (640, 480)
        press_key(window, "F11", xvfb)
        window = _wait_for_geometry("depthview - ", xvfb, (1600, 1000))
        assert _geometry(window, xvfb)[2:] == (0, 0)
        shown = wait_for_picture(window, xvfb, lambda p: p.shape[:2] == (1000, 1600), 30)
        lit = shown.max(axis=2) > 0
        left, right = (1600 - 1333) // 2, (1600 + 1333) // 2  # 4:3 at 1000 high, centred
        assert lit[:, left + 2 : right - 2].mean() > 0.5
        press_key(window, "F11", xvfb)
        window = _wait_for_geometry("depthview - ", xvfb, (640, 480))
        press_key(window, "q", xvfb)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "re-creating" not in err and "warning" not in err, err
