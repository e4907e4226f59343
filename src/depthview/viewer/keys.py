"""The key -> action table, and the help overlay text built from it.

Printable keys are matched on the character typed (so ``C``, ``R``, ``{`` and ``+`` work
whatever the keyboard layout); special keys on their pygame key code."""

from __future__ import annotations

#: Character -> (action, argument, help text). glview's keys first.
CHAR_ACTIONS: dict[str, tuple[str, int, str]] = {
    "w": ("tilt", +1, "tilt up 1 degree"),
    "x": ("tilt", -1, "tilt down 1 degree"),
    "s": ("level", 0, "level the tilt (0 degrees)"),
    **{str(i): ("led", i, f"LED mode {i}") for i in range(7)},
    "f": ("video_format", 0, "cycle video format (RGB, YUV, IR)"),
    "m": ("mirror", 0, "mirror"),
    "o": ("rotate", 0, "rotate image by accelerometer"),
    "e": ("flag", 0, "auto exposure"),
    "b": ("flag", 1, "auto white balance"),
    "r": ("flag", 2, "raw colour"),
    "n": ("flag", 3, "near mode"),
    "+": ("ir", +1, "IR brightness up"),
    "=": ("ir", +1, ""),
    "-": ("ir", -1, "IR brightness down"),
    "q": ("quit", 0, "quit"),
    "c": ("palette", +1, "next palette"),
    "C": ("palette", -1, "previous palette"),
    "[": ("near", -1, "near limit closer"),
    "]": ("near", +1, "near limit farther"),
    "{": ("far", -1, "far limit closer"),
    "}": ("far", +1, "far limit farther"),
    "a": ("auto_range", 0, "auto range (histogram equalised)"),
    " ": ("pause", 0, "pause / resume"),
    "p": ("snapshot", 0, "snapshot (PNG + 16-bit depth PNG + .npy)"),
    "R": ("record", 0, "start / stop recording"),
    "v": ("layout", 0, "cycle layout (both, depth, video, overlay)"),
    "h": ("hud", 0, "HUD on / off"),
    "?": ("help", 0, "this help"),
    ",": ("opacity", -1, "overlay opacity down"),
    ".": ("opacity", +1, "overlay opacity up"),
    "i": ("pin", 0, "pin / unpin a probe point at the mouse (or click)"),
}

#: Flags toggled by ``e``, ``b``, ``r``, ``n`` (the argument above indexes this).
FLAGS = ("auto_exposure", "auto_white_balance", "raw_color", "near_mode")

#: Names of special keys (pygame key names, as ``pygame.key.name`` gives) -> action.
SPECIAL_ACTIONS: dict[str, tuple[str, int, str]] = {
    "escape": ("quit", 0, "quit"),
    "f1": ("help", 0, "this help"),
    "f11": ("fullscreen", 0, "fullscreen"),
    "left": ("step", -1, "step one frame back"),
    "right": ("step", +1, "step one frame forward"),
    "home": ("restart", 0, "restart the recording"),
    "space": ("pause", 0, ""),
}


def lookup(char: str, key_name: str) -> tuple[str, int] | None:
    """The action for a key press: by special key name first, then by character."""
    if key_name in SPECIAL_ACTIONS:
        action, arg, _ = SPECIAL_ACTIONS[key_name]
        return action, arg
    if char and char in CHAR_ACTIONS:
        action, arg, _ = CHAR_ACTIONS[char]
        return action, arg
    return None


def help_lines() -> list[str]:
    """One line per documented key, for the help overlay."""
    lines = []
    for char, (_, _, text) in CHAR_ACTIONS.items():
        if text and not char.isdigit():
            shown = "space" if char == " " else char
            lines.append(f"{shown:>6}  {text}")
    lines.append(f"{'0-6':>6}  LED mode (off, green, red, yellow, blink ...)")
    for name, (_, _, text) in SPECIAL_ACTIONS.items():
        if text:
            lines.append(f"{name:>6}  {text}")
    lines.append(f"{'mouse':>6}  probe depth under the pointer")
    return lines
