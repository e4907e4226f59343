"""The Source contract (sources/base.py) as one check that every backend must pass; used
in-process for most sources and in a subprocess for the Kinect (libfreenect is loaded once
per process)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import depthview as dv
from depthview.errors import SourceError, UnsupportedControl


def violations(uri: str, **options: Any) -> list[str]:
    """Every way ``dv.open(uri, **options)`` breaks the contract (empty when it keeps it)."""
    found: list[str] = []

    def expect(what: str, exc: type[BaseException], call: Callable[[], object]) -> None:
        try:
            call()
        except exc:
            return
        except BaseException as other:  # reporting the wrong type is the point
            found.append(f"{what}: expected {exc.__name__}, got {type(other).__name__}: {other}")
            return
        found.append(f"{what}: expected {exc.__name__}, got no error")

    expect("an unknown option", SourceError, lambda: dv.open(uri, no_such_option=1, **options))
    src = dv.open(uri, **options)
    frame = src.read()
    records = frame.own_records()
    if not records or records[-1].stream is not dv.Stream.DEPTH:
        found.append("the frame's records do not end with its depth record")
    elif records[-1].data is not frame.depth:
        found.append("the depth record is not the frame's depth")
    if frame.video is not None and frame.video_stamp is None:
        found.append("a frame with video has no video_stamp")
    if frame.accel is not None and frame.accel_stamp is None:
        found.append("a frame with accel has no accel_stamp")
    if src.length is None:
        expect("len() of an endless source", TypeError, lambda: len(src))
    elif len(src) != src.length:
        found.append(f"len() {len(src)} != length {src.length}")
    if src.seekable:
        beyond = -1 if src.length is None else src.length + 5  # endless: only < 0 is out
        expect("seeking out of range", SourceError, lambda: src.seek(beyond))
        src.seek(0)
        if src.read().index != 0:
            found.append("seek(0) did not bring back frame 0")
    else:
        expect("seeking a live source", UnsupportedControl, lambda: src.seek(0))
    for fmt in src.video_formats:
        try:
            src.set_video_format(fmt)
        except dv.DepthviewError as exc:
            found.append(f"a listed video format {fmt.name} was refused: {exc}")
    unlisted = [f for f in dv.VideoFormat if f not in src.video_formats]
    expect(
        "an unlisted video format", UnsupportedControl, lambda: src.set_video_format(unlisted[0])
    )
    if frame.video is not None and not src.video_formats:
        found.append("frames carry video but video_formats is empty")
    src.close()
    src.close()
    expect("read after close", SourceError, src.read)
    return found
