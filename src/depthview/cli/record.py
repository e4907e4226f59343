"""``depthview record SOURCE OUT``: record a source into a fakenect folder any libfreenect
program can replay. Ctrl-C or SIGTERM ends it cleanly, keeping what was recorded; a one-line
summary is printed last (after either on stderr as "interrupted: ...", exit 130, as every
command ends)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from typing import Any

from ..errors import RecordingError
from ..frame import DepthFormat
from ..recording import (
    MODE_ADVICE,
    Mode,
    intrinsics_not_kept,
    record,
    refuse_depth_format,
    refuse_intrinsics,
)
from ..soft_stop import stop_on_signal
from . import INTERRUPTED, SOURCE_HELP
from ._source_args import add_source_args, open_with_args, warn_guesses
from ._types import duration, frames


def add_parser(sub: Any) -> None:
    p = sub.add_parser("record", help="record a source as a libfreenect (fakenect) recording")
    p.add_argument("source", help=SOURCE_HELP)
    p.add_argument("out", help="folder to write (must be new or empty)")
    p.add_argument("--frames", type=frames, default=None, help="stop after N frames")
    p.add_argument(
        "--seconds",
        type=duration,
        default=None,
        help="stop after S seconds of the source's clock (a recording's own times, "
        "however fast it is read; a live Kinect's also of wall time)",
    )
    p.add_argument("--depth-only", action="store_true", help="leave the video out")
    p.add_argument("--fsync", action="store_true", help="fsync every file (slower, safer)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_source_args(p)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--append", action="store_true", help="add to an existing recording")
    group.add_argument("--overwrite", action="store_true", help="replace an existing recording")


def run(args: argparse.Namespace) -> int:
    mode: Mode = "append" if args.append else "overwrite" if args.overwrite else "new"
    if args.depth_format is not None:  # what the recording cannot hold: said first
        with contextlib.suppress(ValueError):  # a name that is no format: said on opening
            refuse_depth_format(DepthFormat.parse(args.depth_format), args.depth_format)
    if args.intrinsics is not None:  # what the recording cannot hold either
        refuse_intrinsics()
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        stop.set()

    # The demo plays at its own pace, like a camera; recordings and files are copied as fast
    # as they read (their frames keep their recorded times); a Kinect ignores the option.
    realtime = args.source.partition(":")[0] == "demo"
    with (
        stop_on_signal(on_signal),
        open_with_args(args.source, args, realtime=realtime) as source,
    ):
        try:
            summary = record(
                source,
                args.out,
                frames=args.frames,
                seconds=args.seconds,
                depth_only=args.depth_only,
                mode=mode,
                stop=stop,
                fsync=args.fsync,
                progress=not args.quiet,
                accepted=lambda: warn_guesses(source),  # after every refusal, before progress
            )
        except RecordingError as exc:  # the library's mode= is the command's options here
            said = str(exc).replace(MODE_ADVICE, "use --append or --overwrite")
            raise RecordingError(said) from None
        lost = intrinsics_not_kept(source, args.out) if summary.frames else ""
        if lost:
            sys.stderr.write(f"depthview: warning: {lost}\n")
    if received:  # kept, and said as every command says it
        sys.stderr.write(f"depthview: interrupted: {summary}\n")
        return INTERRUPTED
    print(summary, flush=True)  # the end of the source, --frames or --seconds
    return 0
