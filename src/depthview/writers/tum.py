"""TUM RGB-D's folder layout (what depthview, Open3D and TUM's own tools read), written by
convert: ``depth/<time>.png`` 16-bit millimetres (``png16``, with depthview's units marker,
so ``dv.open`` reads them as such rather than as TUM's fifths), ``rgb/<time>.png``,
``depth.txt`` and ``rgb.txt`` (``time file`` lines under TUM's three comment lines) and
``associations.txt`` in the order TUM's ``associate.py rgb.txt depth.txt`` writes it: rgb
time, rgb file, depth time, depth file. Times are the recording's own host times. Every
file is written under a temporary name and renamed when complete."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..frame import DepthFormat
from ..outputs import write_atomic
from . import png, png16
from .base import Row


def time_name(t: float) -> str:
    return f"{t:.6f}"


class TumWriter:
    """Frame files of one scene (or chunk of one) into ``folder``; ``files`` collects each
    written file's sha256 by its name in the scene."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        (folder / "depth").mkdir(parents=True, exist_ok=True)
        (folder / "rgb").mkdir(parents=True, exist_ok=True)
        self.files: dict[str, str] = {}

    def write(
        self,
        depth_time: float,
        depth_mm: npt.NDArray[np.uint16],
        rgb_time: float,
        rgb: npt.NDArray[np.uint8],
        accel_time: float | None,
        accel: tuple[float, float, float] | None,
    ) -> Row:
        depth_file = f"depth/{time_name(depth_time)}.png"
        rgb_file = f"rgb/{time_name(rgb_time)}.png"
        self.files[depth_file] = png16.write(self.folder / depth_file, depth_mm, DepthFormat.MM)
        if rgb_file not in self.files:  # one colour frame may serve two depth frames
            self.files[rgb_file] = write_atomic(self.folder / rgb_file, png.encode(rgb))
        return Row(depth_time, depth_file, rgb_time, rgb_file, accel_time, accel)


def tum_lists(rows: list[Row], scene: str) -> dict[str, bytes]:
    """depth.txt, rgb.txt, associations.txt (and accelerometer.txt when there are records)."""
    rows = sorted(rows, key=lambda r: r.depth_time)

    def listing(kind: str, items: list[tuple[float, str]]) -> bytes:
        head = f"# {kind}\n# file: '{scene}'\n# timestamp filename\n"
        return (head + "".join(f"{time_name(t)} {f}\n" for t, f in items)).encode()

    rgb = sorted({(r.rgb_time, r.rgb_file) for r in rows})
    out = {
        "depth.txt": listing("depth maps", [(r.depth_time, r.depth_file) for r in rows]),
        "rgb.txt": listing("color images", rgb),
        "associations.txt": "".join(
            f"{time_name(r.rgb_time)} {r.rgb_file} {time_name(r.depth_time)} {r.depth_file}\n"
            for r in rows
        ).encode(),
    }
    accel = sorted(
        {(r.accel_time, r.accel) for r in rows if r.accel is not None and r.accel_time is not None}
    )
    if accel:
        out["accelerometer.txt"] = (
            f"# accelerometer data\n# file: '{scene}'\n# timestamp ax ay az\n"
            + "".join(f"{time_name(t)} {a[0]:.6f} {a[1]:.6f} {a[2]:.6f}\n" for t, a in accel if a)
        ).encode()
    return out


__all__ = ["TumWriter", "time_name", "tum_lists"]
