"""Rerun recordings (``.rrd``) through ``sinks.rerun.RerunSink`` (extra ``rerun``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..frame import Frame
from ..outputs import atomic
from .base import Settings
from .sinkfile import SinkWriter, send_all


def open_sink(path: Path, where: str, *, overwrite: bool = False) -> Any:
    """A sink writing ``path``; its messages name ``where`` (the final file)."""
    from ..sinks.rerun import RerunSink

    sink = RerunSink(path, overwrite=overwrite)
    sink.where = where
    return sink


def write(frames: Iterable[Frame], path: Path, settings: Settings) -> int:
    """Export's ``.rrd``: each record at its own time."""
    with atomic(path) as tmp:
        # the temporary name is this run's own: one a killed run left is replaced
        return send_all(open_sink(tmp, str(path), overwrite=True), frames, settings)


def pair_writer(path: Path, where: str) -> SinkWriter:
    """Convert's scene into ``path`` (its temporary name), pair by pair."""
    return SinkWriter(open_sink(path, where, overwrite=True), path)


__all__ = ["open_sink", "pair_writer", "write"]
