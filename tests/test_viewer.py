"""The viewer driven event by event under SDL's dummy driver (conftest sets it)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pygame
import pytest

import depthview as dv
from _helpers_sources import write_recording
from _helpers_viewer import press, wait_for
from depthview.cli import build_parser, main
from depthview.errors import SourceError
from depthview.frame import Frame, LedMode, VideoFormat
from depthview.sources.base import Source
from depthview.sources.depth_png import read_header
from depthview.viewer import Layout, Viewer, ViewerFailed, ViewerOptions, overlays, run_viewer


def make_frame(i: int, *, ir: bool = False) -> Frame:
    """Frame i: a depth ramp shifted by i (distinct per frame), video a gradient."""
    yy, xx = np.mgrid[0:480, 0:640]
    depth = ((xx + yy + 7 * i) % 1100 + 300).astype(np.uint16)
    depth[:20, :20] = 2047
    if ir:
        video: Any = (xx % 256).astype(np.uint8)
    else:
        video = np.stack([xx % 256, yy % 256, np.full_like(xx, i % 256)], axis=2).astype(np.uint8)
    return Frame(
        depth=depth,
        video=video,
        index=i,
        timestamp=i / 30,
        video_format=VideoFormat.IR_8BIT if ir else VideoFormat.RGB,
        accel=(0.0, 9.81, 0.0),
        tilt_deg=0.0,
    )


class MemorySource(Source):
    """A seekable in-memory recording of ``n`` frames, paced at ~100 Hz."""

    name = "memory"

    def __init__(self, n: int = 8, ir: bool = False) -> None:
        self.frames = [make_frame(i, ir=ir) for i in range(n)]
        self.pos = 0
        self.closed = False

    def read(self) -> Frame:
        if self.pos >= len(self.frames):
            raise StopIteration
        time.sleep(0.01)
        frame = self.frames[self.pos]
        self.pos += 1
        return frame

    def close(self) -> None:
        self.closed = True

    @property
    def seekable(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(self.frames)

    def seek(self, index: int) -> None:
        self.pos = min(index, len(self.frames) - 1)

    @property
    def position(self) -> int:
        return self.pos


class ControlSource(MemorySource):
    """Remembers every control call, as a live Kinect would obey them; like every source it
    refuses video formats it does not list."""

    name = "controls"
    video_formats = (VideoFormat.RGB, VideoFormat.IR_8BIT)

    def __init__(self) -> None:
        super().__init__(n=1000)
        self.calls: list[tuple[str, object]] = []

    def set_tilt(self, degrees: float) -> None:
        self.calls.append(("tilt", degrees))

    def set_led(self, mode: LedMode) -> None:
        self.calls.append(("led", mode))

    def set_video_format(self, fmt: VideoFormat) -> None:
        self.calls.append(("video_format", self._check_video_format(fmt)))

    def set_flag(self, flag: str, on: bool) -> None:
        self.calls.append((flag, on))

    def set_ir_brightness(self, value: int) -> None:
        self.calls.append(("ir", value))

    def get_ir_brightness(self) -> int:
        return 20


class FailingSource(Source):
    name = "broken"

    def read(self) -> Frame:
        raise SourceError("broken: cable unplugged")

    def close(self) -> None:
        pass


class BlockingSource(Source):
    """Never delivers a frame until closed."""

    name = "stuck"

    def __init__(self) -> None:
        self.released = threading.Event()

    def read(self) -> Frame:
        self.released.wait()
        raise StopIteration

    def close(self) -> None:
        self.released.set()


@pytest.fixture
def viewers(viewers: Any) -> Any:
    """conftest's, with a ``MemorySource`` when no source is given."""
    return lambda source=None, **kw: viewers(source if source is not None else MemorySource(), **kw)


def hud(viewer: Viewer) -> list[str]:
    """The HUD's lines as the viewer would show them now."""
    return [t for t, _ in viewer.overlays.hud_lines(viewer.state, viewer.info())]


