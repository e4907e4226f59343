"""``depthview stream SOURCE --to TARGET``: watch a Kinect (or recording, or the demo) live in
Rerun or Foxglove, here or from another machine. Wiring only: the sinks live in
``depthview.sinks``. Progress and rates go to stderr; Ctrl-C ends cleanly."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

from ..errors import DepthviewError, SinkError
from ..filters import Chain, filter_frame
from ..frame import Frame
from ..sinks import Sink, Target, parse_target
from ..sinks.targets import RERUN_GRPC_PORT, TARGET_HELP, grpc_port_for
from ..sources.ahead import start_shielded as _start_shielded
from ..sources.base import Source
from . import INTERRUPTED, SOURCE_HELP
from ._filter_args import add_filter_arg, require_filters
from ._source_args import add_source_args, open_with_args, played_at_fps, warn_guesses
from ._types import fps, frames, port

HOST_HELP = (
    "address the rerun-web and foxglove servers listen on (default 127.0.0.1: this machine "
    "only). 0.0.0.0 lets every machine that can reach this one connect and see the camera; "
    "use it only on a network you trust"
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "stream",
        help="send frames live to Rerun or Foxglove",
        description="Stream depth, video and accelerometer to Rerun or Foxglove.",
    )
    p.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help=f"{SOURCE_HELP}; several stand side by side (kinect:0 kinect:1)",
    )
    p.add_argument("--to", required=True, metavar="TARGET", help=f"one of {TARGET_HELP}")
    p.add_argument("--host", default="127.0.0.1", help=HOST_HELP)
    p.add_argument(
        "--grpc-port",
        type=port,
        default=None,
        help=f"rerun-web: port of the data server the page reads (default {RERUN_GRPC_PORT})",
    )
    p.add_argument(
        "--raw-depth",
        action="store_true",
        help="also send raw 11-bit depth (a source that has it: a Kinect, a recording, the demo)",
    )
    p.add_argument("--points", action="store_true", help="foxglove: also send a point cloud")
    p.add_argument("--frames", type=frames, default=None, help="stop after N frames per source")
    p.add_argument(
        "--fps",
        type=fps,
        default=None,
        help="frame rate of the demo and of a source that records no frame times (default 30)",
    )
    p.add_argument("--loop", action="store_true", help="play recordings again at their end")
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress on stderr; a port the system chose (:0) is printed on stdout",
    )
    add_filter_arg(p, "; each source keeps its own temporal state; not with --raw-depth")
    add_source_args(p)


def open_sink(
    target: Target,
    args: argparse.Namespace,
    ahead: list[tuple[str | int | None, Frame]] | None = None,
) -> Sink:
    """The sink a parsed ``--to`` names, with the command's options; ``ahead``: each
    device's first frame, whose Foxglove channels exist before a client can connect."""
    if target.kind == "foxglove":
        from ..sinks.foxglove import FoxgloveSink

        return FoxgloveSink(
            "server",
            host=args.host,
            port=target.port or 0,
            raw_depth=args.raw_depth,
            points=args.points,
            ahead=ahead or (),
        )
    from ..sinks.rerun import RerunSink

    options: dict[str, Any] = {"raw_depth": args.raw_depth}
    if target.kind == "rerun-web":
        return RerunSink(
            "web",
            host=args.host,
            web_port=target.port or 0,
            grpc_port=args.grpc_port,
            **options,
        )
    if target.kind == "rerun-connect":
        assert target.url is not None
        return RerunSink(target.url, **options)
    return RerunSink("spawn", grpc_port=args.grpc_port, **options)


def _open(name: str, args: argparse.Namespace) -> Source:
    """Live sources as they come, the demo and recordings at their own pace."""
    kind = name.partition(":")[0]
    if kind == "demo":
        return open_with_args(name, args, **({} if args.fps is None else {"fps": args.fps}))
    if kind == "kinect":
        return open_with_args(name, args)
    return played_at_fps(open_with_args(name, args, loop=args.loop, realtime=True), args)


class _Feeder(threading.Thread):
    """Reads one source into the sink until it ends, ``limit`` frames, or ``stop``;
    ``first``, read before the sink opened, goes first."""

    def __init__(
        self,
        source: Source,
        sink: Sink,
        device: str | int | None,
        limit: int | None,
        chain: Chain | None = None,
        first: Frame | None = None,
    ) -> None:
        super().__init__(name=f"stream {source.name}", daemon=True)
        self.source, self.sink, self.device, self.limit = source, sink, device, limit
        self.chain = chain
        self.first = first
        self.stop = threading.Event()
        self.frames = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set() and (self.limit is None or self.frames < self.limit):
                frame, self.first = self.first, None
                try:
                    frame = frame if frame is not None else self.source.read()
                except StopIteration:
                    return
                if self.chain is not None:
                    try:
                        frame = filter_frame(frame, self.chain, self.source.registration)
                    except ValueError as exc:  # a frame the filters cannot take (trial AA)
                        raise DepthviewError(f"--filter: {self.source.name}: {exc}") from None
                self.sink.log(frame, device=self.device)
                self.frames += 1
        except BaseException as exc:  # handed to the main thread, which reports it
            self.error = exc


def _first(source: Source) -> Frame | None:
    """A source's first frame, read before the sink opens (None: the source is empty)."""
    try:
        return source.read()
    except StopIteration:
        return None


