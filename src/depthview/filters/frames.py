"""Filters on Frames: depth to millimetres, through a chain, back into a Frame.

The one place where depthview's frames meet the filters (export, stream, the viewer and
batch conversion all come here). A filtered Frame carries millimetres
(``DepthFormat.MM``); its depth record is replaced by the filtered one, so writers that
write records send what was filtered. Raw Kinect depth becomes millimetres with the
source's registration (``dv.to_mm``). A chain that changes the size (decimation) is
brought back to the frame's size, each output pixel repeated, so the frame keeps its
camera model and its colour image still lines up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ..frame import DepthFormat, Frame, Record, Stream
from ..registration import depth_mm as depth_mm  # the one conversion, re-exported

if TYPE_CHECKING:
    from ..registration import Registration
    from .chain import Chain

Mm = npt.NDArray[np.uint16]


def to_shape(depth: npt.NDArray[np.uint16], shape: tuple[int, int]) -> npt.NDArray[np.uint16]:
    """A decimated image back at ``shape``: each pixel repeated, padding cut, edges zero."""
    if depth.shape == shape:
        return depth
    k = max(1, round(shape[1] / depth.shape[1]) if depth.shape[1] else 1)
    while k > 1 and (shape[0] // k > depth.shape[0] or shape[1] // k > depth.shape[1]):
        k -= 1
    big = np.repeat(np.repeat(depth, k, axis=0), k, axis=1)[: shape[0], : shape[1]]
    out = np.zeros(shape, dtype=np.uint16)
    out[: big.shape[0], : big.shape[1]] = big
    return out


def filter_frame(
    frame: Frame, chain: Chain, registration: Registration | None = None, stream: Hashable = 0
) -> Frame:
    """``frame`` with its depth in millimetres through ``chain`` (``stream``: whose temporal
    state to use), the input frame (unchanged) in its ``meta["unfiltered"]`` and its depth
    in millimetres in ``meta["unfiltered_mm"]`` (to show both in the same colours)."""
    mm = depth_mm(frame.depth, frame.depth_format, registration)
    out = chain(mm, stream=stream)
    if out.dtype != np.uint16:
        raise ValueError(
            f"expected a filter chain that ends in depth (uint16), got {out.dtype}: "
            "end a chain that starts with 'disparity' with 'depth'"
        )
    out = to_shape(out, frame.depth.shape)
    stamp = frame.depth_stamp
    records = tuple(
        Record(Stream.DEPTH, r.stamp, out, DepthFormat.MM)
        if r.stream is Stream.DEPTH and r.stamp == stamp
        else r
        for r in frame.records
    )
    meta = {**frame.meta, "unfiltered": frame, "unfiltered_mm": mm}
    return dataclasses.replace(
        frame, depth=out, depth_format=DepthFormat.MM, records=records, meta=meta
    )


def filter_frames(
    frames: Iterable[Frame],
    chain: Chain,
    registration: Registration | None = None,
    stream: Hashable = 0,
) -> Iterator[Frame]:
    """Each frame through ``filter_frame``, lazily."""
    for frame in frames:
        yield filter_frame(frame, chain, registration, stream)