def placed(viewer: Viewer) -> list[str]:
    """Names of the overlays last drawn."""
    return [p.name for p in viewer.placed]


def window_rgb(viewer: Viewer) -> np.ndarray:
    """(H, W, 3) RGB of what the window shows."""
    return pygame.surfarray.array3d(viewer.display).transpose(1, 0, 2)


def test_no_hud_depth_panel_is_exactly_colorize(viewers: Any) -> None:
    v = viewers(hud=False)
    wait_for(v, lambda: v.frame is not None)
    pixels = window_rgb(v)
    assert pixels.shape == (480, 1280, 3)
    assert np.array_equal(pixels[:, :640], dv.colorize(v.frame.depth))
    assert np.array_equal(pixels[:, 640:], v.frame.video)


def test_palette_keys_cycle_and_colours_follow(viewers: Any) -> None:
    v = viewers(hud=False)
    wait_for(v, lambda: v.frame is not None)
    assert v.state.palette == "glview"
    press(v, "c")
    assert v.state.palette == dv.PALETTES[1]
    press(v, "C")
    press(v, "C")
    assert v.state.palette == dv.PALETTES[-1]
    press(v, "]")  # a fixed range, 0.6-4.5 m: the panel is exactly dv.colorize's
    expected = dv.colorize(v.frame.depth, v.state.palette, near=0.6, far=4.5)
    assert np.array_equal(window_rgb(v)[:, :640], expected)


def test_range_keys(viewers: Any) -> None:
    v = viewers()
    wait_for(v, lambda: v.frame is not None)
    press(v, "]")
    assert (v.state.near, v.state.far) == (None, None) and "no range" in v.state.message  # glview
    press(v, "c")
    press(v, "]")
    assert (v.state.near, v.state.far) == (0.6, 4.5)
    press(v, "[")
    press(v, "[")
    assert v.state.near == 0.4
    press(v, "}")
    assert v.state.far == 4.6
    press(v, "{")
    press(v, "{")
    assert v.state.far == 4.4
    assert overlays.range_text(v.state) == "0.40-4.40 m"
    press(v, "a")
    assert (v.state.near, v.state.far) == (None, None)
    assert "equalised" in overlays.range_text(v.state)


