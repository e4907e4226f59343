"""``depthview scan SOURCE [OUT]``: a 3D model from a moving Kinect, a recording or a
dataset folder (``depthview.scan``). On exit (or Ctrl-C): OUT, a coloured mesh (.ply
binary or .obj), the trajectory beside it in TUM's format and the parameters used."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ..errors import DepthviewError, cli_words
from ..outputs import check_output, check_target, claimed, partial_path, why_not_written
from ..sinks.targets import RERUN_GRPC_PORT
from . import INTERRUPTED, SOURCE_HELP
from ._source_args import add_source_args, open_with_args, warn_guesses
from ._types import duration, frames, metres, png_name, port

if TYPE_CHECKING:
    from ..scan import Scanner
    from ..scan.params import TooManyLevels
    from ..sinks.targets import Target


def _iterations(text: str) -> tuple[int, ...]:
    try:
        if not text.isascii():
            raise ValueError(text)
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers per level, coarsest first, such as 6,4,3, got {text!r}"
        ) from None
    return values


class _OptionsProbe(argparse.ArgumentParser):
    """The scan's options alone, to tell their values from SOURCE and OUT; its mistakes
    are left for the real parser to say."""

    def error(self, message: str) -> NoReturn:
        raise ValueError(message)


def prepare_argv(argv: list[str]) -> list[str]:
    """``argv`` (``scan ...``) with SOURCE and OUT moved before the options, so that OUT
    may come anywhere (``scan SRC --no-window --frames 3 OUT``): argparse takes the
    positionals only in one run, and its intermixed parsing does not work under a
    subcommand. What is left over by a parser of the options alone is SOURCE and OUT."""
    args = argv[1:]
    after: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, after = args[:cut], args[cut + 1 :]
    probe = _OptionsProbe(add_help=False)
    _add_options(probe)
    try:
        _, left_over = probe.parse_known_args(args)
    except ValueError:
        return argv
    if any(a != "-" and a.startswith("-") for a in left_over):
        return argv  # an unknown option: argparse says it as typed (not its value first)
    positionals = [a for a in left_over if a == "-" or not a.startswith("-")]
    options = list(args)
    for arg in positionals:
        options.remove(arg)
    if after:  # what follows ``--`` stays positional, whatever it looks like
        return [argv[0], *options, "--", *positionals, *after]
    return [argv[0], *positionals, *options]


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "scan",
        help="build a coloured 3D mesh from a moving camera (KinectFusion-class)",
        description="Tracks each frame against the model and fuses it into a voxel-block "
        "TSDF; writes OUT (.ply binary or .obj, default scan-<time>.ply), OUT's "
        "-trajectory.txt (TUM format) and -params.json beside it. Ctrl-C keeps what was "
        "built.",
    )
    p.add_argument("source", help=SOURCE_HELP + "; demo:walk is a camera moving in the room")
    p.add_argument("out", nargs="?", default=None, help="the mesh: .ply or .obj")
    _add_options(p)


def _add_options(p: argparse.ArgumentParser) -> None:
    """Every option of ``scan`` (``prepare_argv`` parses them alone)."""
    p.add_argument(
        "--no-window",
        action="store_true",
        help="run as a batch job with a progress bar instead of the scan window",
    )
    p.add_argument(
        "--screenshot",
        type=png_name,  # as view's (trial AQ D9: a Targa image named shot.ply)
        default=None,
        metavar="PNG",
        help="the window: save its last picture here on quitting",
    )
    p.add_argument("--stats", action="store_true", help="print one JSON line of figures last")
    p.add_argument("--frames", type=frames, default=None, help="scan at most N frames")
    p.add_argument("--voxel", type=metres, default=None, help="voxel size, metres (0.01)")
    p.add_argument("--truncation", type=metres, default=None, help="truncation band, metres (0.04)")
    p.add_argument("--near", type=metres, default=None, help="nearest reading used, m (0.4)")
    p.add_argument("--far", type=metres, default=None, help="farthest reading used, m (4)")
    p.add_argument(
        "--icp-iterations",
        type=_iterations,
        default=None,
        metavar="N,N,N",
        help="ICP iterations per level, coarsest first (6,4,3)",
    )
    p.add_argument(
        "--to",
        default=None,
        metavar="TARGET",
        help="also send the model and the camera path as they grow: rerun, "
        "rerun+http://HOST:PORT/proxy, rerun-web[:PORT] or foxglove[:PORT]",
    )
    p.add_argument(
        "--grpc-port",
        type=port,
        default=None,
        help=f"rerun-web: port of the data server the page reads (default {RERUN_GRPC_PORT}), "
        "as stream's",
    )
    p.add_argument(
        "--model-every",
        type=duration,
        default=None,
        metavar="SECONDS",
        help="with --to: send the mesh every SECONDS (default 2; the path goes every frame)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing output")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_source_args(p)


def _params(args: argparse.Namespace) -> Any:
    from ..scan import ScanParams

    given = {
        "voxel_m": args.voxel,
        "truncation_m": args.truncation,
        "depth_min_m": args.near,
        "depth_max_m": args.far,
        "icp_iterations": args.icp_iterations,
    }
    chosen = {k: v for k, v in given.items() if v is not None}
    if "voxel_m" in chosen and "truncation_m" not in chosen:
        chosen["truncation_m"] = 4 * chosen["voxel_m"]
    try:
        return ScanParams(**chosen)
    except ValueError as exc:
        raise _as_options(exc) from None


_FLAGS = {
    "voxel_m": "--voxel",
    "truncation_m": "--truncation",
    "depth_min_m": "--near",
    "depth_max_m": "--far",
    "icp_iterations": "--icp-iterations",
}


def _as_options(exc: ValueError) -> DepthviewError:
    """``ScanParams``' refusal in the command line's words (its fields named as options)."""
    name, _, rest = str(exc).partition(": ")
    for field, flag in _FLAGS.items():
        rest = rest.replace(field, flag)
    return DepthviewError(f"{_FLAGS.get(name, name)}: {rest}")


def _too_many_levels(exc: TooManyLevels, source: str) -> DepthviewError:
    """The frames' size holds fewer tracking levels than ``--icp-iterations`` names, or
    none (the source's frames are too small: said naming it) (``ScanParams.check_levels``,
    met at the first frame): before anything is written."""
    from ..scan.params import FramesTooSmall

    said = f"{source}: {exc}" if isinstance(exc, FramesTooSmall) else _as_options(exc)
    return DepthviewError(f"{said}; nothing was written")


def _other_mesh(out: Path, suffixes: tuple[str, ...]) -> Path | None:
    """A mesh beside ``out`` with its stem and another mesh suffix, in any case (``a.obj``,
    ``a.PLY`` beside ``a.ply``): it shares ``out``'s companions (trial AO D1)."""
    try:
        with os.scandir(out.parent) as entries:
            for entry in entries:
                name = Path(entry.name)
                if (
                    name.stem == out.stem
                    and name.suffix.lower() in suffixes
                    and name != Path(out.name)
                ):
                    return out.with_name(entry.name)
    except OSError:
        pass
    return None


