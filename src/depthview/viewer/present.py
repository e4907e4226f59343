"""How a picture reaches the screen: the window, its OpenGL context, and the flip.

The viewer draws every frame into ``Presenter.picture``, a plain pygame surface the size
of the window (panels, overlays, letterbox: everything). ``show()`` puts it on the screen.

With OpenGL (the usual case) the window is an OpenGL window (``pygame.OPENGL |
DOUBLEBUF``) and owns the one context of the process, made with
``moderngl.create_context()`` on it: the picture is uploaded as a texture, drawn as one
quad and the buffers are swapped; the 3D view draws in this same context
(``gl_context``). This is how glview, Open3D's Visualizer and the RealSense Viewer draw.

Why not SDL's plain window surface beside a second, standalone context: under Xvfb with
Mesa, once such a context (EGL, or GLX) exists and has a buffer object, the X server no
longer shows what SDL's ``XShmPutImage`` sends (the requests still go out; the window
stays at its last picture), so the 3D layouts froze on screen while drawing right in
memory (``docs/DESIGN.md``).

Where OpenGL is one of Mesa's software renderers (llvmpipe, softpipe, swrast: the name is
read from a small hidden GL window, closed again) the 3D view's points are drawn on the CPU
(``view3d``), so OpenGL would only cost: uploading the picture and drawing it as a quad
through llvmpipe took more CPU than drawing the 2D layouts. The window is then a plain SDL
surface, shown with X11's shared-memory images
(``SDL_FRAMEBUFFER_ACCELERATION=0``: otherwise SDL puts its own GL renderer, llvmpipe
again, behind the plain surface). ``DEPTHVIEW_POINTS=gpu`` keeps OpenGL.

Without usable OpenGL (no GL window can be made, the SDL driver draws nowhere, or
``DEPTHVIEW_GL=off``) the window is a plain SDL surface and ``picture`` is that surface:
the 2D layouts work as before and ``gl_error`` says why the 3D view cannot use OpenGL.
"""

from __future__ import annotations

import array
import contextlib
import io
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pygame

from ..errors import DepthviewError
from ..outputs import why_not_written, write_atomic
from . import xerrors
from .view3d import gl_renderer, is_software, points_wanted

Surface = Any  # pygame.Surface
HEADLESS_DRIVERS = ("offscreen", "dummy")
GL_VERSION = 430  # what the 3D view's compute shaders need

_VERTEX = """
#version 330
in vec2 corner;
out vec2 uv;
void main() {
    uv = vec2(corner.x * 0.5 + 0.5, 0.5 - corner.y * 0.5);  // picture rows run top down
    gl_Position = vec4(corner, 0.0, 1.0);
}
"""
_FRAGMENT = """
#version 330
uniform sampler2D picture;
in vec2 uv;
out vec4 colour;
void main() { colour = texture(picture, uv); }
"""


@contextlib.contextmanager
def _only_driver(driver: str) -> Iterator[None]:
    """SDL held to ``driver`` (the one the window was opening with) while the display is
    opened again: SDL otherwise goes on to its next driver when the X server refuses for a
    moment, Wayland's (whose library prints "error: XDG_RUNTIME_DIR is invalid or not set"
    on stderr), then its offscreen one, an invisible window (trial P). Refused, the display
    is asked again."""
    before = os.environ.get("SDL_VIDEODRIVER")
    os.environ["SDL_VIDEODRIVER"] = before or driver
    try:
        yield
    finally:
        if before is None:
            del os.environ["SDL_VIDEODRIVER"]


def _desktop_size(size: tuple[int, int]) -> tuple[int, int]:
    """``--fullscreen``'s window size: the desktop's (``size`` where SDL knows none). pygame
    makes a window of the desktop's size SDL's desktop fullscreen, the screen as it is; any
    other size asks for a change of video mode, which a screen without that mode (Xvfb, a
    monitor's few modes) leaves as a window of that size (trial P: 1280x480 in the middle of
    a 1280x1024 screen)."""
    sizes = pygame.display.get_desktop_sizes()
    return (int(sizes[0][0]), int(sizes[0][1])) if sizes else size


def _no_display() -> DepthviewError:
    return DepthviewError(
        "no display to open the window on (DISPLAY is not set); run it on a desktop, "
        "or set SDL_VIDEODRIVER=dummy to run without a window"
    )


