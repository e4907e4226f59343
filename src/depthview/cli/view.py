"""``depthview [view] [SOURCE]``: open the desktop viewer. Wiring only; the viewer lives in
``depthview.viewer``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import DepthviewError, SourceError
from ..outputs import check_output, check_target, claimed
from ..palettes import PALETTES, ranged_palette
from ..sources.base import Source
from . import INTERRUPTED, SOURCE_HELP
from ._filter_args import add_filter_arg, require_filters
from ._source_args import add_source_args, open_with_args, played_at_fps
from ._types import check_near_far, fps_or_zero, frames, metres, png_name

#: ``--size``'s bounds per side: SDL makes no window wider or taller than 16384 (trial R:
#: 99999x99999 was shrunk to it with SDL's own warning, a 1 GiB picture).
MIN_SIDE, MAX_SIDE = 16, 16384


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH such as 1280x480, got {text!r}") from None
    if w < MIN_SIDE or h < MIN_SIDE:
        raise argparse.ArgumentTypeError(
            f"expected a size of at least {MIN_SIDE}x{MIN_SIDE}, got {text!r}"
        )
    if w > MAX_SIDE or h > MAX_SIDE:
        raise argparse.ArgumentTypeError(
            f"expected a size of at most {MAX_SIDE}x{MAX_SIDE}, got {text!r}"
        )
    return (w, h)


#: ``--orbit``'s yaw: a turn either way at most (the view shows it within -180..180).
MAX_YAW = 360.0


def _orbit(text: str) -> tuple[float, float]:
    try:
        yaw, pitch = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected YAW,PITCH in degrees such as 30,-15, got {text!r}"
        ) from None
    if not -MAX_YAW <= yaw <= MAX_YAW:  # nan and inf too (trial R: 1e308 printed in full)
        raise argparse.ArgumentTypeError(
            f"expected a yaw within -{MAX_YAW:g}..{MAX_YAW:g} degrees, got {yaw:g}"
        )
    if not -89 <= pitch <= 89:
        raise argparse.ArgumentTypeError(f"expected a pitch within -89..89 degrees, got {pitch:g}")
    return (yaw, pitch)


#: Options whose value may start with "-" (``--orbit -25,10``): argparse would take it
#: for an option, so ``prepare_argv`` writes such a pair as ``--orbit=-25,10``.
DASH_VALUE_OPTIONS = ("--orbit",)


def prepare_argv(argv: list[str]) -> list[str]:
    """``argv`` with each ``--orbit VALUE`` joined into ``--orbit=VALUE`` (a value such as
    ``-25,10`` would otherwise read as an unknown option)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            out.extend(argv[i:])
            break
        if arg in DASH_VALUE_OPTIONS and i + 1 < len(argv):
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def add_parser(sub: Any) -> None:
    from ..viewer.layout import Layout

    p = sub.add_parser("view", help="open the viewer window (the default command)")
    p.add_argument(
        "source",
        nargs="?",
        default=None,
        help=f"{SOURCE_HELP} (default: the first Kinect, else the demo)",
    )
    p.add_argument(
        "--palette",
        default=None,
        choices=PALETTES,
        help="depth colours (default: glview, libfreenect's own; turbo with --near/--far)",
    )
    p.add_argument("--near", type=metres, default=None, help="near end of the range, metres")
    p.add_argument("--far", type=metres, default=None, help="far end of the range, metres")
    p.add_argument(
        "--layout",
        default=None,
        choices=[m.value for m in Layout],
        help="panels to show: both, depth, video, overlay, 3d (the point cloud), 3d-video or "
        "split (depth before and after --filter) (default: both, or depth alone when the "
        "source has no video)",
    )
    add_filter_arg(p, "; in the window F turns them on and off, P cycles presets, V splits")
    p.add_argument(
        "--orbit",
        type=_orbit,
        default=(0.0, 0.0),
        metavar="YAW,PITCH",
        help="start the 3D view turned by these degrees, yaw within -360..360, pitch within "
        "-89..89 (default: 0,0, the Kinect's view)",
    )
    p.add_argument(
        "--size",
        type=_size,
        default=None,
        help=f"window size WxH, e.g. 1280x480 ({MIN_SIDE}..{MAX_SIDE} a side)",
    )
    p.add_argument("--fullscreen", action="store_true", help="start in fullscreen")
    p.add_argument("--mirror", action="store_true", help="mirror depth and video left to right")
    p.add_argument("--no-hud", dest="hud", action="store_false", help="start with the HUD off")
    p.add_argument("--frames", type=frames, default=None, help="quit after N displayed frames")
    p.add_argument(
        "--stats", action="store_true", help="print one JSON line of timing figures last"
    )
    p.add_argument(
        "--screenshot",
        type=png_name,
        default=None,
        help="save the window to this PNG after the last frame (not when the source "
        "failed; an existing file: only with --overwrite)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="let --screenshot replace an existing file",
    )
    p.add_argument(
        "--fps",
        type=fps_or_zero,
        default=None,
        help="frame rate of the demo and of a source that records no frame times (default 30); "
        "0 reads a recording as fast as it can",
    )
    p.add_argument(
        "--no-loop",
        dest="loop",
        action="store_false",
        help="stop at the end of a recording instead of starting again",
    )
    p.add_argument(
        "--snapshot-dir",
        type=Path,
        default=None,
        help="where p (snapshot) and R (record) write (default: the current folder)",
    )
    add_source_args(p)


