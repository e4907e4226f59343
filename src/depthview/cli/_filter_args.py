"""``--filter PRESET|NAME[:k=v,...],...``: the one option that puts librealsense's
post-processing filters on the way out (export, stream; ``view`` starts with it). Parsed by
``depthview.filters.parse_filter_spec``; a bad name or value is argparse's one line and
exit code 2, before a source is opened or a file written."""

from __future__ import annotations

import argparse

from ..filters import PRESETS, FilterSpec, parse_filter_spec
from ..filters.base import kernels

FILTER_HELP = (
    "post-process depth (in mm) with librealsense's filters, e.g. "
    "'spatial:alpha=0.5,delta=20,temporal,holes:mode=1', or a preset: "
    + ", ".join(PRESETS)
    + " (realsense: the RealSense Viewer's default). Names: decimation, threshold, "
    "disparity, spatial, temporal, depth, holes"
)


def filter_spec(text: str) -> FilterSpec:
    """argparse type for ``--filter``."""
    try:
        return parse_filter_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_filter_arg(parser: argparse.ArgumentParser, help_suffix: str = "") -> None:
    """Add ``--filter SPEC`` (``args.filter``: a FilterSpec or None)."""
    parser.add_argument(
        "--filter",
        type=filter_spec,
        default=None,
        metavar="SPEC",
        help=FILTER_HELP + help_suffix,
    )


def require_filters(spec: FilterSpec | None) -> None:
    """With a non-empty ``--filter``, load the compiled loops now: a missing ``fast`` extra
    is one line (``FilterError``, exit 2) before a source, sink or file is opened."""
    if spec:
        kernels()