class Presenter:
    """The window. ``picture`` is where the viewer draws; ``show()`` puts it on screen."""

    def __init__(self, size: tuple[int, int], fullscreen: bool, title: str) -> None:
        chosen = bool(os.environ.get("SDL_VIDEODRIVER"))
        unix_desktop = sys.platform.startswith(("linux", "freebsd"))
        desktop = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        if unix_desktop and not chosen and not desktop:
            raise _no_display()  # before SDL, which would print lines of its own
        x11 = unix_desktop and os.environ.get("DISPLAY")
        if x11:
            xerrors.install()  # before SDL opens the display: see ``xerrors``
        try:
            # DISPLAY set and no driver chosen: X11, not SDL's next ones when the X server
            # cannot be reached (Wayland's prints a line of its own, then the offscreen one
            # would be taken for no display at all: trial U)
            with _only_driver("x11") if x11 and not chosen else contextlib.nullcontext():
                pygame.display.init()
        except pygame.error as exc:
            if x11 and not chosen:
                raise DepthviewError(
                    f"cannot open the X display {x11!r} (DISPLAY): {exc}; is an X server "
                    "running there?"
                ) from None
            raise DepthviewError(f"cannot open a window: {exc}") from None
        self.driver = pygame.display.get_driver()
        if self.driver in HEADLESS_DRIVERS and not chosen:
            pygame.display.quit()
            raise _no_display()
        pygame.font.init()
        self.title = title
        pygame.display.set_caption(title)
        self.fullscreen = fullscreen
        #: The window's size and place before F11 made it fullscreen (None: not made so).
        self._windowed: tuple[tuple[int, int], tuple[int, int]] | None = None
        self.ctx: Any = None  # the window's moderngl context
        #: Why the window has no OpenGL context for the 3D view (None: it has one).
        self.gl_error: str | None = None
        #: The OpenGL renderer's name, also when the window does not use it ("": none seen).
        self.gl_renderer = ""
        self.picture: Surface = None
        self._texture: Any = None
        self._quad: Any = None
        self._window: Surface = None
        self._open(_desktop_size(size) if fullscreen else size)
        self._watch(new=True)

    # -- the window -----------------------------------------------------------------------
    @property
    def headless(self) -> bool:
        """The SDL driver draws nowhere (tests): nothing on screen to keep right."""
        return self.driver in HEADLESS_DRIVERS

    def _flags(self) -> int:
        return pygame.RESIZABLE | (pygame.FULLSCREEN if self.fullscreen else 0)

    def _open(self, size: tuple[int, int]) -> None:
        wanted = os.environ.get("DEPTHVIEW_GL", "").lower()
        if self.headless:
            self.gl_error = "no OpenGL window with SDL's headless driver"
        elif wanted == "off":
            self.gl_error = "OpenGL is off (DEPTHVIEW_GL=off)"
        else:
            if points_wanted() != "gpu":
                self.gl_renderer = self._probe_gl()
            if self.gl_renderer and is_software(self.gl_renderer):
                # The CPU draws the points: a plain window costs less than llvmpipe's.
                self.gl_error = f"OpenGL here is a software renderer ({self.gl_renderer})"
            else:
                try:
                    self._open_gl(size)
                    self.gl_renderer = gl_renderer(self.ctx)
                    return
                except Exception as exc:  # any GL failure: fall back to the plain window
                    text = str(exc).strip().splitlines()
                    why = text[0] if text else type(exc).__name__
                    self.gl_error = "no OpenGL window: " + why
                    self._release_gl()
        self._set_plain(size)

    def _set_plain(self, size: tuple[int, int]) -> None:
        # X11's shared-memory images, not SDL's own OpenGL renderer behind the surface
        # (llvmpipe's threads where there is no GPU); the user's setting wins.
        os.environ.setdefault("SDL_FRAMEBUFFER_ACCELERATION", "0")
        try:
            self._window = pygame.display.set_mode(size, self._flags())
        except pygame.error as exc:
            pygame.display.quit()
            raise DepthviewError(f"cannot open a window: {exc}") from None
        self.picture = self._window

    def _probe_gl(self) -> str:
        """The name of the OpenGL renderer a window would get ("" when none can be made),
        read from a small hidden window that is closed again, so the user never sees a
        window that is replaced."""
        name = ""
        pygame.display.set_caption("")
        try:
            import moderngl

            self._gl_window((64, 64), pygame.OPENGL | pygame.HIDDEN)
            probe = moderngl.create_context()
            name = gl_renderer(probe)
            # Let go now, while its context exists: collected later, it would call into a
            # context (and an X connection) SDL has closed.
            probe.release()
        except Exception:  # any GL failure: no renderer; opening the window says why
            name = ""
        pygame.display.quit()
        for attempt in range(5):  # the X server may take a moment to let the last go
            try:
                with _only_driver(self.driver):
                    pygame.display.init()
                break
            except pygame.error as exc:
                if attempt == 4:
                    raise DepthviewError(f"cannot open a window: {exc}") from None
                time.sleep(0.05 * (attempt + 1))
        pygame.display.set_caption(self.title)
        return name

    def _gl_window(self, size: tuple[int, int], flags: int) -> None:
        # OpenGL 4.3 core first (some drivers give compatibility contexts older versions),
        # then whatever the driver gives by default (SDL's own defaults: 2.1, any profile).
        try:
            _gl_attributes(4, 3, pygame.GL_CONTEXT_PROFILE_CORE)
            self._window = pygame.display.set_mode(size, flags)
        except pygame.error:
            _gl_attributes(2, 1, 0)
            self._window = pygame.display.set_mode(size, flags)

    def _open_gl(self, size: tuple[int, int]) -> None:
        import moderngl

        self._gl_window(size, self._flags() | pygame.OPENGL | pygame.DOUBLEBUF)
        ctx = moderngl.create_context()
        self.ctx = ctx
        if ctx.version_code < GL_VERSION:
            self.gl_error = f"the 3D view needs OpenGL 4.3, the window has {ctx.info['GL_VERSION']}"
        program = ctx.program(vertex_shader=_VERTEX, fragment_shader=_FRAGMENT)
        corners = ctx.buffer(array.array("f", (-1, -1, 1, -1, -1, 1, 1, 1)).tobytes())
        self._quad = ctx.vertex_array(program, [(corners, "2f", "corner")])
        self._fit_picture(size)

    def _fit_picture(self, size: tuple[int, int]) -> None:
        """A picture (and texture) of the window's size, in the default 32-bit format."""
        if self.picture is not None and self.picture.get_size() == size:
            return
        self.picture = pygame.Surface(size, 0, 32)
        self.picture.fill((0, 0, 0))
        if self._texture is not None:
            self._texture.release()
        self._texture = self.ctx.texture(size, 4)
        self._texture.swizzle = _swizzle(self.picture)
        self._texture.filter = (self.ctx.NEAREST, self.ctx.NEAREST)

    def _release_gl(self) -> None:
        self.ctx = None
        self._texture = None
        self._quad = None

    @property
    def gl_context(self) -> Any:
        """The window's context when the 3D view can draw in it, else None."""
        return self.ctx if self.gl_error is None else None

    def window_size(self) -> tuple[int, int]:
        """The window's size in pixels now."""
        if self.ctx is None:
            size: tuple[int, int] = self._window.get_size()
            return size
        w, h = pygame.display.get_window_size()
        return (int(w), int(h))

    def sync(self) -> None:
        """Follow the window's size after the user or the desktop changed it."""
        if self.ctx is None:
            self.picture = self._window = pygame.display.get_surface() or self._window
        else:
            self._fit_picture(self.window_size())

    def _watch(self, new: bool = False) -> None:
        """An X window destroyed by another client is said by ``lost`` (``xerrors``). Asked
        once, for the window opened first: ``get_wm_info`` after ``set_mode`` resized a
        plain window crashed the process under Xvfb (tests/test_viewer_3d.py), so a
        window made again by a resize ends as before when destroyed."""
        if self.driver == "x11":
            xerrors.watch(pygame.display.get_wm_info().get("window"), new=new)

    @property
    def lost(self) -> bool:
        """Whether the X server destroyed the window (another client closed it)."""
        return self.driver == "x11" and xerrors.lost()

    def set_size(self, size: tuple[int, int]) -> None:
        """Resize the window (a layout of another native size)."""
        if self.ctx is None:
            self._set_plain(size)
        else:
            flags = self._flags() | pygame.OPENGL | pygame.DOUBLEBUF
            self._window = pygame.display.set_mode(size, flags)
            self._fit_picture(self.window_size())

    def toggle_fullscreen(self) -> None:
        """Fullscreen on or off, as ``--fullscreen`` opens it: the window at the screen's
        corner at the desktop's size, and back at the size and place it had. (pygame's
        ``toggle_fullscreen`` made the X window again at its old size where no window manager
        runs, printing SDL's warnings: trial U.) Raises ``pygame.error`` where the platform
        cannot."""
        if self.fullscreen:
            size, place = self._windowed or (self.window_size(), (0, 0))
        else:
            self._windowed = self.window_size(), pygame.display.get_window_position()
            size, place = _desktop_size(self._windowed[0]), (0, 0)
        pygame.display.set_window_position(place)  # first: SDL moves no fullscreen window
        self.fullscreen = not self.fullscreen
        gl = pygame.OPENGL | pygame.DOUBLEBUF if self.ctx is not None else 0
        try:
            if not self.fullscreen:  # a call to end fullscreen first: SDL sizes no fullscreen
                with warnings.catch_warnings():  # window (no window manager), and says so
                    warnings.filterwarnings("ignore", "Requested window was forcibly resized")
                    pygame.display.set_mode(size, self._flags() | gl)
            self._window = pygame.display.set_mode(size, self._flags() | gl)
        except pygame.error:
            self.fullscreen = not self.fullscreen
            raise
        if not self.fullscreen:
            pygame.display.set_window_position(place)
        self.sync()

    # -- each frame -----------------------------------------------------------------------
    def show(self) -> None:
        """Put the picture on the screen."""
        if self.ctx is None:
            pygame.display.flip()
            return
        ctx = self.ctx
        w, h = self.picture.get_size()
        self._texture.write(self.picture.get_view("2"))
        ctx.screen.use()
        ctx.viewport = (0, 0, w, h)
        self._texture.use(0)
        self._quad.render(mode=ctx.TRIANGLE_STRIP)
        pygame.display.flip()

    def save(self, path: Path) -> None:
        """Save the picture the viewer drew (what ``show`` puts on the screen)."""
        write_picture(path, self.encoded(path))

    def encoded(self, path: Path) -> bytes:
        """The picture the viewer drew, encoded as ``path``'s name says (``.png``, ...)."""
        buffer = io.BytesIO()
        try:
            pygame.image.save(self.picture, buffer, Path(path).name)  # the name says the format
        except pygame.error as exc:
            raise OSError(f"{path}: cannot save the window ({exc})") from None
        return buffer.getvalue()

    def close(self) -> None:
        """Close the window (the context goes with it)."""
        self._release_gl()
        pygame.display.quit()


