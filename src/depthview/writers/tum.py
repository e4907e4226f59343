"""TUM RGB-D's folder layout (what depthview, Open3D and TUM's own tools read), written by
convert: ``depth/<time>.png`` 16-bit in TUM's own units, 5000 per metre (or millimetres,
``scale`` 1000), through ``png16`` with depthview's units marker (``tum_depth``),
``rgb/<time>.png``,
``depth.txt`` and ``rgb.txt`` (``time file`` lines under TUM's three comment lines) and
``associations.txt`` in the order TUM's ``associate.py rgb.txt depth.txt`` writes it: rgb
time, rgb file, depth time, depth file. Times are the recording's own host times. Every
file is written under a temporary name and renamed when complete."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..frame import DepthFormat
from ..outputs import write_atomic
from . import png, png16
from .base import Pair, Row


def time_name(t: float) -> str:
    return f"{t:.6f}"


#: The depth PNG scales the TUM layout offers (values per metre) and their units marker.
TUM_SCALES = {5000.0: DepthFormat.TUM, 1000.0: DepthFormat.MM}


def tum_depth(mm: npt.NDArray[np.uint16], scale: float) -> tuple[npt.NDArray[np.uint16], int]:
    """Millimetres as ``scale`` values per metre, and how many pixels are beyond 16 bits
    (past 13.1 m at TUM's 5000: written as 0, no reading, and counted)."""
    if scale == 1000.0:
        return mm, 0
    values = mm.astype(np.uint32) * np.uint32(round(scale)) // np.uint32(1000)
    over = values > 65535
    values[over] = 0
    return values.astype(np.uint16), int(np.count_nonzero(over))


class TumWriter:
    """Frame files of one scene (or chunk of one) into ``folder``; ``files`` collects each
    written file's sha256 by its name in the scene; depth at ``scale`` values per metre,
    ``over_range`` counts the pixels too far for it."""

    def __init__(self, folder: Path, scale: float = 5000.0) -> None:
        if scale not in TUM_SCALES:
            raise ValueError(f"expected a TUM depth scale of {sorted(TUM_SCALES)}, got {scale}")
        self.folder = folder
        self.scale = scale
        self.over_range = 0
        (folder / "depth").mkdir(parents=True, exist_ok=True)
        self.files: dict[str, str] = {}

    def write(self, pair: Pair) -> Row:
        rgb = pair.rgb
        depth_file = f"depth/{time_name(pair.depth_time)}.png"
        rgb_file = "" if rgb is None else f"rgb/{time_name(pair.rgb_time)}.png"
        if pair.stored is not None and pair.stored[1] is TUM_SCALES[self.scale]:
            values, over = pair.stored[0], 0  # in these units already: as it came
        else:
            values, over = tum_depth(pair.depth_mm, self.scale)
        self.over_range += over
        self.files[depth_file] = png16.write(
            self.folder / depth_file, values, TUM_SCALES[self.scale]
        )
        if rgb is not None and rgb_file not in self.files:  # one may serve two depth frames
            (self.folder / "rgb").mkdir(exist_ok=True)
            self.files[rgb_file] = write_atomic(self.folder / rgb_file, png.encode(rgb))
        return pair.row(depth_file, rgb_file)


def tum_lists(rows: list[Row], scene: str) -> dict[str, bytes]:
    """depth.txt, rgb.txt, associations.txt (and accelerometer.txt when there are records).
    A scene name that is no UTF-8 (a folder's bytes), or holds a line break, is written with
    those escaped (``dem\\xfe``, ``a\\nb``): the header stays three lines (trials AB, AD)."""
    rows = sorted(rows, key=lambda r: r.depth_time)
    named = os.fsencode(scene).decode("utf-8", "backslashreplace")
    scene = "".join(c if c.isprintable() else repr(c)[1:-1] for c in named)

    def listing(kind: str, items: list[tuple[float, str]]) -> bytes:
        head = f"# {kind}\n# file: '{scene}'\n# timestamp filename\n"
        return (head + "".join(f"{time_name(t)} {f}\n" for t, f in items)).encode()

    rgb = sorted({(r.rgb_time, r.rgb_file) for r in rows if r.rgb_file})
    out = {"depth.txt": listing("depth maps", [(r.depth_time, r.depth_file) for r in rows])}
    if rgb:  # depth-only output has no colour lists
        out["rgb.txt"] = listing("color images", rgb)
        out["associations.txt"] = "".join(
            f"{time_name(r.rgb_time)} {r.rgb_file} {time_name(r.depth_time)} {r.depth_file}\n"
            for r in rows
        ).encode()
    accel = sorted(
        {(r.accel_time, r.accel) for r in rows if r.accel is not None and r.accel_time is not None}
    )
    if accel:
        out["accelerometer.txt"] = (
            f"# accelerometer data\n# file: '{scene}'\n# timestamp ax ay az\n"
            + "".join(f"{time_name(t)} {a[0]:.6f} {a[1]:.6f} {a[2]:.6f}\n" for t, a in accel if a)
        ).encode()
    return out


__all__ = ["TUM_SCALES", "TumWriter", "time_name", "tum_depth", "tum_lists"]
