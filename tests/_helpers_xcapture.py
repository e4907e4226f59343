"""What the X server shows: a window's pixels read back with XGetImage (python-xlib), the
way a user's eyes get them, not the program's own surface; and depthview run in a window
there (``program_window``, ``quit_program``, ``run_on_x``). Also a small command for
scripts/screenshots.sh: ``python tests/_helpers_xcapture.py TITLE OUT.png``."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from Xlib import X
from Xlib import display as xdisplay
from Xlib.error import XError


def find_window(
    title: str, display: str | None = None, timeout: float = 20.0, prefix: bool = False
) -> int:
    """The id of the mapped top-level window named ``title`` (or, with ``prefix``, whose
    name starts with it); waits for it to appear."""
    d = xdisplay.Display(display)
    try:
        net_name = d.intern_atom("_NET_WM_NAME")  # SDL names windows in UTF-8 there
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for w in d.screen().root.query_tree().children:
                try:
                    prop = w.get_full_property(net_name, 0)
                    name = prop.value if prop is not None else w.get_wm_name()
                    mapped = w.get_attributes().map_state == X.IsViewable
                except XError:
                    continue
                text = "" if name is None else _text(name)
                if mapped and (text.startswith(title) if prefix else text == title):
                    return int(w.id)
            time.sleep(0.1)
    finally:
        d.close()
    raise AssertionError(f"no window named {title!r} on the X server")


def _text(name: object) -> str:
    return name.decode() if isinstance(name, bytes) else str(name)


def capture(window: int, display: str | None = None) -> np.ndarray:
    """The window's pixels as the X server has them: (H, W, 3) RGB uint8."""
    d = xdisplay.Display(display)
    try:
        w = d.create_resource_object("window", window)
        g = w.get_geometry()
        image = w.get_image(0, 0, g.width, g.height, X.ZPixmap, 0xFFFFFFFF)
        if image.depth != 24 or len(image.data) != g.width * g.height * 4:
            raise AssertionError(f"expected a 24-bit window, got depth {image.depth}")
        raw = np.frombuffer(image.data, np.uint8).reshape(g.height, g.width, 4)
        return np.ascontiguousarray(raw[:, :, 2::-1])  # BGRX in memory -> RGB
    finally:
        d.close()


def capture_stable(window: int, display: str | None = None, timeout: float = 10.0) -> np.ndarray:
    """The window once two captures 0.3 s apart agree (the picture has settled)."""
    end = time.monotonic() + timeout
    last = capture(window, display)
    while time.monotonic() < end:
        time.sleep(0.3)
        now = capture(window, display)
        if np.array_equal(now, last):
            return now
        last = now
    raise AssertionError("the window kept changing")


def wait_for_picture(
    window: int,
    display: str | None,
    until: Callable[[np.ndarray], bool],
    timeout: float,
    every: float = 0.2,
) -> np.ndarray:
    """Capture the window every ``every`` s until ``until(picture)`` holds or ``timeout`` s
    have passed; the last capture. It does not fail by itself: the caller asserts on the
    picture (or goes on, where the wait only gives a loaded machine its time)."""
    end = time.monotonic() + timeout
    while True:
        time.sleep(every)
        now = capture(window, display)
        if until(now) or time.monotonic() >= end:
            return now


def wait_for_change(
    window: int, before: np.ndarray, display: str | None, timeout: float, every: float = 0.2
) -> np.ndarray:
    """The window once it differs from ``before`` (or the last capture at ``timeout``)."""
    return wait_for_picture(
        window, display, lambda now: not np.array_equal(now, before), timeout, every
    )


def x_env(display: str) -> dict[str, str]:
    """This environment with depthview's window on ``display`` (SDL through X11)."""
    return {**os.environ, "DISPLAY": display, "SDL_VIDEODRIVER": "x11"}


