"""Overlays never overlap and always fit: every layout at many window sizes, under SDL's
dummy driver, with everything switched on that can be (HUD, colour bar, a message, a
failure, no video, help)."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import numpy as np
import pygame
import pytest

from depthview.frame import Frame
from depthview.sources.base import Source
from depthview.viewer import Layout, Viewer, ViewerOptions
from depthview.viewer.layout import Rect
from depthview.viewer.overlays import FONT_PATH, Text

SIZES = [(320, 240), (360, 480), (480, 270), (640, 480), (800, 300), (1280, 480), (1920, 1080)]


class DepthOnly(Source):
    """Depth without video (so the video panel says so), then a failure."""

    name = "a-recording-with-a-rather-long-name/kinect-v1-person"
    has_video = False

    def __init__(self) -> None:
        self.sent = threading.Event()
        self.closed = threading.Event()

    def read(self) -> Frame:
        if not self.sent.is_set():
            self.sent.set()
            yy, xx = np.mgrid[0:480, 0:640]
            depth = (500 + (xx + yy) % 500).astype(np.uint16)
            return Frame(depth=depth, index=0, timestamp=0.0, accel=(0.1, 9.8, 0.2), tilt_deg=0)
        self.closed.wait(0.2)
        raise OSError("the USB cable was unplugged while reading a depth frame from the device")

    def close(self) -> None:
        self.closed.set()


def check(v: Viewer) -> None:
    window = Rect(0, 0, *v.display.get_size())
    panels = v.renderer.window_rects()
    solid = [p for p in v.placed if p.solid]
    for p in solid:
        assert p.rect.inside(window), (p.name, p.rect, window)
        if p.panel is not None:
            panel = panels[{"no-video": "video", "no-3d": "cloud"}.get(p.panel, p.panel)]
            assert p.rect.inside(panel), (p.name, p.rect, panel)
    for a, b in itertools.combinations(solid, 2):
        assert not a.rect.intersects(b.rect), (a.name, a.rect, b.name, b.rect)


@pytest.mark.parametrize("layout", list(Layout))
def test_overlays_never_overlap_and_always_fit(
    layout: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No OpenGL: the 3D panels' message is placed like any other. Mesa's EGL started here,
    # under SDL's dummy driver, would refuse later real windows of this process their GLX.
    monkeypatch.setenv("DEPTHVIEW_GL", "none")
    v = Viewer(DepthOnly(), ViewerOptions(palette="turbo", layout=layout, snapshot_dir=tmp_path))
    try:
        while v.frame is None or v.reader.error is None:
            v.step()
        v.say("a message that is long enough to need wrapping in a small window, surely")
        for size in SIZES:
            pygame.display.set_mode(size, pygame.RESIZABLE)
            v.renderer.configure(layout)
            for help_on in (False, True):
                v.state.help = help_on
                v._events += 1  # the state changed: plan again
                v.draw()
                names = [p.name for p in v.placed]
                check(v)
                assert "messages" in names  # the failure always shows
                if help_on:
                    assert "help" in names and "hud" not in names
                else:
                    assert "hud" in names
                    if "depth" in v.renderer.rects and size[1] >= 240:
                        assert "colour-bar" in names, size
    finally:
        v.close()


def test_the_shipped_font_is_monospaced_so_words_keep_together() -> None:
    pygame.font.init()
    assert FONT_PATH.is_file() and (FONT_PATH.parent / "LICENSE-DejaVu.txt").is_file()
    text = Text()
    font = text.font(12)
    width = text.char_width(12)
    for word in ("palette", "disparity", "equalised", "il1WM"):
        assert font.size(word)[0] == len(word) * width