def _out_path(args: argparse.Namespace) -> Path:
    """OUT (or ``scan-<time>.ply``), checked before anything is read: its suffix, and
    that it and its companions can be written there (``outputs.check_target``, then a
    trial write of the temporary name, which catches what permissions do not say: /proc,
    a read-only mount, a name too long)."""
    from ..scan.files import MESH_SUFFIXES, companions

    if args.out is not None and not args.out.strip():
        raise DepthviewError("OUT: expected a mesh file name such as room.ply, got an empty one")
    if args.screenshot is not None and args.no_window:
        raise DepthviewError(
            f"--screenshot {args.screenshot}: saves the scan window's picture, and "
            "--no-window shows none; drop one of them"
        )
    out = Path(args.out or time.strftime("scan-%Y%m%d-%H%M%S.ply"))
    if out.suffix.lower() not in MESH_SUFFIXES:
        raise DepthviewError(
            f"{out}: expected a mesh file ending in {' or '.join(MESH_SUFFIXES)}, "
            f"got {out.suffix or 'no suffix'}"
        )
    for path in (out, *companions(out)):
        check_target(path, folder=False, overwrite=args.overwrite, what="the scan")
    # (after check_target: a name too long to look at is said there, in one line)
    other = _other_mesh(out, MESH_SUFFIXES)
    if other is not None and any(c.exists() for c in companions(out)):  # (trial AM D9)
        raise DepthviewError(
            f"{out}: {other.name} beside it is a scan whose trajectory and params files are "
            f"the ones {out.name} would write; give another name, or remove {other.name}"
        )
    if args.screenshot is not None:  # the one --overwrite rule, as view's (trial AE: replaced)
        from ..viewer.app import check_writable

        if args.screenshot.resolve() in {p.resolve() for p in (out, *companions(out))}:
            raise DepthviewError(
                f"--screenshot {args.screenshot}: expected a file apart from the scan's, got one "
                "of them; name another"
            )
        check_writable(args.screenshot, "--screenshot")
        check_target(args.screenshot, folder=False, overwrite=args.overwrite, what="--screenshot")
    probe = partial_path(out)
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DepthviewError(
            f"{out}: cannot write into {out.parent} ({exc.strerror or exc}); nothing was written"
        ) from None
    return out


