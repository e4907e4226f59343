"""``depthview info [SOURCE]``: the Kinects found, or what a recording holds."""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import warnings
from typing import Any

from ..errors import DepthviewError, SourceError, cli_words
from ..frame import Stream
from . import SOURCE_HELP
from ._source_args import add_source_args, open_with_args


def add_parser(sub: Any) -> None:
    p = sub.add_parser("info", help="list Kinects, or describe a recording or source")
    p.add_argument(
        "source", nargs="?", default=None, help=f"{SOURCE_HELP} (default: list the Kinects)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_source_args(p)


def _kinects() -> dict[str, Any]:
    from ..sources import kinect

    found = kinect.probe()
    serials = found["serials"]
    devices = [
        {"index": i, "serial": serials[i] if i < len(serials) else None}
        for i in range(found["count"])
    ]
    return {"library": found["library"], "count": found["count"], "devices": devices}


def _source(uri: str, args: argparse.Namespace) -> dict[str, Any]:
    """What any source holds: its kind, length, formats, and the first frame's shape; for a
    recording also its timing and what is broken in it."""
    from ..fakenect_format import KIND_ACCEL, KIND_VIDEO
    from ..sources.fakenect import RecordingSource
    from ..sources.files import ArraySource

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        src = open_with_args(uri, args, realtime=False)
        with src:
            k = src.intrinsics
            info: dict[str, Any] = {
                "source": src.name,
                "kind": type(src).__name__,
                "units": cli_words(src.units_note),
                "intrinsics": f"fx={k.fx:g} fy={k.fy:g} cx={k.cx:g} cy={k.cy:g}",
                "frames": src.length if src.length is not None else "endless",
                "video_formats": [f.name for f in src.video_formats],
                "registration": (
                    "the source's own (a recording's device.json, a .npz's registration or "
                    "the device)"
                    if src.registration is not None
                    else "none of its own: aligned depth uses Registration.default()"
                ),
            }
            if src.units_guess:
                info["units_guess"] = cli_words(src.units_guess)
            if src.times_guess:
                info["times_guess"] = cli_words(src.times_guess)
            if isinstance(src, RecordingSource):
                ix = src.index
                broken = []
                times = []  # of the frames whose file is there: a missing file has no time
                readable: collections.Counter[Stream] = collections.Counter()
                for i in range(len(src)):  # read every frame once: missing/truncated files
                    entry = ix.entries[ix.frames[i].depth]
                    try:
                        records = src.frame_at(i).records
                    except SourceError as exc:
                        broken.append(str(exc))
                        records = tuple(src.span_records(i))  # its colour and tilt arrived
                    readable.update(r.stream for r in records)
                    if os.path.exists(src.folder / entry.name):
                        times.append(entry.unix_time)
                named = sum(e.kind in (KIND_VIDEO, KIND_ACCEL) for e in ix.entries)
                info.update(_timing(times))
                info.update(
                    video_frames=readable[Stream.VIDEO],  # readable ones: a broken one is
                    accel_records=readable[Stream.ACCEL],  # counted in broken_records
                    unreadable_lines=len(ix.bad_lines),
                    broken_frames=len(broken),
                    broken_records=named - readable[Stream.VIDEO] - readable[Stream.ACCEL],
                )
                if broken:
                    info["first_broken"] = broken[0]
            elif isinstance(src, ArraySource) and (own := src.own_frame_times()) is not None:
                info.update(_timing(own))  # trial P: a TUM folder's times, used, unsaid
            frame = src.read()
            info.update(
                depth_format=frame.depth_format.name,
                depth_shape=list(frame.depth.shape),
                video_shape=None if frame.video is None else list(frame.video.shape),
            )
    info["warnings"] = list(dict.fromkeys(str(w.message) for w in caught))  # each once
    return info


def _timing(times: list[float]) -> dict[str, Any]:
    """The frames' span and intervals from their own times, and how many steps do not go
    forward: for a recording and for any source that records times (TUM's lists, SUN3D's
    names, an archive's ``timestamp``) alike. The intervals are those of the steps that go
    forward (a step back is no interval: it is counted as ``times_not_increasing``); None
    when no step does."""
    gaps = [b - a for a, b in itertools.pairwise(times)]
    ahead = [gap for gap in gaps if gap > 0]
    out: dict[str, Any] = {
        "duration_s": round(max(times) - min(times), 6) if times else 0.0,
        "mean_interval_ms": round(1000 * sum(ahead) / len(ahead), 3) if ahead else None,
        "worst_interval_ms": round(1000 * max(ahead), 3) if ahead else None,
    }
    if any(gap <= 0 for gap in gaps):
        out["times_not_increasing"] = sum(gap <= 0 for gap in gaps)
    return out


def run(args: argparse.Namespace) -> int:
    if args.source is None:
        try:
            info = _kinects()
        except DepthviewError as exc:
            raise DepthviewError(f"cannot look for Kinects: {exc}") from None
    elif args.source == "kinect" or args.source.startswith("kinect:"):
        info = _kinects()
        if args.source != "kinect":  # one Kinect asked about: there, or one line
            from ..sources import kinect

            serials = [d["serial"] for d in info["devices"] if d["serial"]]
            try:
                kinect.check_found(kinect.parse_uri(args.source), info["count"], serials)
            except SourceError as exc:  # named as the user named it
                said = str(exc)
                named = said.startswith(f"{args.source}:")
                raise SourceError(said if named else f"{args.source}: {said}") from None
    else:
        info = _source(args.source, args)
    if args.json:
        print(json.dumps(info))
        return 0
    if "count" in info and "devices" in info:
        print(f"{info['count']} Kinect(s) found via {info['library']}")
        if not info["count"]:
            print("  none: plug the Kinect in (USB and its own power supply)")
        for d in info["devices"]:
            print(f"  kinect:{d['index']}  serial {d['serial'] or 'unknown'}")
        return 0
    for key, value in info.items():
        if key == "warnings" and not value:
            continue
        print(f"{key:>18}: {value}")
    return 0