def _check_raw_depth(sources: list[Source], firsts: list[Frame | None]) -> None:
    """``--raw-depth`` on a source without raw depth (millimetres, TUM's steps, registered
    depth) is refused in one line, not ignored: the sinks send raw values only where a frame
    has them (``sinks.content``)."""
    for source, first in zip(sources, firsts, strict=True):
        if first is not None and not first.depth_format.is_raw:
            raise DepthviewError(
                f"--raw-depth: {source.name} has no raw depth to send, its depth is "
                f"{first.depth_format.unit_name}; leave out --raw-depth"
            )


def _progress(feeders: list[Any], start: float, now: float) -> None:
    """One line: each source's frames sent, and the frames per second since the start (all
    sources): the figure a user divides out, not the last moments' burst or lull. Each
    source's first frame goes at the start, so N frames span N - 1 intervals (trial AC: 2
    frames of a 30 frames/s stream were said as 38.9 a second)."""
    intervals = sum(max(f.frames - 1, 0) for f in feeders)
    rate = intervals / max(now - start, 1e-6)
    parts = " ".join(f"{f.source.name}={f.frames}" for f in feeders)
    end = "\r" if sys.stderr.isatty() else "\n"
    sys.stderr.write(f"stream: {parts} frames, {rate:.1f} frames/s, {now - start:.0f} s{end}")
    sys.stderr.flush()


def _close_sink(sink: Sink, interrupted: bool) -> str:
    """Close ``sink``; after Ctrl-C or SIGTERM, its failure to finish (a receiver that took
    no data, trial R) is said in the interrupted line rather than replacing it."""
    try:
        sink.close()
    except SinkError as exc:
        if not interrupted:
            raise
        return f"; {exc}"
    return ""


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.to)
    args.grpc_port = grpc_port_for(target, args.grpc_port, args.to)
    if args.points and target.kind != "foxglove":
        raise DepthviewError(
            f"--points: a point cloud is sent to foxglove only, got --to {args.to} (Rerun "
            "shows the depth image as points in 3D by itself)"
        )
    if args.filter and args.raw_depth:
        raise DepthviewError(
            "--filter sends filtered millimetres; --raw-depth has no raw depth to send with it"
        )
    require_filters(args.filter)
    sources: list[Source] = []
    sink: Sink | None = None
    feeders: list[_Feeder] = []
    interrupted = False
    unfinished = ""
    try:
        for name in args.sources:
            sources.append(_open(name, args))
            warn_guesses(sources[-1])
        several = len(sources) > 1
        devices = [
            (getattr(s, "serial", None) or i) if several else None for i, s in enumerate(sources)
        ]
        # Foxglove's channels are made from each first frame before a client can connect;
        # --raw-depth is checked on each first frame before any target opens.
        ahead_wanted = target.kind == "foxglove" or args.raw_depth
        firsts = [_first(s) if ahead_wanted else None for s in sources]
        if args.raw_depth:
            _check_raw_depth(sources, firsts)
        ahead = [(d, f) for d, f in zip(devices, firsts, strict=True) if f is not None]
        sink = open_sink(target, args, ahead)
        if not args.quiet:
            sys.stderr.write(f"stream: {', '.join(s.name for s in sources)} -> {sink.where}\n")
        elif target.kind in ("foxglove", "rerun-web") and not target.port:
            print(sink.where, flush=True)  # the port the system chose: where to connect
        for source, device, first in zip(sources, devices, firsts, strict=True):
            sink.set_camera(
                source.intrinsics,
                registration=source.registration,
                device=device,
                aligned=source.video_aligned,
            )
            chain = args.filter(source.registration) if args.filter else None
            feeders.append(_Feeder(source, sink, device, args.frames, chain, first))
        start = time.monotonic()
        for source, first in zip(sources, firsts, strict=True):
            if first is not None:  # read before the server started: pace on from now
                source.repace(first)
        try:
            for feeder in feeders:
                _start_shielded(feeder)
            while any(f.is_alive() for f in feeders):
                for feeder in feeders:
                    feeder.join(timeout=2.0 / len(feeders))
                if not args.quiet:
                    _progress(feeders, start, time.monotonic())
                if any(f.error for f in feeders):
                    break
        except KeyboardInterrupt:
            interrupted = True
        for feeder in feeders:
            feeder.stop.set()
        for feeder in feeders:
            if feeder.ident is not None:  # a Ctrl-C may come before a feeder started
                feeder.join(timeout=10.0)
        for feeder in feeders:
            if feeder.error is not None:
                raise feeder.error
    finally:
        try:
            if sink is not None:
                unfinished = _close_sink(sink, interrupted)
        finally:
            for source in sources:
                source.close()
    sent = f"sent {sum(f.frames for f in feeders)} frames to {sink.where if sink else '-'}"
    if interrupted:  # one line, as every command ends on Ctrl-C (after a progress line's \r)
        start_of_line = "\n" if sys.stderr.isatty() and not args.quiet else ""
        sys.stderr.write(f"{start_of_line}depthview: interrupted: {sent}{unfinished}\n")
    elif not args.quiet:
        sys.stderr.write(f"stream: {sent}\n")
    return INTERRUPTED if interrupted else 0