def _open_sink(target: Any, grpc_port: int) -> Any:
    """The sink ``--to`` names: Rerun's as ``stream`` opens it; a Foxglove server with the
    model's channels made before it listens."""
    from .stream import open_sink

    if target.kind == "foxglove":
        from ..sinks.foxglove import FoxgloveSink

        sink = FoxgloveSink("server", port=target.port or 0, model=True)
        sys.stderr.write(f"depthview: Foxglove server at {sink.where}\n")
        return sink

    options = argparse.Namespace(
        host="127.0.0.1", grpc_port=grpc_port, raw_depth=False, points=False
    )
    opened = open_sink(target, options)
    # where to look, said as the scan starts, as stream says it (trial AK D3: only at its end)
    sys.stderr.write(f"depthview: the model goes to {opened.where}\n")
    return opened


def _sent(sink: Any, scanner: Any, tracked: Any, with_mesh: bool) -> Any:
    """``_send``, and the sink to send to next: None once it refused the model (said once,
    the sink closed): the scan's mesh is its result, and goes on (trial AO D3: a Foxglove
    server refused a time below 0 in a traceback, and nothing was written)."""
    from ..errors import SinkError

    try:
        _send(sink, scanner, tracked, with_mesh)
    except SinkError as exc:
        sink.close()
        warnings.warn(f"{exc}: the model is no longer sent; the scan goes on", stacklevel=1)
        return None
    return sink


def _send(sink: Any, scanner: Any, tracked: Any, with_mesh: bool) -> None:
    """The camera path and pose, and the mesh when ``with_mesh``, to ``sink``."""
    import numpy as np

    path = np.array([s.pose[:3, 3] for s in scanner.trajectory if s.ok], dtype=np.float32)
    mesh = scanner.mesh() if with_mesh else None
    sink.log_model(
        tracked.timestamp,
        path,
        tracked.pose,
        None if mesh is None else (mesh.vertices, mesh.triangles, mesh.colours),
    )


def _came_from(source: Any, scanner: Any) -> dict[str, Any]:
    """What the mesh's metres came from, for its params file: the source, its units and the
    camera its frames were taken with (trial AI D4: scans of one source with other
    ``--intrinsics`` or units wrote the same params file)."""
    taken = scanner.last_input[2] if scanner.last_input is not None else source.intrinsics
    return {
        "source": source.name,
        "units": cli_words(source.units_note),
        "intrinsics": dataclasses.asdict(taken),
    }