def test_layout_hud_help_and_opacity(viewers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # No OpenGL here: the 3D layouts say so; their drawing is tested under Xvfb, in a
    # process that has not started Mesa's EGL under another window system first.
    monkeypatch.setenv("DEPTHVIEW_GL", "none")
    v = viewers()
    wait_for(v, lambda: v.frame is not None)
    assert v.display.get_size() == (1280, 480)
    press(v, "v")
    assert v.state.layout is Layout.DEPTH and v.display.get_size() == (640, 480)
    press(v, "v")
    assert v.state.layout is Layout.VIDEO
    assert np.array_equal(window_rgb(v)[200:, :], v.frame.video[200:])  # below the HUD
    press(v, "v")
    assert v.state.layout is Layout.OVERLAY
    press(v, ".")
    assert v.state.opacity == 0.6
    press(v, "v")
    assert v.state.layout is Layout.CLOUD and v.display.get_size() == (640, 480)
    press(v, "v")
    assert v.state.layout is Layout.CLOUD_VIDEO and v.display.get_size() == (1280, 480)
    press(v, "v")
    assert v.state.layout is Layout.BOTH
    assert v.state.hud and "hud" in placed(v)
    press(v, "h")
    assert not v.state.hud and "hud" not in placed(v)
    press(v, "h")
    press(v, "?")
    assert v.state.help and "help" in placed(v) and "hud" not in placed(v)  # replaces it
    press(v, "", pygame.K_F1)
    assert not v.state.help


def test_pause_step_and_restart_on_a_recording_like_source(viewers: Any) -> None:
    v = viewers()
    press(v, " ")
    assert v.reader.paused
    wait_for(v, lambda: v.frame is not None)
    time.sleep(0.1)
    v.step()
    shown = v.frame.index
    press(v, "", pygame.K_RIGHT)
    wait_for(v, lambda: v.frame.index == shown + 1)
    press(v, "", pygame.K_RIGHT)
    wait_for(v, lambda: v.frame.index == shown + 2)
    press(v, "", pygame.K_LEFT)
    wait_for(v, lambda: v.frame.index == shown + 1)
    press(v, "", pygame.K_HOME)
    wait_for(v, lambda: v.frame.index == 0)
    time.sleep(0.1)
    v.step()
    assert v.frame.index == 0  # still paused
    assert any("PAUSED" in t for t in hud(v))


def test_step_on_the_real_recording(viewers: Any, person_recording: Path) -> None:
    v = viewers(dv.open(str(person_recording)))
    press(v, " ")
    press(v, "", pygame.K_HOME)
    wait_for(v, lambda: v.frame is not None and v.frame.index == 0)
    press(v, "", pygame.K_RIGHT)
    press(v, "", pygame.K_RIGHT)
    wait_for(v, lambda: v.frame.index == 2)
    press(v, "", pygame.K_LEFT)
    wait_for(v, lambda: v.frame.index == 1)
    assert "frame 2/20" in hud(v)[0]


def test_right_at_the_last_frame_of_a_looping_recording_says_so(
    viewers: Any, person_recording: Path
) -> None:
    """Trial R D7: paused at the last frame of a looping recording, Right did nothing and
    said nothing; Left at the first frame alike. Now each says which end it is."""
    v = viewers(dv.open(str(person_recording), loop=True))
    press(v, " ")
    press(v, "", pygame.K_HOME)
    wait_for(v, lambda: v.frame is not None and v.frame.index == 0)
    press(v, "", pygame.K_LEFT)
    assert v.state.message == "frame 1/20 is the first frame"
    for _ in range(19):
        press(v, "", pygame.K_RIGHT)
    wait_for(v, lambda: v.frame.index == 19)
    assert "frame 20/20" in hud(v)[0]
    press(v, "", pygame.K_RIGHT)
    assert v.state.message == "frame 20/20 is the last frame"
    time.sleep(0.1)
    v.step()
    assert v.frame.index == 19 and "frame 20/20" in hud(v)[0]


def test_snapshot_files_are_written_and_readable(viewers: Any, tmp_path: Path) -> None:
    from PIL import Image

    v = viewers()
    press(v, " ")  # paused, so the frame saved is the frame still shown afterwards
    wait_for(v, lambda: v.frame is not None)
    time.sleep(0.05)
    v.step()
    press(v, "p")
    paths = {p.suffix + ("-depth" if p.stem.endswith("-depth") else ""): p for p in v.snapshots}
    assert len(v.snapshots) == 3 and all(p.parent == tmp_path for p in v.snapshots)
    window = pygame.image.load(str(paths[".png"]))
    assert window.get_size() == (1280, 480)
    with np.load(paths[".npz-depth"]) as saved:  # the depth as the frame holds it, marked
        assert np.array_equal(saved["depth"], v.frame.depth)
        assert int(saved["depth_format"]) == int(v.frame.depth_format)
    # the 16-bit PNG holds millimetres (libfreenect's table) and says so, as export's png16
    assert v.frame.depth_format is dv.DepthFormat.RAW_11BIT
    assert read_header(paths[".png-depth"]).marker == "MM"
    with Image.open(paths[".png-depth"]) as im:
        want = dv.to_mm(v.frame.depth, v.source.registration)
        assert np.array_equal(np.asarray(im).astype(np.uint16), want)


def test_unsupported_controls_are_reported(viewers: Any) -> None:
    v = viewers()
    wait_for(v, lambda: v.frame is not None)
    for char in "wx3febrn+":
        v.state.message = ""
        press(v, char)
        assert v.state.message.startswith("unsupported: memory cannot"), (char, v.state.message)
        assert "messages" in placed(v)


def test_controls_reach_a_source_that_has_them(viewers: Any) -> None:
    src = ControlSource()
    v = viewers(src)
    for _ in range(35):
        press(v, "w")
    press(v, "x")
    press(v, "s")
    press(v, "4")
    press(v, "f")  # the source has RGB and IR: f goes to IR (never to YUV, which it lacks)
    press(v, "f")  # and back
    press(v, "e")
    press(v, "e")
    press(v, "n")
    press(v, "+")
    press(v, "m")
    assert src.calls[34] == ("tilt", 30.0)  # clamped
    assert src.calls[35:] == [
        ("tilt", 29.0),
        ("tilt", 0.0),
        ("led", LedMode.BLINK_GREEN),
        ("video_format", VideoFormat.IR_8BIT),
        ("video_format", VideoFormat.RGB),
        ("auto_exposure", True),
        ("auto_exposure", False),
        ("near_mode", True),
        ("ir", 21),
        ("mirror_depth", True),
        ("mirror_video", True),
    ]
    assert v.state.mirror and not v.state.flip  # the source mirrors, the viewer need not


def test_mirror_in_the_viewer_when_the_source_cannot(viewers: Any) -> None:
    v = viewers(hud=False)
    press(v, " ")
    wait_for(v, lambda: v.frame is not None)
    press(v, "m")
    assert v.state.flip
    pixels = window_rgb(v)
    assert np.array_equal(pixels[:, :640], dv.colorize(v.frame.depth[:, ::-1].copy()))
    assert np.array_equal(pixels[:, 640:], v.frame.video[:, ::-1])


def test_probe_follows_the_mouse_and_pins(viewers: Any) -> None:
    v = viewers()
    press(v, " ")
    wait_for(v, lambda: v.frame is not None)
    pygame.event.post(
        pygame.event.Event(pygame.MOUSEMOTION, pos=(300, 200), rel=(0, 0), buttons=(0, 0, 0))
    )
    v.step()
    raw = int(v.frame.depth[200, 300])
    metres = float(dv.to_metres(v.frame.depth)[200, 300])
    # X, Y, Z from the pinhole with the Kinect's intrinsics, computed here by hand.
    x = (300 - 339.5) / 594.21 * metres
    y = (200 - 242.7) / 591.04 * metres
    expected = f"probe (300, 200) raw {raw} = {metres:.3f} m  X {x:+.3f} Y {y:+.3f} Z {metres:.3f}"
    assert expected in hud(v)
    press(v, "i")
    assert v.state.pinned == (300, 200)
    pygame.event.post(
        pygame.event.Event(pygame.MOUSEMOTION, pos=(5, 5), rel=(0, 0), buttons=(0, 0, 0))
    )
    v.step()
    lines = hud(v)
    assert "probe (5, 5) raw 2047 no reading" in lines
    assert any(t.startswith("pin (300, 200)") for t in lines)
    # The pointer leaves the window (SDL says so): its probe goes, the pin stays.
    pygame.event.post(pygame.event.Event(pygame.WINDOWLEAVE))
    v.step()
    lines = hud(v)
    assert not any(t.startswith("probe") for t in lines)
    assert any(t.startswith("pin (300, 200)") for t in lines)


def test_ir_video_is_grey(viewers: Any) -> None:
    v = viewers(MemorySource(ir=True), hud=False)
    wait_for(v, lambda: v.frame is not None)
    pixels = window_rgb(v)[:, 640:]
    assert np.array_equal(pixels, np.repeat(v.frame.video[:, :, None], 3, axis=2))


def test_a_failing_source_is_shown_and_the_window_stays_responsive(viewers: Any) -> None:
    v = viewers(FailingSource())
    wait_for(v, lambda: v.reader.error is not None)
    v.step()
    assert "cable unplugged" in (v.info().error or "") and "messages" in placed(v)
    press(v, "h")
    assert not v.state.hud
    press(v, "q")
    assert v.state.quit


def test_a_blocking_source_does_not_block_the_window(viewers: Any) -> None:
    src = BlockingSource()
    v = viewers(src)
    start = time.monotonic()
    for _ in range(20):
        v.step()
    press(v, "v")
    assert v.state.layout is Layout.DEPTH and v.frame is None
    assert time.monotonic() - start < 4.0  # far from a hang; not a timing assertion
    press(v, "", pygame.K_ESCAPE)
    stats = v.run()
    assert src.released.is_set() and stats["frames_shown"] == 0


def test_quit_by_window_close_closes_the_source(viewers: Any) -> None:
    src = MemorySource()
    v = viewers(src)
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    stats = v.run()
    assert v.state.quit and src.closed and not pygame.display.get_init()
    assert set(stats) >= {
        "frames_shown",
        "cpu_ms_median",
        "cpu_ms_p95",
        "display_fps",
        "dropped_source_frames",
    }


def test_recording_key_writes_a_fakenect_folder(viewers: Any, tmp_path: Path) -> None:
    v = viewers(MemorySource(n=400))
    wait_for(v, lambda: v.frame is not None)
    press(v, "R")
    assert v.state.recording is not None, v.state.message
    folder = v.state.recording
    wait_for(v, lambda: v.frame.index > 5)
    press(v, "R")
    assert v.state.recording is None
    with dv.open(str(folder), realtime=False) as rec:
        first = rec.read()
        assert first.depth.shape == (480, 640)
        assert len(rec) >= 2


def test_cli_frames_and_stats(capsys: Any) -> None:
    assert main(["view", "demo", "--frames", "5", "--stats", "--no-hud"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    stats = json.loads(out[-1])
    assert stats["frames_shown"] == 5 and stats["cpu_ms_median"] > 0


def test_cli_loops_a_recording_unless_told_not_to(capsys: Any, person_recording: Path) -> None:
    # The recording has 20 frames; like libfreenect's fakenect the viewer starts it again.
    assert main(["view", str(person_recording), "--fps", "0", "--frames", "30", "--stats"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["frames_shown"] == 30
    args = ["view", str(person_recording), "--no-loop", "--frames", "30", "--stats"]
    assert main(args) == 0
    stats = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert stats["frames_shown"] <= 20 and stats["last_frame_index"] == 19


def test_cli_without_a_source_falls_back_to_the_demo(capsys: Any) -> None:
    assert main(["--frames", "2", "--stats"]) == 0
    captured = capsys.readouterr()
    assert "showing the demo" in captured.err
    assert json.loads(captured.out.strip().splitlines()[-1])["frames_shown"] == 2


def test_cli_named_source_that_fails_exits_2(capsys: Any, tmp_path: Path) -> None:
    assert main(["view", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing" in err[0]


def test_scaled_window_keeps_aspect_and_probe_maps_through_it(viewers: Any) -> None:
    v = viewers(size=(1920, 1000))
    press(v, " ")
    wait_for(v, lambda: v.frame is not None)
    assert (v.renderer.view.x, v.renderer.view.y, v.renderer.view.w, v.renderer.view.h) == (
        0,
        140,
        1920,
        720,
    )
    pixels = window_rgb(v)
    assert (pixels[:140, 800:] == 0).all() and (pixels[860:] == 0).all()  # bars (HUD: top left)
    pygame.event.post(
        pygame.event.Event(pygame.MOUSEMOTION, pos=(450, 440), rel=(0, 0), buttons=(0, 0, 0))
    )
    v.step()
    raw = int(v.frame.depth[200, 300])
    assert any(t.startswith(f"probe (300, 200) raw {raw}") for t in hud(v))


class RolledSource(MemorySource):
    """Frames whose accelerometer says the Kinect lies on its side (rolled 90 degrees)."""

    def read(self) -> Frame:
        frame = super().read()
        return dataclasses.replace(frame, accel=(9.81, 0.0, 0.0))


def test_upright_turns_the_picture_by_the_accelerometer(viewers: Any) -> None:
    v = viewers(RolledSource(n=400), hud=False, layout=Layout.DEPTH)
    wait_for(v, lambda: v.frame is not None)
    press(v, " ")
    flat = window_rgb(v)
    assert (flat[:20, :20] == 0).all() and not (flat[:20, -20:] == 0).all()
    press(v, "o")
    assert v.state.rotate
    turned = window_rgb(v)
    # Turned a quarter clockwise and fitted: 480x640 becomes 360x480, centred, bars beside.
    assert (turned[:, :140] == 0).all() and (turned[:, 500:] == 0).all()
    assert (turned[:12, 485:500] == 0).all()  # the no-reading corner is now top right
    assert not (turned[:12, 140:155] == 0).all()
    press(v, "", pygame.K_F11)  # fullscreen is refused by the dummy driver, or done
    press(v, "", pygame.K_F11)
    assert not v.state.quit and v.display.get_size() == (640, 480)


def _view_demo(env: dict[str, str], cwd: Path) -> list[str]:
    """``view demo`` in ``env`` refused: its stderr lines (exit 2 checked)."""
    proc = subprocess.run(
        [sys.executable, "-m", "depthview", "view", "demo", "--frames", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )
    assert proc.returncode == 2, proc.stderr
    return proc.stderr.strip().splitlines()


def test_no_display_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("SDL_VIDEODRIVER")
    err = _view_demo(env, tmp_path)
    assert len(err) == 1 and "no display" in err[0] and "SDL_VIDEODRIVER" in err[0]


@pytest.mark.parametrize("display", [":55", "bogus"])
def test_a_display_nobody_serves_is_named_in_one_line(tmp_path: Path, display: str) -> None:
    """Trial U (D4): DISPLAY=:55 (no X server there) got Wayland's "error: XDG_RUNTIME_DIR is
    invalid or not set" and then "DISPLAY is not set". Now one line names the display."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SDL_", "WAYLAND"))}
    env["DISPLAY"] = display
    err = _view_demo(env, tmp_path)
    assert len(err) == 1, err
    assert err[0].startswith(f"depthview: error: cannot open the X display {display!r} (DISPLAY)")


def test_a_recording_with_no_readable_frame_fails_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    written = write_recording(folder, n=3, video=False, accel=False)
    for name in written.depth_files:
        (folder / name).write_bytes(b"P5 640 480 65535\n" + b"\0" * 100)  # cut short
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "depthview", "view", str(folder), "--frames", "5", "--stats"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "source failed" in proc.stderr and "readable depth frame" in proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["frames_shown"] == 0
    assert time.monotonic() - start < 30  # exits at once (today: waits forever)


def test_a_failed_source_is_said_in_the_command_lines_words(tmp_path: Path) -> None:
    """Trial K: a source failing in the viewer said "say depth_format='mm'" (Python's
    keyword) where every command says ``--depth-format mm``."""
    from PIL import Image

    path = tmp_path / "far.png"
    Image.fromarray(np.full((48, 64), 10000, np.uint16)).save(path)
    argv = ["view", str(path), "--depth-format", "11bit", "--frames", "2"]
    proc = subprocess.run(
        [sys.executable, "-m", "depthview", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SDL_VIDEODRIVER": "dummy"},
    )
    assert proc.returncode == 2, proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if "source failed" in x]
    assert "--depth-format mm" in line and "depth_format=" not in line


def test_a_source_that_fails_shows_it_and_the_viewer_exits_non_zero(
    viewers: Any, capsys: Any
) -> None:
    v = viewers(FailingSource())
    wait_for(v, lambda: v.failed is not None)
    assert "cable unplugged" in capsys.readouterr().err
    press(v, "q")
    with pytest.raises(ViewerFailed, match="cable unplugged"):
        run_viewer(FailingSource(), ViewerOptions(frames=5))


def test_screenshot_into_an_unwritable_place_is_one_line_and_exit_2(
    tmp_path: Path, capsys: Any
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["view", "demo", "--frames", "2", "--screenshot", str(blocker / "s.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--screenshot" in err[0] and "writable folder" in err[0]


def test_every_view_option_has_help() -> None:
    parser, _ = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    view = sub.choices["view"]
    for action in view._actions:
        if action.dest != "help":
            assert action.help, action.option_strings or action.dest
    assert set(view._option_string_actions["--layout"].choices) >= {
        "both",
        "depth",
        "video",
        "overlay",
        "3d",
        "3d-video",
    }


def test_recording_from_the_viewer_writes_each_record_once(
    viewers: Any, person_recording: Path
) -> None:
    v = viewers(dv.open(str(person_recording), loop=False))
    press(v, "R")
    folder = v.state.recording
    assert folder is not None
    wait_for(v, lambda: v.reader.ended, timeout=10)
    press(v, "R")
    source = (person_recording / "INDEX.txt").read_text().splitlines()
    written = (folder / "INDEX.txt").read_text().splitlines()
    assert len(written) >= 10 and len(set(written)) == len(written)
    start = source.index(written[0])
    assert written == source[start:]  # every record from there on, once, in order
    for name in written:
        assert (folder / name).read_bytes() == (person_recording / name).read_bytes()


def _recorded(folder: Path) -> tuple[int, int]:
    """(depth frames, video frames) a recording's INDEX.txt names."""
    lines = (folder / "INDEX.txt").read_text().splitlines()
    return sum(x.startswith("d-") for x in lines), sum(x.startswith("r-") for x in lines)


def test_recording_key_with_ir_on_records_depth_and_says_so(viewers: Any) -> None:
    """Trial I (issue 22): with IR video on (``f``), ``R`` ... ``R`` said "recording saved"
    and left an empty INDEX.txt (a recording holds RGB video, and the writer refused the
    first frame). Now the depth is recorded alone, and the HUD says so."""
    v = viewers(dv.open("demo"))
    wait_for(v, lambda: v.frame is not None)
    press(v, "f")
    wait_for(v, lambda: v.frame is not None and v.frame.video_format is VideoFormat.IR_8BIT)
    press(v, "R")
    assert v.state.message is not None and "depth only" in v.state.message
    folder = v.state.recording
    assert folder is not None
    start = v.frame.index
    wait_for(v, lambda: v.frame.index > start + 5)
    press(v, "R")
    depth, video = _recorded(folder)
    assert depth >= 5 and video == 0
    assert v.state.message == (  # and says it again at the end (trial P, P10)
        f"recording saved to {folder} ({depth} frames); depth only, the IR video is not kept"
    )


def test_recording_key_says_a_sources_own_intrinsics_are_not_kept(
    viewers: Any, tmp_path: Path, capsys: Any
) -> None:
    """``R`` on a source with its own camera model (a ``.npz``'s ``intrinsics``) recorded the
    frames and lost the model in silence; ``record`` says so, and now the viewer does too."""
    src = tmp_path / "k.npz"
    camera = (500.0, 510.0, 320.5, 241.25)
    np.savez(src, depth=np.full((40, 480, 640), 700, np.uint16), intrinsics=np.array(camera))
    v = viewers(dv.open(str(src), loop=True))
    wait_for(v, lambda: v.frame is not None)
    press(v, "R")
    folder = v.state.recording
    assert folder is not None
    start = v.reader.frames_read  # frames read, not the index: the 40 frames loop
    wait_for(v, lambda: v.reader.frames_read > start + 3)
    press(v, "R")
    depth, _ = _recorded(folder)
    assert depth >= 3
    message = v.state.message or ""
    assert message.startswith(f"recording saved to {folder} ({depth} frames)"), message
    assert "intrinsics are not kept" in message
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "intrinsics" in x]
    assert line.startswith("depthview: warning: ") and "(500, 510, 320.5, 241.25)" in line