def _open(args: argparse.Namespace) -> Source:
    """The named source with the options that suit its kind; unnamed: a Kinect, else the demo."""
    name, fps = args.source, args.fps
    demo_options: dict[str, Any] = {} if fps is None else {"fps": fps}
    if name is None:
        try:
            return open_with_args("kinect", args)
        except SourceError as exc:
            sys.stderr.write(f"depthview: no Kinect ({exc}); showing the demo\n")
            return open_with_args("demo", args, **demo_options)
    kind = name.partition(":")[0]
    if kind == "demo":
        return open_with_args(name, args, **demo_options)
    if kind == "kinect":
        return open_with_args(name, args)
    # A recording or frame files: loop like libfreenect's fakenect, paced unless --fps 0.
    return played_at_fps(open_with_args(name, args, loop=args.loop, realtime=fps != 0), args)


def run(args: argparse.Namespace) -> int:
    from ..viewer.app import check_writable
    from ..viewer.view3d import points_wanted

    points_wanted()  # DEPTHVIEW_POINTS names cpu, gpu or auto: said before any window opens

    check_near_far(args.near, args.far)
    try:  # the same rule as export's: a range asks for a metric palette
        args.palette = ranged_palette(args.palette, args.near, args.far) or "glview"
    except ValueError as exc:
        raise DepthviewError(str(exc)) from None
    if args.screenshot is not None:  # the one --overwrite rule, as export's
        check_writable(args.screenshot, "--screenshot")
        check_target(args.screenshot, folder=False, overwrite=args.overwrite, what="--screenshot")
    if args.snapshot_dir is not None:  # said now, not at the first p or R
        check_target(
            args.snapshot_dir, folder=True, overwrite=False, adds=True, what="--snapshot-dir"
        )
    else:
        args.snapshot_dir = Path.cwd()
    require_filters(args.filter)
    if args.screenshot is None:
        return _view(args)
    with claimed(args.screenshot, DepthviewError):  # one run writes a screenshot at a time
        return _view(args)


def _view(args: argparse.Namespace) -> int:
    """Open the source and run the window (``run`` checked the options)."""
    from ..viewer import Layout, ViewerFailed, ViewerOptions, run_viewer

    source = _open(args)
    try:  # p, R and --screenshot never write into what is being played
        check_output(
            args.snapshot_dir,
            source.inputs,
            DepthviewError,
            "--snapshot-dir (default: the current folder)",
            contains=False,
        )
        if args.screenshot is not None:
            check_output(args.screenshot, source.inputs, DepthviewError, "--screenshot")
    except DepthviewError:
        source.close()
        raise
    palette = args.palette
    options = ViewerOptions(
        palette=palette,
        near=args.near,
        far=args.far,
        layout=Layout.parse(args.layout or ("depth" if source.has_video is False else "both")),
        size=args.size,
        fullscreen=args.fullscreen,
        mirror=args.mirror,
        hud=args.hud,
        frames=args.frames,
        screenshot=args.screenshot,
        snapshot_dir=args.snapshot_dir,
        title=f"depthview - {source.name}",
        orbit=args.orbit,
        filters=args.filter.text if args.filter else None,
    )
    status = 0
    try:
        stats = run_viewer(source, options)
    except ViewerFailed as exc:  # already shown in the window and on stderr
        stats, status = exc.stats, 2
    finally:
        source.close()
    if args.screenshot is not None and status == 0:
        print(f"screenshot: {args.screenshot}", flush=True)
    if args.stats:
        print(json.dumps(stats), flush=True)
    if stats.get("interrupted") and status == 0:  # as export, record and stream end
        sys.stderr.write("depthview: interrupted, the window closed\n")
        status = INTERRUPTED
    return status