def _save_screenshot(args: argparse.Namespace, window_run: Any, written: list[Path]) -> None:
    """``--screenshot``: the window's last picture, written once the scan's own files are;
    a scan that wrote nothing writes none, and replaces no earlier one (trial AK D2). When
    it cannot be written, the line says the scan's files were (trial AQ D10: only "cannot
    write", the earlier scan replaced unsaid)."""
    if window_run is None or window_run.screenshot is None:
        return
    from ..viewer.present import write_picture

    try:
        write_picture(args.screenshot, window_run.screenshot)
    except OSError as exc:
        kept = f"; the scan's files are written: {', '.join(map(str, written))}" if written else ""
        raise DepthviewError(
            f"--screenshot {args.screenshot}: cannot write ({why_not_written(exc)}){kept}"
        ) from None


def _window(
    args: argparse.Namespace, source: Any, scanner: Any, out: Path, params: Any, saved: list[Path]
) -> Any:
    """The scan window (``viewer.scan_window``); ``s`` saves what is built so far (the
    files it wrote, last, in ``saved``)."""
    from ..scan.files import write_all
    from ..viewer.scan_window import run_window

    def save() -> list[Path]:
        """The model's files, or [] when it has no surface yet (nothing written: an empty
        mesh over an earlier scan's was trial AQ D7)."""
        mesh = scanner.mesh()
        if len(mesh.triangles) == 0:
            return []
        saved[:] = write_all(
            out, mesh, scanner.trajectory, params, _came_from(source, scanner),
            colour=scanner.coloured,
        )  # fmt: skip
        return saved

    return run_window(source, scanner, save, args.screenshot, args.frames)


#: ``--model-every``'s default, in seconds.
MODEL_EVERY_S = 2.0


def _sink_options(args: argparse.Namespace) -> Target | None:
    """``--to``'s target, if any. ``--grpc-port`` and ``--model-every`` shape what it sends:
    without it (or, for the port, with a target that has no such server) they would change
    nothing, unsaid (trials AK D4, AM D2); refused in one line. Their defaults set."""
    from ..sinks.targets import grpc_port_for, parse_target

    if args.to is None and args.model_every is not None:
        raise DepthviewError(
            "--model-every: shapes what --to sends, and no --to was given: it would change "
            "nothing; drop it, or add --to"
        )
    target = parse_target(args.to) if args.to is not None else None
    args.grpc_port = grpc_port_for(target, args.grpc_port, args.to)
    args.model_every = MODEL_EVERY_S if args.model_every is None else args.model_every
    return target


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    target = _sink_options(args)
    params = _params(args)
    out = _out_path(args)
    # one run writes a scan at a time (trial AK D5: a second scan to the same OUT replaced
    # the first one's files while it ran)
    with claimed(out, DepthviewError):
        return _scan(args, started, params, out, target)


def _why_not_fused(scanner: Scanner, skipped: int) -> str:
    """The frames not fused, for the last line: ``": 3 a lone surface; 1 skipped"`` (the
    lost ones by reason, then the ones the window skipped to keep up: ``"; 41 skipped"``
    after "0 lost", trial AQ D1), or "" when none.
    One text for the batch scan and the window, fused or not (trial AM D4: the window's
    line gave no reasons and left its skipped frames unexplained)."""
    reasons = ", ".join(f"{n} {reason}" for reason, n in scanner.lost_why.most_common())
    return (f": {reasons}" if reasons else "") + (f"; {skipped} skipped" if skipped else "")


