"""The options every subcommand that opens a source shares: what the depth values count and
the camera's intrinsics, for when the evidence in the files is missing or wrong.

Attach with ``add_source_args(parser)``; open with ``open_with_args(uri, args, **options)``
(or pass ``source_options(args)`` to ``open`` and then ``apply_intrinsics``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import DepthviewError, SourceError, cli_words
from ..geometry import Intrinsics
from ..sources import open as open_source
from ..sources.base import Source
from ._types import depth_scale

DEPTH_FORMATS = (
    "11bit, 10bit, mm, registered; for depth image files also tum (metres x 5000) and sun3d"
)


def parse_intrinsics(text: str) -> Intrinsics:
    """``"594.21,591.04,339.5,242.7"`` -> ``Intrinsics`` (pixels)."""
    try:
        fx, fy, cx, cy = (float(v) for v in text.split(","))
        return Intrinsics(fx, fy, cx, cy)
    except ValueError as exc:
        detail = f": {exc}" if str(exc).startswith("expected") else ""
        raise argparse.ArgumentTypeError(
            f"expected FX,FY,CX,CY in pixels such as 594.21,591.04,339.5,242.7, got {text!r}"
            f"{detail}"
        ) from None


def add_source_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--depth-format``, ``--depth-scale`` and ``--intrinsics`` to ``parser``."""
    units = parser.add_mutually_exclusive_group()
    units.add_argument(
        "--depth-format",
        default=None,
        metavar="FORMAT",
        help=f"what the depth values count: {DEPTH_FORMATS} (default: what the source says)",
    )
    units.add_argument(
        "--depth-scale",
        type=depth_scale,
        default=None,
        metavar="UNITS",
        help="depth units per metre of depth files, e.g. 1000 (mm) or 5000 (TUM)",
    )
    parser.add_argument(
        "--intrinsics",
        type=parse_intrinsics,
        default=None,
        metavar="FX,FY,CX,CY",
        help="depth camera intrinsics in pixels (default: the source's; see depthview info)",
    )


def source_options(args: argparse.Namespace) -> dict[str, Any]:
    """The open options the user gave (``depth_format``, ``depth_scale``), none if not."""
    options: dict[str, Any] = {}
    if getattr(args, "depth_format", None) is not None:
        options["depth_format"] = args.depth_format
    if getattr(args, "depth_scale", None) is not None:
        options["depth_scale"] = args.depth_scale
    return options


def apply_intrinsics(source: Source, args: argparse.Namespace) -> Source:
    """``source``, using ``--intrinsics`` when given."""
    if getattr(args, "intrinsics", None) is not None:
        source.set_intrinsics(args.intrinsics, "--intrinsics")
    return source


def open_with_args(uri: str, args: argparse.Namespace, **options: Any) -> Source:
    """Open ``uri`` with ``options`` plus the user's units and intrinsics options; a source
    that records no frame times is timed by the command's ``--fps`` where it has one."""
    chosen = {**options, **source_options(args)}
    source = _open(uri, chosen)
    rate = getattr(args, "fps", None)
    if rate and source.times_guess and "fps" not in chosen:
        source.close()  # opened again at that rate: its times and its warning follow it
        source = _open(uri, {**chosen, "fps": rate})
    return apply_intrinsics(source, args)


def played_at_fps(source: Source, args: argparse.Namespace) -> Source:
    """``source``, where the command's ``--fps`` (a rate, not 0) applies to it: the demo's
    rate and the times of a source that records none. A source with times of its own plays
    at them, so --fps would change nothing: refused in one line, the source closed (trial
    AA: ``view rec --fps 5`` played at 30, unsaid)."""
    rate = getattr(args, "fps", None)
    if rate and not source.times_from_start:
        source.close()
        raise DepthviewError(
            f"--fps {rate:g}: {source.name} records its own frame times and plays at them "
            "(--fps sets the demo's rate, and the times of a source that records none)"
        )
    return source


def _open(uri: str, options: dict[str, Any]) -> Source:
    try:
        return open_source(uri, **options)
    except SourceError as exc:
        if "depth_scale" in options and "got depth_scale" in str(exc):
            raise SourceError(
                f"{uri}: --depth-scale applies to depth image files (PNG, .npy, .npz); this "
                "source says its own units: use --depth-format to override them"
            ) from None
        raise


def warn_guesses(source: Source) -> None:
    """Say, one line each on stderr, what about ``source`` is a guess: its depth units, and
    its frames' times when it records none. First, where it is read: before any progress."""
    if source.units_guess:  # named: with several sources, which one (trial Y)
        sys.stderr.write(f"depthview: warning: {source.name}: {cli_words(source.units_guess)}\n")
    if source.times_guess:  # (names its source itself)
        sys.stderr.write(f"depthview: warning: {cli_words(source.times_guess)}\n")


__all__ = [
    "add_source_args",
    "apply_intrinsics",
    "open_with_args",
    "parse_intrinsics",
    "source_options",
    "warn_guesses",
]
