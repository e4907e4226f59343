"""Rerun recordings (``.rrd``) through ``sinks.rerun.RerunSink`` (extra ``rerun``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..frame import Frame
from . import sinkfile
from .base import Settings


def open_sink(path: Path, overwrite: bool = False) -> Any:
    from ..sinks.rerun import RerunSink

    return RerunSink(path, overwrite=overwrite)


def write(frames: Iterable[Frame], path: Path, settings: Settings) -> int:
    """Export's ``.rrd``."""
    return sinkfile.write_file(open_sink, frames, path, settings)


def pair_writer(path: Path, where: str) -> sinkfile.SinkWriter:
    """Convert's scene into ``path``."""
    return sinkfile.pair_writer(open_sink, path, where)


__all__ = ["open_sink", "pair_writer", "write"]
