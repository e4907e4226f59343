"""The two formats a depthview sink writes, ``.rrd`` (``sinks.rerun.RerunSink``, extra
``rerun``) and ``.mcap`` (``sinks.foxglove.FoxgloveSink``, extra ``foxglove``): one writer
with the sink as its parameter (``RRD``, ``MCAP``, ``FILES``), export's frames as they come
and convert's aligned pairs as ``Frame``s."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExportError
from ..frame import (
    TILT_UNKNOWN,
    DepthFormat,
    Frame,
    Record,
    Stamp,
    Stream,
    TiltState,
    accel_mks_to_counts,
)
from ..geometry import Intrinsics
from ..outputs import partial_path
from .base import Pair, Row, Settings

if TYPE_CHECKING:
    from ..sinks import Sink

#: The sink's extra for each format a sink writes.
SINK_EXTRAS = {"rrd": "rerun", "mcap": "foxglove"}


def require_sink(fmt: str) -> None:
    """Import ``fmt``'s SDK now (one ``SinkError`` naming the extra, before anything is
    written), not in the first unit."""
    from ..sinks.base import require

    if fmt == "rrd":
        require("rerun", "rerun")
        require("pyarrow", "rerun")
    elif fmt == "mcap":
        require("foxglove", "foxglove")


def open_sink(fmt: str, path: Path, overwrite: bool = False) -> Sink:
    """A sink writing the file ``path`` in ``fmt`` (``rrd``, ``mcap``); its SDK is imported
    now (extras ``rerun``, ``foxglove``)."""
    if fmt == "rrd":
        from ..sinks.rerun import RerunSink

        return RerunSink(path, overwrite=overwrite)
    if fmt == "mcap":
        from ..sinks.foxglove import FoxgloveSink

        return FoxgloveSink(path, overwrite=overwrite)
    raise ValueError(f"expected a sink's file format (rrd, mcap), got {fmt!r}")


@dataclass(frozen=True)
class SinkFile:
    """One format a sink writes (``fmt``: ``rrd``, ``mcap``): export's ``write`` and
    convert's ``pair_writer``."""

    fmt: str

    def write(self, frames: Iterable[Frame], path: Path, settings: Settings) -> int:
        """Export's frames into ``path`` under its temporary name, each record at its own
        time (messages name ``path``); the frames sent. None sent (Ctrl-C before the first)
        is no file, as in every format: an empty recording would be refused as "exists"."""
        tmp = partial_path(path)
        try:
            # the temporary name is this run's own: one a killed run left is replaced
            sink = open_sink(self.fmt, tmp, True)
            sink.where = str(path)
            count = send_all(sink, frames, settings)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if count:
            os.replace(tmp, path)
        else:
            tmp.unlink(missing_ok=True)
        return count

    def pair_writer(self, path: Path, where: str) -> SinkWriter:
        """Convert's scene into ``path`` (its temporary name), pair by pair; messages name
        ``where``."""
        sink = open_sink(self.fmt, path, True)
        sink.where = where
        return SinkWriter(sink, path)


#: Rerun recordings (``.rrd``) and MCAP files in Foxglove's schemas (``.mcap``).
RRD, MCAP = SinkFile("rrd"), SinkFile("mcap")
#: Each format a sink writes, by its name.
FILES = {f.fmt: f for f in (RRD, MCAP)}


def send_all(sink: Sink, frames: Iterable[Frame], settings: Settings) -> int:
    """Frames into ``sink``, each record at its own time; the frames sent."""
    count = 0
    sink.set_camera(
        settings.intrinsics,
        registration=settings.source_registration,
        aligned=settings.video_aligned,
    )
    with sink:
        for frame in frames:
            try:
                frame.own_records()  # its accelerometer's counts: a NaN reading has none
            except ValueError as exc:  # (trial AJ D7)
                raise ExportError(f"frame {frame.index}: {exc}") from None
            # nothing clamped: a sink sends the frame's own reading as it is (trial AR D7)
            sink.log(frame)
            count += 1
    return count


class SinkWriter:
    """One scene of convert into a sink's file (under its temporary name): a ``Frame`` per
    pair, depth in ``DepthFormat.MM`` with the colour camera's model (aligned depth lives in
    the colour image), each record with its own stamp; a colour frame or accelerometer
    record that serves two depth frames is sent once."""

    def __init__(self, sink: Any, path: Path) -> None:
        self.sink = sink
        self.path = path
        self.rows: list[Row] = []
        self.camera: Intrinsics | None = None
        self._seq = {Stream.DEPTH: 0, Stream.VIDEO: 0, Stream.ACCEL: 0}
        self._last: dict[Stream, float] = {}

    def set_camera(self, intrinsics: Intrinsics, *, aligned: bool = True) -> None:
        """The pinhole model sent with the depth (before the first pair); ``aligned``: the
        depth was aligned to the colour image (in the colour camera's frame)."""
        self.camera = intrinsics
        self.sink.set_camera(intrinsics, aligned=aligned)

    def _stamp(self, stream: Stream, t: float) -> Stamp | None:
        """The record's stamp, or None when this record was sent already."""
        if stream is not Stream.DEPTH and self._last.get(stream) == t:
            return None
        self._last[stream] = t
        seq = self._seq[stream]
        self._seq[stream] = seq + 1
        return Stamp(seq, t)

    def write(self, pair: Pair) -> Row:
        depth_time, accel_time, accel = pair.depth_time, pair.accel_time, pair.accel
        # The aligner reuses its buffers for the next pair, and an SDK may still hold these
        # arrays (Rerun serialises on its own thread): the frame gets its own copies.
        depth_mm = pair.depth_mm.copy()
        rgb = None if pair.rgb is None else pair.rgb.copy()
        records: list[Record] = []
        video_stamp = None if rgb is None else self._stamp(Stream.VIDEO, pair.rgb_time)
        if rgb is not None and video_stamp is not None:
            records.append(Record(Stream.VIDEO, video_stamp, rgb))
        if accel is not None and accel_time is not None:
            accel_stamp = self._stamp(Stream.ACCEL, accel_time)
            if accel_stamp is not None:
                # the record's own angle, unclamped: what export of the recording sends
                tilt = pair.tilt_deg
                angle = TILT_UNKNOWN if tilt is None else round(tilt * 2)
                state = TiltState(*accel_mks_to_counts(accel), angle)
                records.append(Record(Stream.ACCEL, accel_stamp, state))
        depth_stamp = self._stamp(Stream.DEPTH, depth_time)
        assert depth_stamp is not None
        records.append(Record(Stream.DEPTH, depth_stamp, depth_mm, DepthFormat.MM))
        self.sink.log(
            Frame(
                depth_mm,
                rgb,
                depth_format=DepthFormat.MM,
                timestamp=depth_time,
                index=depth_stamp.seq,
                accel=accel,
                tilt_deg=pair.tilt_deg,
                records=tuple(records),
            )
        )
        row = pair.row()
        self.rows.append(row)
        return row

    def finish(self) -> None:
        """Flush and close the file (still under its temporary name)."""
        self.sink.close()

    def abandon(self) -> None:
        with contextlib.suppress(Exception):
            self.sink.close()
        self.path.unlink(missing_ok=True)


__all__ = [
    "FILES",
    "MCAP",
    "RRD",
    "SINK_EXTRAS",
    "SinkFile",
    "SinkWriter",
    "open_sink",
    "require_sink",
    "send_all",
]
