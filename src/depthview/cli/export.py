"""``depthview export SOURCE OUT``: frames to PNG, 16-bit PNG, MP4, PLY or .npz (the format
follows OUT's name), with a progress bar (frames/s, time left) on stderr."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import DepthviewError
from ..export import FORMATS, LAYOUTS, SUFFIXES, choose_format, export, parse_range
from ..palettes import PALETTES
from . import INTERRUPTED, SOURCE_HELP
from ._filter_args import add_filter_arg
from ._source_args import add_source_args, open_with_args, warn_guesses
from ._types import check_near_far, fps, frames, metres, positive_int


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="export frames to PNG, MP4, PLY, .npz, Rerun .rrd or Foxglove .mcap",
        description="The format follows OUT's name: "
        + ", ".join(f"{s} ({f.description})" for s, f in SUFFIXES.items())
        + "; any other name is a folder of one file per frame (colourised PNG unless "
        "--format says png16 or ply).",
    )
    p.add_argument("source", help=SOURCE_HELP)
    p.add_argument("out", help=f"output file ({', '.join(SUFFIXES)}) or folder (one file a frame)")
    p.add_argument(
        "--format",
        default=None,
        choices=list(FORMATS),
        help="default: from OUT's name, png for a folder; must agree with OUT's name",
    )
    p.add_argument(
        "--layout", default="depth", choices=LAYOUTS, help="picture for png/mp4 (default: depth)"
    )
    p.add_argument(
        "--palette",
        default=None,
        choices=list(PALETTES),
        help="default: glview for raw depth, turbo for millimetres",
    )
    p.add_argument("--near", type=metres, default=None, help="near end of the colour range, metres")
    p.add_argument("--far", type=metres, default=None, help="far end of the colour range, metres")
    p.add_argument("--range", default=None, help="frame numbers START:END, e.g. 10:200")
    p.add_argument("--frames", type=frames, default=None, help="export at most N frames")
    p.add_argument(
        "--every", type=positive_int, default=1, help="keep every Nth frame (default: 1)"
    )
    p.add_argument(
        "--fps",
        type=fps,
        default=None,
        help="frames per second: the MP4's (default: the source's / --every, so it plays in "
        "the source's time; a source's rate is measured from its own frame times where it "
        "has them), and the times of a source that records none (default 30)",
    )
    p.add_argument(
        "--registered",
        action="store_true",
        help="png16, npz: depth aligned to the colour image (mm); ply: each point coloured from "
        "the colour pixel it falls on; with the source's registration, else the default one",
    )
    add_filter_arg(p, "; not with --registered")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace what an earlier export wrote there: the file, or a folder's frame-* "
        "files (other files stay)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_source_args(p)


def run(args: argparse.Namespace) -> int:
    start, stop = parse_range(args.range) if args.range is not None else (0, None)
    check_near_far(args.near, args.far)
    if args.registered and args.intrinsics is not None:
        fmt = choose_format(Path(args.out), args.format)
        if fmt.name == "png16":  # .npz keeps them for its raw depth; ply is only coloured
            raise DepthviewError(
                f"--intrinsics: --registered {fmt.name} depth is aligned to the colour camera "
                "by the registration; the depth camera's intrinsics do not apply to it"
            )
    # Recordings and the demo are read as fast as they can be; a live device as it comes.
    # The demo's frames are timed at --fps, as a source's that records no times.
    demo = args.source.partition(":")[0] == "demo" and args.fps is not None
    with open_with_args(
        args.source, args, realtime=False, **({"fps": args.fps} if demo else {})
    ) as source:
        summary = export(
            source,
            args.out,
            format=args.format,
            layout=args.layout,
            palette=args.palette,
            near=args.near,
            far=args.far,
            start=start,
            stop=stop,
            every=args.every,
            frames=args.frames,
            overwrite=args.overwrite,
            fps=args.fps,
            registered=args.registered,
            progress=not args.quiet,
            filters=args.filter,
            accepted=lambda: warn_guesses(source),  # after every refusal, before progress
        )
    sys.stderr.write(f"depthview: {summary}\n")
    return INTERRUPTED if summary.interrupted else 0