def write_picture(path: Path, data: bytes) -> None:
    """An encoded picture (``Presenter.encoded``) written whole or not at all."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError as exc:  # its errno kept: the snapshot says "disk full" from it
        raise OSError(exc.errno, why_not_written(exc), str(path)) from None


def byte_order(surface: Surface) -> str:
    """The byte order (e.g. ``"BGRX"``) of a 32-bit surface's pixels in memory, from its
    masks, for ``colorize_packed(order=...)``."""
    masks = surface.get_masks()
    order = []
    for byte in range(4):
        bits = 0xFF << (8 * byte) if np.little_endian else 0xFF << (8 * (3 - byte))
        found = "X"
        for name, mask in zip("RGBA", masks, strict=True):
            if mask == bits:
                found = name
        order.append(found)
    result = "".join(order)
    if sorted(result.replace("X", "A")) != ["A", "B", "G", "R"]:
        raise ValueError(f"expected a 32-bit surface with 8-bit R, G, B masks, got {masks}")
    return result


def _gl_attributes(major: int, minor: int, profile: int) -> None:
    pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MAJOR_VERSION, major)
    pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MINOR_VERSION, minor)
    pygame.display.gl_set_attribute(pygame.GL_CONTEXT_PROFILE_MASK, profile)


def _swizzle(surface: Surface) -> str:
    """The texture swizzle that reads a picture's bytes (e.g. BGRX) as R, G, B, 1."""
    order = byte_order(surface)
    return "".join("RGBA"[order.index(c)] for c in "RGB") + "1"
