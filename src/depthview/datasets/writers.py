"""What ``convert`` writes for a scene: TUM RGB-D's layout, one ``.npz``, ``.rrd`` or ``.mcap``.

TUM RGB-D (what depthview, Open3D and TUM's own tools read): ``depth/<time>.png`` 16-bit
in TUM's own units, 5000 per metre (or millimetres, ``tum_scale`` 1000), with depthview's
units marker (``tum_depth``), ``rgb/<time>.png``, ``depth.txt`` and ``rgb.txt`` (``time file`` lines
under TUM's three comment lines) and ``associations.txt`` in the order TUM's
``associate.py rgb.txt depth.txt`` writes it: rgb time, rgb file, depth time, depth file.
Times are the recording's own host times. Every file is written under a temporary name
and renamed when complete.

``.npz``: ``depth`` (N, H, W) uint16 mm, ``rgb`` (N, H, W, 3), ``depth_times``,
``rgb_times``, ``accel`` (N, 3) m/s^2 (NaN without a record) and ``depth_format``; frames
go to spill files as they come and are copied into the archive in blocks at the end, so
memory does not grow with the scene. Archive members carry a fixed date, so the same
scene gives the same bytes.

``.rrd`` / ``.mcap``: each pair sent as a ``Frame`` through depthview's own Rerun and
Foxglove sinks (the path ``export`` writes them by), every record at its own host time.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..frame import DepthFormat, Frame, Record, Stamp, Stream, TiltState
from ..geometry import Intrinsics
from ..sources.depth_png import MARKER_KEY

#: zlib level of the PNGs: 1 is several times faster than Pillow's default 6 and the files
#: are about 10 % larger; depth PNGs are lossless either way.
PNG_LEVEL = 1
#: The date every archive member carries (zip's epoch), so output is reproducible.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
COPY_BLOCK = 8 << 20


@dataclass(frozen=True, slots=True)
class Row:
    """One kept pair as written: times (seconds) and file names (relative to the scene)."""

    depth_time: float
    depth_file: str
    rgb_time: float
    rgb_file: str
    accel_time: float | None = None
    accel: tuple[float, float, float] | None = None


def time_name(t: float) -> str:
    return f"{t:.6f}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> str:
    """Write ``data`` under a temporary name, rename it into place; its sha256."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


def png_bytes(image: npt.NDArray[Any], *, depth_format: DepthFormat | None = None) -> bytes:
    """A PNG of ``image`` (16-bit grey for uint16 depth, with depthview's units marker)."""
    from PIL import Image, PngImagePlugin

    info = None
    if depth_format is not None:
        info = PngImagePlugin.PngInfo()
        info.add_text(MARKER_KEY, depth_format.name)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(
        buf, format="PNG", pnginfo=info, compress_level=PNG_LEVEL
    )
    return buf.getvalue()


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
    written file's sha256 by its name in the scene; depth at ``scale`` values per metre."""

    def __init__(self, folder: Path, scale: float = 5000.0) -> None:
        if scale not in TUM_SCALES:
            raise ValueError(f"expected a TUM depth scale of {sorted(TUM_SCALES)}, got {scale}")
        self.folder = folder
        self.scale = scale
        self.over_range = 0
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
        values, over = tum_depth(depth_mm, self.scale)
        self.over_range += over
        self.files[depth_file] = write_atomic(
            self.folder / depth_file, png_bytes(values, depth_format=TUM_SCALES[self.scale])
        )
        if rgb_file not in self.files:  # one colour frame may serve two depth frames
            self.files[rgb_file] = write_atomic(self.folder / rgb_file, png_bytes(rgb))
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


