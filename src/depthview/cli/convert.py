"""``depthview convert SRC... OUT``: recordings (folders, folders of them, zips of them as
NYU ships them, anything ``view`` opens) into aligned datasets, one scene each, on this
machine or a Dask cluster, with a progress bar (frames/s, scenes done) on stderr."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..datasets import MANIFEST, convert
from ..datasets.engine import INSTALL, have_dask
from ..datasets.job import CHUNK_FRAMES, FORMATS
from ..datasets.pairing import PAIRINGS
from ..errors import cli_words
from ..writers.tum import TUM_SCALES
from ._filter_args import add_filter_arg, require_filters
from ._types import positive_int, seconds


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "convert",
        help="turn recordings into aligned datasets (TUM RGB-D layout, .npz, .rrd or .mcap), "
        "in parallel",
        description="Each scene (a recording folder; each recording in a folder; each one "
        "inside a .zip, read in place; anything 'view' opens) becomes OUT/<scene>/ in TUM "
        "RGB-D's layout (or OUT/<scene>.npz, .rrd, .mcap): depth aligned to the colour image "
        "(TUM: 5000 per metre, as TUM RGB-D; .npz, .rrd, .mcap: millimetres), each depth frame "
        "paired with the nearest usable colour frame by their own times (--pairing). "
        f"OUT/{MANIFEST} has one line per scene and format: every depth frame is kept, "
        "dropped (with the reason) or bad. A scene already written from the same inputs with "
        "the same options is reused; one written otherwise is refused unless --overwrite.",
    )
    p.add_argument("sources", nargs="+", metavar="SRC", help="recordings, folders or .zip files")
    p.add_argument("out", metavar="OUT", help="output folder")
    p.add_argument("--format", default="tum", choices=list(FORMATS), help="default: tum")
    p.add_argument(
        "--calibration",
        default="libfreenect",
        help="libfreenect (the recording's device.json, else the default; the default), nyu "
        "(NYU Depth V2's toolbox, step by step), or a stereo calibration file "
        "(OpenCV/ROS .yaml, .json)",
    )
    p.add_argument(
        "--max-dt",
        type=seconds,
        default=None,
        help="drop pairs whose colour frame is farther than this (seconds) from the depth frame",
    )
    p.add_argument(
        "--depth-format",
        default=None,
        help="how raw depth is read, e.g. nyu (NYU's disparity fit) for a stereo calibration",
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="local worker processes (Dask, for N of 2 or more; 1 and the default: this one "
        "process" + ("" if have_dask() else f"; {INSTALL}") + ")",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        help="a Dask scheduler, tcp://HOST:8786 (default: $DASK_SCHEDULER_ADDRESS)",
    )
    p.add_argument(
        "--chunk",
        type=positive_int,
        default=CHUNK_FRAMES,
        help=f"depth frames per task of a long recording (default: {CHUNK_FRAMES})",
    )
    add_filter_arg(p, " (on the aligned depth; temporal history starts with each scene or chunk)")
    p.add_argument(
        "--pairing",
        default=PAIRINGS[0],
        choices=list(PAIRINGS),
        help="nearest (default: each depth frame takes the nearest usable colour frame, which "
        "may serve two; NYU's rule) or associate (TUM's associate.py: one to one, smallest "
        "time difference first)",
    )
    p.add_argument(
        "--tum-scale",
        type=float,
        default=5000.0,
        choices=sorted(TUM_SCALES, reverse=True),
        help="depth PNG values per metre in the TUM layout: 5000 (default, TUM RGB-D's) or "
        "1000 (millimetres)",
    )
    p.add_argument(
        "--depth-only",
        action="store_true",
        help="write the depth frames alone, in the depth camera's own image (TUM layout: "
        "depth/, depth.txt, camera.yaml), for recordings without colour",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="redo scenes written before with other inputs or options (touches nothing else)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    require_filters(args.filter)
    summary = convert(
        args.sources,
        args.out,
        format=args.format,
        calibration=args.calibration,
        max_dt=args.max_dt,
        depth_format=_depth_format(args.depth_format),
        workers=args.workers,
        scheduler=args.scheduler,
        chunk_frames=args.chunk,
        filters=args.filter,
        pairing=args.pairing,
        tum_scale=args.tum_scale,
        depth_only=args.depth_only,
        overwrite=args.overwrite,
        progress=not args.quiet,
    )
    manifest = Path(summary.out) / MANIFEST  # pointed to only where it is (trial X)
    see = f"; see {MANIFEST}" if manifest.is_file() else f"; no {MANIFEST} was written"
    sys.stdout.write(
        f"{summary.out}: {len(summary.done)} scene(s) converted, {len(summary.skipped)} "
        f"already complete, {len(summary.failed)} failed ({summary.engine}); "
        f"{summary.pairs_kept} pairs kept, {summary.pairs_dropped} dropped, "
        f"{summary.bad_frames} bad frames{see}\n"
    )
    for name, reason in summary.failed:
        sys.stderr.write(f"depthview: error: scene {name}: {cli_words(reason)}\n")
    return 2 if summary.failed else 0


def _depth_format(text: str | None) -> Any:
    if text is None:
        return None
    from ..errors import DepthviewError
    from ..frame import DepthFormat

    try:
        return DepthFormat.parse(text)
    except ValueError as exc:
        raise DepthviewError(f"--depth-format: {exc}") from None