def run_on_x(
    argv: list[str], display: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``depthview ARGV`` with its window on ``display``, run to its end."""
    return subprocess.run(
        [sys.executable, "-m", "depthview", *argv],
        env=x_env(display),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


@contextlib.contextmanager
def program_window(
    argv: list[str],
    display: str,
    title: str,
    *,
    prefix: bool = False,
    timeout: float = 20.0,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``depthview ARGV`` started with its window on ``display`` (``env``: ``x_env``'s unless
    given), and the window (``find_window``'s ``title`` and ``prefix``). No window in
    ``timeout`` s fails with the program's stderr; a program still running on the way out
    is killed (a failed test leaves no window behind)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "depthview", *argv],
        env=x_env(display) if env is None else env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )
    try:
        try:
            window = find_window(title, display, timeout=timeout, prefix=prefix)
        except AssertionError as exc:
            proc.kill()
            raise AssertionError(f"{exc}; the program said: {proc.communicate()[1]}") from None
        yield proc, window
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def quit_program(
    proc: subprocess.Popen[str], window: int, display: str, timeout: float = 30
) -> str:
    """Press q in the window; the program must end with exit 0. Its stdout."""
    press_key(window, "q", display)
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


def assert_screen_is_saved(shown: np.ndarray, saved: Path, what: str = "the program") -> None:
    """What the X server showed is, to the pixel, the picture ``what`` saved on quitting
    (its ``--screenshot``)."""
    from PIL import Image

    with Image.open(saved) as im:
        drawn = np.asarray(im.convert("RGB"))
    assert shown.shape == drawn.shape, f"the screen is {shown.shape}, the picture {drawn.shape}"
    assert np.array_equal(shown, drawn), (
        f"the screen differs from {what}'s picture in "
        f"{int((shown != drawn).any(axis=2).sum())} pixels"
    )


def press_key(window: int, name: str, display: str | None = None) -> None:
    """Press and release one key (an X keysym name, e.g. ``space``) on the X server, with
    the window focused (no window manager under Xvfb, so focus is set by hand): XTest."""
    from Xlib import XK
    from Xlib.ext import xtest

    d = xdisplay.Display(display)
    try:
        d.set_input_focus(d.create_resource_object("window", window), X.RevertToParent, 0)
        code = d.keysym_to_keycode(XK.string_to_keysym(name))
        xtest.fake_input(d, X.KeyPress, code)
        xtest.fake_input(d, X.KeyRelease, code)
        d.sync()
    finally:
        d.close()


def press_chord(window: int, names: list[str], display: str | None = None) -> None:
    """Press ``names`` (X keysym names) in order and let go in reverse, as a user types
    Shift+/ for ``?``: the keys X has (``question`` is the slash key's second level, so
    the chord is ``["Shift_L", "slash"]``), with XTest."""
    from Xlib import XK
    from Xlib.ext import xtest

    d = xdisplay.Display(display)
    try:
        d.set_input_focus(d.create_resource_object("window", window), X.RevertToParent, 0)
        codes = [d.keysym_to_keycode(XK.string_to_keysym(name)) for name in names]
        for code in codes:
            xtest.fake_input(d, X.KeyPress, code)
            d.sync()
        for code in reversed(codes):
            xtest.fake_input(d, X.KeyRelease, code)
            d.sync()
    finally:
        d.close()


def warp_pointer(window: int, at: tuple[int, int], display: str | None = None) -> None:
    """Move the pointer to ``at`` in the window (window pixels)."""
    d = xdisplay.Display(display)
    try:
        d.create_resource_object("window", window).warp_pointer(*at)
        d.sync()
    finally:
        d.close()


def drag_pointer(
    window: int, start: tuple[int, int], end: tuple[int, int], display: str | None = None
) -> None:
    """Press the left button at ``start`` in the window, move to ``end`` in ten steps and
    let go there: XTest, as a user's drag."""
    from Xlib.ext import xtest

    d = xdisplay.Display(display)
    try:
        target = d.create_resource_object("window", window)
        target.warp_pointer(*start)
        d.sync()
        xtest.fake_input(d, X.ButtonPress, 1)
        d.sync()
        for i in range(1, 11):
            time.sleep(0.03)
            x = start[0] + (end[0] - start[0]) * i // 10
            y = start[1] + (end[1] - start[1]) * i // 10
            target.warp_pointer(x, y)
            d.sync()
        xtest.fake_input(d, X.ButtonRelease, 1)
        d.sync()
    finally:
        d.close()


def scroll(window: int, at: tuple[int, int], notches: int, display: str | None = None) -> None:
    """Turn the wheel ``notches`` (> 0: up, towards the screen) with the pointer at ``at``."""
    from Xlib.ext import xtest

    d = xdisplay.Display(display)
    try:
        d.create_resource_object("window", window).warp_pointer(*at)
        d.sync()
        button = 4 if notches > 0 else 5
        for _ in range(abs(notches)):
            xtest.fake_input(d, X.ButtonPress, button)
            xtest.fake_input(d, X.ButtonRelease, button)
            d.sync()
            time.sleep(0.03)
    finally:
        d.close()


def park_pointer(display: str | None = None) -> None:
    """Move the pointer to the screen's corner, off the window (no probe in the picture)."""
    d = xdisplay.Display(display)
    try:
        d.screen().root.warp_pointer(0, 0)
        d.sync()
    finally:
        d.close()


def main(argv: list[str]) -> int:
    """``TITLE OUT.png``: save the named window as the X server shows it."""
    from PIL import Image

    title, out = argv
    pixels = capture_stable(find_window(title))
    Image.fromarray(pixels).save(Path(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
