"""Small fakenect scenes for the convert tests and benchmark: the shipped sample's real depth
frames (cycled, re-timed) with synthetic colour frames and accelerometer records, written
in libfreenect's recording layout (INDEX.txt in time order)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

from depthview.fakenect_format import (
    TILT_STATE,
    entry_name,
    pnm_header,
)
from depthview.registration import Registration
from depthview.sources import sample

H, W = 480, 640
T0 = 1483969353.5


def sample_depths() -> list[bytes]:
    """The sample's depth files (header and pixels), in order."""
    folder = sample.folder()
    names = [n for n in (folder / "INDEX.txt").read_text().split() if n.startswith("d-")]
    return [(folder / n).read_bytes() for n in names]


def colour(i: int, seed: int = 0) -> npt.NDArray[np.uint8]:
    v, u = np.mgrid[0:H, 0:W]
    img = np.empty((H, W, 3), np.uint8)
    img[:, :, 0] = (u + 7 * i + seed) % 256
    img[:, :, 1] = (v * 2 + 3 * i) % 256
    img[:, :, 2] = ((u // 16 + v // 16) % 2) * 200 + (seed % 50)
    return img


def write_scene(
    folder: Path,
    frames: int = 6,
    *,
    seed: int = 0,
    video_offset: float = 0.012,
    video_every: int = 1,
    link: bool = False,
    device_json: bool = True,
    depth_only: bool = False,
    tilt_half_degrees: int = -4,
) -> Path:
    """A recording of ``frames`` depth frames at 30 Hz, a colour frame ``video_offset`` s
    after every ``video_every``-th (none with ``depth_only``), one accelerometer record per
    frame (its motor angle ``tilt_half_degrees``). ``link`` hard-links repeated files (a long
    scene that costs no disk)."""
    folder.mkdir(parents=True)
    depths = sample_depths()
    entries: list[tuple[float, str, bytes | Path]] = []
    written: dict[tuple[str, int], Path] = {}
    for i in range(frames):
        t = T0 + i / 30.0
        ts = (1000 + i * 2_000_000) % (1 << 32)
        entries.append((t, entry_name("d", t, ts), depths[i % len(depths)]))
        if i % video_every == 0 and not depth_only:
            tv = t + video_offset
            entries.append(
                (
                    tv,
                    entry_name("r", tv, (ts + 100) % (1 << 32)),
                    pnm_header("P6") + colour(i % 7 if link else i, seed).tobytes(),
                )
            )
        ta = t + 0.005
        state = TILT_STATE.pack(10, 819 + i % 3, -20, tilt_half_degrees, 0, 0)
        entries.append((ta, entry_name("a", ta, ts), state))
    entries.sort(key=lambda e: e[0])
    for _, name, data in entries:
        key = (name[0], hash(data) if isinstance(data, bytes) else 0)
        path = folder / name
        if link and isinstance(data, bytes) and key in written:
            os.link(written[key], path)
        else:
            path.write_bytes(data if isinstance(data, bytes) else data.read_bytes())
            written[key] = path
    (folder / "INDEX.txt").write_text("".join(f"{name}\n" for _, name, _ in entries))
    if device_json:
        (folder / "device.json").write_text(Registration.default().to_json())
    return folder


def zip_folder(folder: Path, zip_path: Path) -> Path:
    """A zip of ``folder``'s sub-folders, as NYU ships its scenes."""
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder.parent).as_posix())
    return zip_path
