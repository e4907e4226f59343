"""``depthview export SOURCE OUT``: frames to PNG, 16-bit PNG, MP4, PLY or .npz, with a
progress bar (frames/s, time left) on stderr."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..export import FORMATS, LAYOUTS, export, parse_range
from ..palettes import PALETTES
from ..sources import Source
from ..sources import open as open_source


def add_parser(sub: Any) -> None:
    p = sub.add_parser("export", help="export frames to PNG, MP4, PLY point clouds or .npz")
    p.add_argument("source", help="'demo', a recording folder, or 'kinect'")
    p.add_argument("out", help="output folder (png, png16, ply) or file (mp4, npz)")
    p.add_argument("--format", default="png", help=f"one of {', '.join(FORMATS)}")
    p.add_argument("--layout", default="depth", help=f"one of {', '.join(LAYOUTS)}")
    p.add_argument("--palette", default="glview", help=f"one of {', '.join(PALETTES)}")
    p.add_argument("--near", type=float, default=None, help="near end of the range (metres)")
    p.add_argument("--far", type=float, default=None, help="far end of the range (metres)")
    p.add_argument("--frames", default=None, help="frame range START:END, e.g. 10:200")
    p.add_argument("--every", type=int, default=1, help="keep every Nth frame")
    p.add_argument("--fps", type=float, default=None, help="MP4 frame rate (default: source's)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _open(uri: str) -> Source:
    """Recordings and the demo as fast as they read; live devices as they come."""
    return open_source(uri, realtime=False)


def run(args: argparse.Namespace) -> int:
    start, stop = parse_range(args.frames) if args.frames else (0, None)
    with _open(args.source) as source:
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
            overwrite=args.overwrite,
            fps=args.fps,
            progress=not args.quiet,
        )
    sys.stderr.write(f"{summary}\n")
    return 0
