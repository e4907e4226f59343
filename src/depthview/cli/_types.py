"""Argument types shared by the subcommands, so an option means and checks the same thing
everywhere (argparse turns their errors into ``argument --frames: expected ...``)."""

from __future__ import annotations

import argparse
import math


def positive_int(text: str) -> int:
    """A whole number >= 1, such as a count of frames."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0, such as seconds or frames per second."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


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
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected metres such as 0.8, got {text!r}") from None
    from ..colorize import MAX_METRES

    if not (math.isfinite(value) and 0 <= value <= MAX_METRES):
        raise argparse.ArgumentTypeError(f"expected metres from 0 to {MAX_METRES:g}, got {text!r}")
    return value