def _scan(
    args: argparse.Namespace, started: float, params: Any, out: Path, target: Target | None
) -> int:
    """``run`` once its options are checked and ``out`` is held."""
    try:
        from ..scan import Scanner
        from ..scan.files import write_all
        from ..scan.mesh import marching_cubes

        marching_cubes()  # the mesh's library, checked before the scan rather than after
    except ImportError as exc:
        raise DepthviewError(str(exc)) from None
    # In the window a recording plays at its own pace (frames the scan cannot keep up
    # with are skipped); a batch scan reads as fast as it fuses.
    with open_with_args(args.source, args, realtime=not args.no_window) as source:
        extra: dict[str, Any] = {"source": source.name}
        if source.times_guess:
            extra["times"] = f"invented: {cli_words(source.times_guess)}"
        inputs = [*source.inputs]
        if Path(args.source).exists():
            inputs.append(Path(args.source))
        from ..scan.files import companions
        from ..scan.params import TooManyLevels
        from ..scan.volume import VolumeFull
        from ..sources.ahead import ReadAhead

        for path in (out, *companions(out)):
            check_output(path, inputs)
        if args.screenshot is not None:  # never into what is scanned (trial AE)
            check_output(args.screenshot, inputs, DepthviewError, "--screenshot")
        warn_guesses(source)  # the trajectory's times are the frames' (made up, if so)
        scanner = Scanner.for_source(source, params)
        sink = None if target is None else _open_sink(target, args.grpc_port)
        last_model = -math.inf
        total = source.length
        if args.frames is not None:
            total = args.frames if total is None else min(total, args.frames)
        interrupted = False
        full: VolumeFull | None = None
        first_read: float | None = None
        last_fused = time.perf_counter()
        frames = 0
        window_run = None
        saved: list[Path] = []  # what the window's ``s`` wrote
        if not args.no_window:
            try:
                window_run = _window(args, source, scanner, out, params, saved)
            except TooManyLevels as exc:
                raise _too_many_levels(exc, args.source) from None
            frames, interrupted = window_run.read, window_run.interrupted
            # the start-up: until the source handed the window its first frame (trial AC:
            # the window's runs said 0.0)
            first_read, last_fused = window_run.first_read_at, time.perf_counter()
        bar = None
        if args.no_window and not args.quiet:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="frame", file=sys.stderr, dynamic_ncols=True)
        ahead = None
        try:
            if args.no_window:
                # The next frame is read and put in metres on a thread while this one is
                # tracked and fused (the timing still runs from when the first frame had
                # been read, its metres included, as when it was read here).
                ahead = ReadAhead(source, scanner.metres, args.frames)
            while ahead is not None:
                try:
                    frame, (z, rgb, k) = ahead.read()
                except StopIteration:
                    break
                if first_read is None:
                    first_read = ahead.first_read_at or time.perf_counter()
                try:
                    tracked = scanner.add_metres(z, rgb, k, frame.timestamp)
                except VolumeFull as exc:
                    full = exc
                    break
                except TooManyLevels as exc:
                    raise _too_many_levels(exc, args.source) from None
                frames += 1
                if tracked.ok:
                    last_fused = time.perf_counter()
                if sink is not None and tracked.ok:
                    mesh_now = time.perf_counter() - last_model >= args.model_every
                    sink = _sent(sink, scanner, tracked, mesh_now)
                    if mesh_now:
                        last_model = time.perf_counter()
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(
                        "tracking" if tracked.ok else f"lost: {tracked.reason}", refresh=False
                    )
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if ahead is not None:
                ahead.close()
            if bar is not None:
                bar.close()
    if sink is not None and scanner.last is not None and scanner.fused:
        sink = _sent(sink, scanner, scanner.last, True)
    if sink is not None:
        sink.close()
        sys.stderr.write(f"depthview: the model went to {sink.where}\n")
    startup_s = (first_read or time.perf_counter()) - started
    scanned_s = last_fused - first_read if first_read is not None else 0.0
    skipped = 0 if window_run is None else window_run.read - window_run.scanned
    stats: dict[str, Any] = {
        "frames": frames,
        "fused": scanner.fused,
        "lost": scanner.lost,
        "ms_per_frame": round(1000 * scanned_s / frames, 2) if frames else None,
        "startup_s": round(startup_s, 3),
        "mesh_s": None,
        "vertices": 0,
        "triangles": 0,
        "blocks": scanner.volume.blocks,
        "volume_mb": round(scanner.volume.used_bytes / 1e6, 1),
    }
    if window_run is not None:
        # The window scans the newest frame and skips the ones that came meanwhile.
        stats["scanned"] = window_run.scanned
        stats["skipped"] = skipped
        stats["latency_p95_ms"] = window_run.latency_p95_ms()
    if scanner.fused == 0:  # nothing built: nothing replaced
        if saved:  # the model was reset (``r``) after ``s`` saved it (trial AA)
            sys.stderr.write(
                f"depthview: nothing fused since the model was reset ({frames} read); "
                f"the model saved before stays: {', '.join(str(p) for p in saved)}\n"
            )
            _save_screenshot(args, window_run, saved)
            if args.stats:  # a run that ends well prints its figures (trial AQ D2)
                print(json.dumps(stats), flush=True)
            return INTERRUPTED if interrupted else 0
        if full is not None:  # the volume's budget, met by the first frame (trial AE)
            raise DepthviewError(
                f"{full}: met at frame {frames + 1}, before any frame was fused; a larger "
                "--voxel or a smaller --truncation needs less (or check --intrinsics); "
                "nothing was written"
            )
        if interrupted:
            sys.stderr.write(
                f"depthview: interrupted before any frame was fused ({frames} read); "
                "nothing was written\n"
            )
            if args.stats:
                print(json.dumps(stats), flush=True)
            return INTERRUPTED
        guess = source.units_guess
        hint = f"; {cli_words(guess)}" if guess else ""
        raise DepthviewError(
            f"{args.source}: no frame could be fused ({frames} read"
            f"{_why_not_fused(scanner, skipped)}){hint}; nothing was written"
        )
    mesh_start = time.perf_counter()
    mesh = scanner.mesh()
    mesh_s = time.perf_counter() - mesh_start
    stats.update(
        {
            "mesh_s": round(mesh_s, 3),
            "vertices": len(mesh.vertices),
            "triangles": len(mesh.triangles),
        }
    )
    if len(mesh.triangles) == 0:
        raise DepthviewError(
            f"{args.source}: the mesh is empty ({scanner.fused} frames fused but no surface "
            f"in the volume: check --intrinsics, --depth-scale, --near/--far); "
            "nothing was written"
        )
    extra.update(_came_from(source, scanner))
    earlier = out.exists()
    try:
        written = write_all(out, mesh, scanner.trajectory, params, extra, colour=scanner.coloured)
    except OSError as exc:  # trial AI (D2): a full disk was a traceback
        kept = f"; the earlier {out.name} is kept as it was" if earlier else ""
        raise DepthviewError(
            f"{exc.filename or out}: cannot write ({why_not_written(exc)}); the scan's "
            f"files were not written{kept}"
        ) from None
    _save_screenshot(args, window_run, written)
    if scanner.colour_left_out and not scanner.coloured:  # as export's cloud (trial AI D1)
        warnings.warn(
            f"{out}: {source.name}'s colour images are not kept: {scanner.colour_left_out}: "
            "the mesh is written without colours",
            stacklevel=1,
        )
    elif not scanner.coloured:  # said once written (a full disk writes nothing)
        sys.stderr.write(
            f"depthview: {source.name} has no colour: the mesh is written without colours\n"
        )
    elif mesh.uncoloured:  # (trial AO D2: painted black, as if a black surface)
        from ..scan.mesh import NO_COLOUR

        warnings.warn(
            f"{out}: {mesh.uncoloured} of {len(mesh.vertices)} vertices were seen in no "
            f"colour image ({scanner.colour_left_out or 'their frames had none'}): they are "
            f"grey {NO_COLOUR}",
            stacklevel=1,
        )
    cut = "interrupted: " if interrupted else ""  # exit 130 says it; so does the line (trial AE)
    sys.stderr.write(
        f"depthview: {cut}{len(mesh.triangles)} triangles from {scanner.fused} of {frames} frames "
        f"({scanner.lost} lost{_why_not_fused(scanner, skipped)}) -> "
        f"{', '.join(str(p) for p in written)}\n"
    )
    if args.stats:
        print(json.dumps(stats), flush=True)
    if full is not None:
        raise DepthviewError(
            f"{full}: stopped after frame {frames} and wrote the model built so far; "
            "a larger --voxel or a smaller --truncation needs less"
        )
    return INTERRUPTED if interrupted else 0
