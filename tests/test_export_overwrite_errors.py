"""``export … --overwrite`` over an earlier file writes the new one under a hidden name and
replaces OUT only when it is complete (trial O, finding 18). A failure, a bad frame or a
full disk, in any file format, is one line naming OUT (the file the user named, not the
hidden one that is gone afterwards) and saying the earlier file is kept; it is kept, byte
for byte. The full disk is a real one (a tmpfs, as the trial's)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli
from _helpers_disk import tmpfs

#: Free bytes left on the small disk before the run that must fail.
FREE_BYTES = 100_000


def kept_line(out: Path) -> str:
    return f"; the earlier {out.name} is kept as it was"


def the_one_error(err: str) -> str:
    lines = [line for line in err.splitlines() if "warning:" not in line and line.strip()]
    assert len(lines) == 1, err
    assert "replacing" not in err, err  # the hidden name is never shown
    return lines[0]


@pytest.fixture(scope="module")
def disk() -> Iterator[Path]:
    with tmpfs("12m") as mounted:  # a PLY of one frame: about 4 MB
        yield mounted


def empty(folder: Path) -> None:
    for entry in folder.iterdir():
        entry.unlink()


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("x.npz", ["sample"]),
        ("x.mcap", ["sample"]),
        ("x.rrd", ["sample"]),
        ("x.mp4", ["demo", "--frames", "150"]),
        ("x.ply", ["sample"]),
    ],
)
def test_a_full_disk_names_out_and_keeps_the_earlier_file(
    disk: Path, name: str, source: list[str]
) -> None:
    empty(disk)
    out = disk / name
    first = cli("export", source[0], str(out), "--frames", "1", "--quiet")
    assert first.code == 0, first.err
    earlier = out.read_bytes()
    st = os.statvfs(disk)
    (disk / "filler").write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - FREE_BYTES))
    ran = cli("export", *source, str(out), "--overwrite", "--quiet")
    assert ran.code == 2, ran.err
    line = the_one_error(ran.err)
    assert line.startswith(f"depthview: error: {out}: cannot write ("), line
    assert line.endswith(kept_line(out)), line
    assert out.read_bytes() == earlier
    assert sorted(p.name for p in disk.iterdir()) == sorted(["filler", name])


def test_a_bad_frame_in_an_mp4_names_out_and_keeps_the_earlier_file(tmp_path: Path) -> None:
    out = tmp_path / "v.mp4"
    assert cli("export", "sample", str(out), "--frames", "2", "--quiet").code == 0
    earlier = out.read_bytes()
    np.save(tmp_path / "one.npy", np.full((1, 1), 800, np.uint16))  # a picture H.264 refuses
    ran = cli("export", str(tmp_path / "one.npy"), str(out), "--overwrite", "--quiet")
    assert ran.code == 2, ran.err
    line = the_one_error(ran.err)
    assert line.startswith(f"depthview: error: {out}: expected pictures of 2x2"), line
    assert line.endswith(kept_line(out)), line
    assert out.read_bytes() == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.npy", "v.mp4"]


def test_a_bad_frame_in_an_npz_names_out_and_keeps_the_earlier_file(tmp_path: Path) -> None:
    out = tmp_path / "keep.npz"
    assert cli("export", "sample", str(out), "--frames", "2", "--quiet").code == 0
    earlier = out.read_bytes()

    def frame(i: int, height: int) -> dv.Frame:
        return dv.Frame(
            depth=np.full((height, 8), 700, np.uint16),
            depth_format=dv.DepthFormat.RAW_11BIT,
            timestamp=float(i),
            index=i,
        )

    frames = [frame(0, 6), frame(1, 6), frame(2, 4)]  # the third of another size
    with pytest.raises(dv.ExportError) as failed:
        dv.export(frames, out, overwrite=True)
    said = str(failed.value)
    assert said.startswith(f"{out}: expected every depth frame"), said
    assert said.endswith(kept_line(out)) and "replacing" not in said, said
    assert out.read_bytes() == earlier
    assert [p.name for p in tmp_path.iterdir()] == ["keep.npz"]
