"""A window destroyed by another X client (``xdotool windowclose``, a crashed window
manager) ends the viewer as a closed window, not as Xlib's default error handler ends a
process: "X Error of failed request: BadWindow" and exit 1, mid-recording.

SDL leaves X protocol errors to Xlib's handler, which is one per process: ``install``
puts one in place (with ctypes, in the libX11 SDL loads) that notes a BadWindow or
BadDrawable error about a window ``watch`` was given (the viewer's own) and passes every
other error on to the handler it replaced, so nothing else changes. The loop asks
``lost()`` and closes as on ``q``."""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

_BAD_WINDOW = 3
_BAD_DRAWABLE = 9


class _XErrorEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("resourceid", ctypes.c_ulong),
        ("serial", ctypes.c_ulong),
        ("error_code", ctypes.c_ubyte),
        ("request_code", ctypes.c_ubyte),
        ("minor_code", ctypes.c_ubyte),
    ]


_Handler = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_XErrorEvent))

_windows: set[int] = set()
_lost = False
_installed: Any = None  # our handler (kept alive while Xlib holds it)
_previous: Any = None  # the handler ours replaced, called for every other error


def _on_error(display: int, event: Any) -> int:
    global _lost
    e = event.contents
    if e.error_code in (_BAD_WINDOW, _BAD_DRAWABLE) and e.resourceid in _windows:
        _lost = True
        return 0
    if _previous:
        return int(_previous(display, event))
    return 0


def _xlib() -> Any:
    name = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def install() -> bool:
    """Put the handler in place before SDL opens its display: SDL keeps the handler it
    finds, calls it from its own, and puts it back when it closes the display (where
    destroying a window that is gone fails once more). False where there is no Xlib."""
    global _installed, _previous
    xlib = _xlib()
    if xlib is None:
        return False
    xlib.XSetErrorHandler.restype = ctypes.c_void_p
    xlib.XSetErrorHandler.argtypes = [ctypes.c_void_p]
    if _installed is None:
        _installed = _Handler(_on_error)
    ours = ctypes.cast(_installed, ctypes.c_void_p).value
    previous = xlib.XSetErrorHandler(ours)
    if previous and previous != ours:
        _previous = _Handler(previous)
    return True


def watch(window: int | None, *, new: bool = True) -> None:
    """Note errors about ``window`` (an X window id) from now on (``new``: a new window,
    forgetting the earlier ones)."""
    global _lost
    if new:
        _windows.clear()
        _lost = False
    if window:
        _windows.add(int(window))


def lost() -> bool:
    """Whether the X server said a watched window is gone."""
    return _lost
