"""The key table: which key runs which action (``actions``), and the help built from it.

Printable keys are matched on the character typed (so ``C``, ``R``, ``{`` and ``+`` work
whatever the keyboard layout); special keys on their pygame key name. The table holds the
action functions themselves, so a misspelt action fails the type check; actions run by the
mouse instead of a key are listed in ``NOT_ON_KEYS`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import actions, registered
from .actions import Action


@dataclass(frozen=True, slots=True)
class Binding:
    """A key's action, the argument it passes, and its line in the help ("" = not shown)."""

    action: Action
    arg: int = 0
    help: str = ""


#: Character -> binding. glview's keys first.
CHAR_KEYS: dict[str, Binding] = {
    "w": Binding(actions.tilt, +1, "tilt up 1 degree"),
    "x": Binding(actions.tilt, -1, "tilt down 1 degree"),
    "s": Binding(actions.level, 0, "level the tilt (0 degrees)"),
    **{str(i): Binding(actions.led, i) for i in range(7)},
    "f": Binding(actions.video_format, 0, "next video format the source has"),
    "m": Binding(actions.mirror, 0, "mirror"),
    "o": Binding(actions.rotate, 0, "upright by accelerometer"),
    "e": Binding(actions.flag, 0, "auto exposure"),
    "b": Binding(actions.flag, 1, "auto white balance"),
    "r": Binding(actions.flag, 2, "raw colour"),
    "n": Binding(actions.flag, 3, "near mode"),
    "+": Binding(actions.ir_brightness, +1, "IR brightness up"),
    "=": Binding(actions.ir_brightness, +1),
    "-": Binding(actions.ir_brightness, -1, "IR brightness down"),
    "q": Binding(actions.quit_viewer, 0, "quit"),
    "c": Binding(actions.palette, +1, "next palette"),
    "C": Binding(actions.palette, -1, "previous palette"),
    "[": Binding(actions.near, -1, "near limit closer"),
    "]": Binding(actions.near, +1, "near limit farther"),
    "{": Binding(actions.far, -1, "far limit closer"),
    "}": Binding(actions.far, +1, "far limit farther"),
    "a": Binding(actions.auto_range, 0, "auto range (equalised)"),
    " ": Binding(actions.pause, 0, "pause / resume"),
    "p": Binding(actions.snapshot, 0, "snapshot: PNG, depth PNG, .npz"),
    "R": Binding(actions.record, 0, "start / stop recording"),
    "v": Binding(actions.layout, 0, "next layout (incl. 3D)"),
    "F": Binding(actions.filters, 0, "depth filters on / off"),
    "P": Binding(actions.next_filters, 0, "next filter preset"),
    "V": Binding(actions.split_view, 0, "split: raw | filtered depth"),
    "h": Binding(actions.hud, 0, "HUD on / off"),
    "?": Binding(actions.show_help, 0, "this help"),
    ",": Binding(actions.opacity, -1, "overlay opacity down"),
    ".": Binding(actions.opacity, +1, "overlay opacity up"),
    registered.KEY: Binding(actions.registered, 0, "registration: depth lined up with colour"),
    "i": Binding(actions.pin, 0, "pin / unpin the probe"),
    "d": Binding(actions.measure_mode, 0, "measure: click 2 points"),
    "z": Binding(actions.reset_view, 0, "3D: reset the view"),
    "g": Binding(actions.guides, 0, "3D: axes and frustum"),
    "<": Binding(actions.point_size, -1, "3D: smaller points"),
    ">": Binding(actions.point_size, +1, "3D: larger points"),
}

#: pygame key name (as ``pygame.key.name`` gives it) -> binding.
SPECIAL_KEYS: dict[str, Binding] = {
    "escape": Binding(actions.quit_viewer, 0, "quit"),
    "f1": Binding(actions.show_help, 0, "this help"),
    "f11": Binding(actions.fullscreen, 0, "fullscreen"),
    "left": Binding(actions.step, -1, "one frame back"),
    "right": Binding(actions.step, +1, "one frame on"),
    "home": Binding(actions.restart, 0, "restart the recording"),
    "space": Binding(actions.pause, 0),
    "page up": Binding(actions.zoom, +1, "3D: zoom in"),
    "page down": Binding(actions.zoom, -1, "3D: zoom out"),
}

#: Actions no key runs, and why.
NOT_ON_KEYS: dict[Action, str] = {
    actions.click: "left click on the depth or 3D view",
    actions.measure_at: "a click while measuring (through click)",
    actions.orbit: "left drag in the 3D view",
    actions.pan: "right drag, or shift + left drag, in the 3D view",
    actions.centre_view: "double click in the 3D view",
}

#: Mouse gestures, for the help.
MOUSE_HELP = (
    ("mouse", "probe depth and X, Y, Z"),
    ("click", "pin the probe / measure"),
    ("drag", "3D: orbit"),
    ("r-drag", "3D: pan (or shift-drag)"),
    ("wheel", "3D: zoom"),
    ("dbl-click", "3D: orbit about that point"),
)


def lookup(char: str, key_name: str) -> Binding | None:
    """The binding for a key press: by special key name first, then by character."""
    if key_name in SPECIAL_KEYS:
        return SPECIAL_KEYS[key_name]
    if char and char in CHAR_KEYS:
        return CHAR_KEYS[char]
    return None


def help_lines() -> list[tuple[str, str]]:
    """(key, what it does) for every documented key and gesture, for the help overlay."""
    lines = []
    for char, binding in CHAR_KEYS.items():
        if binding.help:
            lines.append(("space" if char == " " else char, binding.help))
    lines.append(("0-6", "LED mode (off, green, red ...)"))
    for name, binding in SPECIAL_KEYS.items():
        if binding.help:
            lines.append((name, binding.help))
    lines.extend(MOUSE_HELP)
    return lines