class NpzWriter:
    """One scene's frames spilled to disk as they come, then assembled into ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._depth_spill = path.with_name(path.name + ".depth")
        self._rgb_spill = path.with_name(path.name + ".rgb")
        self._depth = open(self._depth_spill, "wb")  # noqa: SIM115  # closed in finish
        self._rgb = open(self._rgb_spill, "wb")  # noqa: SIM115
        self.rows: list[Row] = []
        self._shapes: tuple[tuple[int, ...], tuple[int, ...]] | None = None

    def write(
        self,
        depth_time: float,
        depth_mm: npt.NDArray[np.uint16],
        rgb_time: float,
        rgb: npt.NDArray[np.uint8],
        accel_time: float | None,
        accel: tuple[float, float, float] | None,
    ) -> Row:
        shapes = (depth_mm.shape, rgb.shape)
        if self._shapes is None:
            self._shapes = shapes
        elif shapes != self._shapes:
            raise ValueError(f"expected every frame of {self._shapes}, got {shapes}")
        self._depth.write(np.ascontiguousarray(depth_mm, dtype="<u2").tobytes())
        self._rgb.write(np.ascontiguousarray(rgb).tobytes())
        row = Row(depth_time, "", rgb_time, "", accel_time, accel)
        self.rows.append(row)
        return row

    def finish(self) -> None:
        self._depth.close()
        self._rgb.close()
        n = len(self.rows)
        d_shape, c_shape = self._shapes or ((0, 0), (0, 0, 3))
        accel = np.array(
            [r.accel if r.accel is not None else (np.nan,) * 3 for r in self.rows],
            dtype=np.float64,
        ).reshape(n, 3)
        small = {
            "depth_times": np.array([r.depth_time for r in self.rows], dtype=np.float64),
            "rgb_times": np.array([r.rgb_time for r in self.rows], dtype=np.float64),
            "accel": accel,
            "depth_format": np.array(int(DepthFormat.MM)),
        }
        tmp = self.path.with_name(self.path.name + ".tmp")  # cleared with the spill files
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for key, spill, dtype, shape in (
                ("depth", self._depth_spill, np.dtype("<u2"), (n, *d_shape)),
                ("rgb", self._rgb_spill, np.dtype(np.uint8), (n, *c_shape)),
            ):
                info = zipfile.ZipInfo(f"{key}.npy", ZIP_DATE)
                with zf.open(info, "w", force_zip64=True) as member, open(spill, "rb") as src:
                    header = {
                        "descr": np.lib.format.dtype_to_descr(dtype),
                        "fortran_order": False,
                        "shape": shape,
                    }
                    np.lib.format.write_array_header_1_0(member, header)
                    while block := src.read(COPY_BLOCK):
                        member.write(block)
                spill.unlink()
            for key, array in small.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, array, allow_pickle=False)
                zf.writestr(zipfile.ZipInfo(f"{key}.npy", ZIP_DATE), buf.getvalue())
        os.replace(tmp, self.path)

    def abandon(self) -> None:
        for f in (self._depth, self._rgb):
            f.close()
        for p in (self._depth_spill, self._rgb_spill):
            p.unlink(missing_ok=True)


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


class SinkWriter:
    """One scene into ``path`` (an ``.rrd`` or ``.mcap`` under its temporary name) through
    ``RerunSink`` / ``FoxgloveSink``: a ``Frame`` per pair, depth in ``DepthFormat.MM`` with
    the colour camera's model (aligned depth lives in the colour image), each record with
    its own stamp; a colour frame or accelerometer record that serves two depth frames is
    sent once. ``where`` names the final file in messages."""

    def __init__(self, path: Path, fmt: str, where: str) -> None:
        self.path = path
        self.rows: list[Row] = []
        self.camera: Intrinsics | None = None
        self._seq = {Stream.DEPTH: 0, Stream.VIDEO: 0, Stream.ACCEL: 0}
        self._last: dict[Stream, float] = {}
        if fmt == "rrd":
            from ..sinks.rerun import RerunSink

            self.sink: Any = RerunSink(path, overwrite=True)
        elif fmt == "mcap":
            from ..sinks.foxglove import FoxgloveSink

            self.sink = FoxgloveSink(path, overwrite=True)
        else:
            raise ValueError(f"expected a sink format ({', '.join(SINK_EXTRAS)}), got {fmt!r}")
        self.sink.where = where

    def set_camera(self, intrinsics: Intrinsics) -> None:
        """The pinhole model sent with the depth (before the first pair)."""
        self.camera = intrinsics
        self.sink.set_camera(intrinsics)

    def _stamp(self, stream: Stream, t: float) -> Stamp | None:
        """The record's stamp, or None when this record was sent already."""
        if stream is not Stream.DEPTH and self._last.get(stream) == t:
            return None
        self._last[stream] = t
        seq = self._seq[stream]
        self._seq[stream] = seq + 1
        return Stamp(seq, t)

    def write(
        self,
        depth_time: float,
        depth_mm: npt.NDArray[np.uint16],
        rgb_time: float,
        rgb: npt.NDArray[np.uint8],
        accel_time: float | None,
        accel: tuple[float, float, float] | None,
    ) -> Row:
        # The aligner reuses its buffers for the next pair, and an SDK may still hold these
        # arrays (Rerun serialises on its own thread): the frame gets its own copies.
        depth_mm, rgb = depth_mm.copy(), rgb.copy()
        records: list[Record] = []
        video_stamp = self._stamp(Stream.VIDEO, rgb_time)
        if video_stamp is not None:
            records.append(Record(Stream.VIDEO, video_stamp, rgb))
        if accel is not None and accel_time is not None:
            accel_stamp = self._stamp(Stream.ACCEL, accel_time)
            if accel_stamp is not None:
                records.append(Record(Stream.ACCEL, accel_stamp, TiltState.from_mks(accel, None)))
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
                records=tuple(records),
            )
        )
        row = Row(depth_time, "", rgb_time, "", accel_time, accel)
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
    "SINK_EXTRAS",
    "TUM_SCALES",
    "NpzWriter",
    "Row",
    "SinkWriter",
    "TumWriter",
    "png_bytes",
    "require_sink",
    "sha256_file",
    "tum_depth",
    "tum_lists",
    "write_atomic",
]
