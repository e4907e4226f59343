"""Argument types shared by the subcommands, so an option means and checks the same thing
everywhere (argparse turns their errors into ``argument --frames: expected ...``)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from .._checks import (
    COUNT,
    DEPTH_SCALE,
    DURATION,
    FPS,
    FPS_OR_AS_FAST,
    FRAMES,
    SECONDS,
    Quantity,
    ascii_number,
)


def argument_type(quantity: Quantity) -> Callable[[str], float]:
    """An argparse type for ``quantity``: the number, or argparse's one-line refusal."""

    def parse(text: str) -> float:
        try:
            return quantity.check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = quantity.what.replace(" ", "_")
    return parse


def png_name(text: str) -> Path:
    """A file name ending in ``.png`` (a picture depthview writes as PNG, whatever else the
    name says: a ``.jpg`` or no suffix would be a PNG mislabelled)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a file name ending in .png, got an empty one")
    if not text.lower().endswith(".png") or text.endswith(("/", "\\")):
        raise argparse.ArgumentTypeError(f"expected a file name ending in .png, got {text!r}")
    return Path(text)


def count_type(quantity: Quantity) -> Callable[[str], int]:
    """An argparse type for a whole ``quantity``: the int, or argparse's one-line refusal."""
    parse = argument_type(quantity)

    def count(text: str) -> int:
        return int(parse(text))

    count.__name__ = parse.__name__
    return count


#: ``--frames`` of every command: whole, 1 .. 10^9 (``_checks.FRAMES``).
frames = count_type(FRAMES)
#: Any other count (``--every``, ``--chunk``, ``--workers``): whole, 1 .. 10^9.
positive_int = count_type(COUNT)
#: How long a run lasts (``record --seconds``): finite, > 0, <= 10^6 (``_checks.DURATION``).
duration = argument_type(DURATION)


#: Frames per second: finite, > 0.
fps = argument_type(FPS)
#: Frames per second, or 0 for as fast as the source can.
fps_or_zero = argument_type(FPS_OR_AS_FAST)
#: Seconds: finite, > 0.
seconds = argument_type(SECONDS)
#: Depth units per metre of depth files: finite, > 0.
depth_scale = argument_type(DEPTH_SCALE)


def port(text: str) -> int:
    """A TCP port 0..65535 (0: any free one)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port 0..65535 (0: any free), got {text!r}")
    return value


def metres(text: str) -> float:
    """A finite distance >= 0 in metres, such as the ends of a colour range."""
    value = ascii_number(text)
    if math.isnan(value):
        raise argparse.ArgumentTypeError(f"expected metres such as 0.8, got {text!r}")
    from ..colorize import MAX_METRES

    if not (math.isfinite(value) and 0 <= value <= MAX_METRES):
        raise argparse.ArgumentTypeError(f"expected metres from 0 to {MAX_METRES:g}, got {text!r}")
    return value


def check_near_far(near: float | None, far: float | None) -> None:
    """``--near``/``--far``, alone or together, give a range near < far; a missing end is
    its default, which the refusal names (``view`` and ``export`` alike)."""
    from ..colorize import resolve_range
    from ..errors import DepthviewError

    lo, hi = resolve_range(near, far)
    if (near is None and far is None) or lo < hi:
        return
    said = f"--near {lo:g}" + (" (its default)" if near is None else "")
    said += f" must be less than --far {hi:g}" + (" (its default)" if far is None else "")
    raise DepthviewError(said)
