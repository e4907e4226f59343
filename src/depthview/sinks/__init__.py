"""Send frames to the viewers robotics people use: Rerun and Foxglove.

::

    import depthview as dv

    with dv.open("kinect") as src, dv.RerunSink("web") as sink:
        print("open", sink.where)
        for frame in src:
            sink.log(frame)

``RerunSink`` (extra ``rerun``) and ``FoxgloveSink`` (extra ``foxglove``) import their SDK
only when created; without it they raise ``SinkError`` naming the ``pip install`` line.
``content`` (what is sent, names, times) and ``targets`` (``--to``) need neither SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Sink
from .targets import Target, parse_target

if TYPE_CHECKING:
    from .foxglove import FoxgloveSink
    from .rerun import RerunSink

_LAZY = {"RerunSink": ".rerun", "FoxgloveSink": ".foxglove"}


def __getattr__(name: str) -> Any:
    """``RerunSink`` and ``FoxgloveSink`` load their module on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["FoxgloveSink", "RerunSink", "Sink", "Target", "parse_target"]
