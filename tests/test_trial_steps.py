"""Issue 22's second trial, the findings that take two commands: an archive exported and
exported again keeps its times; a recording appended to continues its clocks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from _helpers_cli import cli, tree_hash
from depthview.fakenect_format import parse_index_line
from depthview.sources import sample

DEVICE_HZ = 60_000_000  # the Kinect's device clock


def test_an_exported_npz_exported_again_keeps_its_times_device_times_and_accel(
    tmp_path: Path,
) -> None:
    """Finding 1: the second export had times 0, 0.033.., device times -1, no accel."""
    rec = sample.write_to(tmp_path / "rec")
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    assert cli("export", str(rec), str(first), "--quiet").code == 0
    assert cli("export", str(first), str(second), "--quiet").code == 0
    with np.load(first) as a, np.load(second) as b:
        assert a["timestamp"][0] > 1e9  # the recording's unix times, not index / fps
        assert (a["device_timestamp"] >= 0).all()
        assert set(a.files) <= set(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def _depth_entries(rec: Path) -> list[tuple[float, int]]:
    entries = [parse_index_line(line) for line in (rec / "INDEX.txt").read_text().splitlines()]
    return [(e.unix_time, e.device_timestamp) for e in entries if e.kind == "d"]


def test_appending_the_demo_continues_the_recordings_host_and_device_clocks(
    tmp_path: Path,
) -> None:
    """Findings 3 and 4: the demo appended to a 2017 recording jumped ~9.9 years ahead, and
    device times restarted at the source's first value. Now the seam is one frame interval
    on both clocks, and every time increases."""
    rec = tmp_path / "r"
    assert cli("record", "sample", str(rec), "--frames", "10").code == 0
    before = _depth_entries(rec)
    # depth alone, as the sample holds no colour (colour onto it is refused: trial N)
    ran = cli("record", "demo", str(rec), "--append", "--frames", "5", "--depth-only")
    assert ran.code == 0, ran.err
    assert cli("record", "sample", str(rec), "--append", "--frames", "5").code == 0
    after = _depth_entries(rec)
    assert after[:10] == before and len(after) == 20
    host = np.array([t for t, _ in after])
    device = np.unwrap(np.array([d for _, d in after], dtype=np.float64), period=2**32)
    assert (np.diff(host) > 0).all(), host
    assert (np.diff(device) > 0).all(), device
    interval = float(np.median(np.diff(host[:10])))  # the recording's own frame interval
    for seam in (10, 15):  # each appended pass starts one frame interval after the last
        assert abs((host[seam] - host[seam - 1]) - interval) < 0.01, host
        step = (device[seam] - device[seam - 1]) / DEVICE_HZ
        assert 0 < step < 3 * interval, step
    assert host[-1] - host[0] < 1.0  # 20 frames at ~30 fps, not years


def test_record_overwrite_that_fails_leaves_the_earlier_recording(tmp_path: Path) -> None:
    """The writers' engineer: ``record --overwrite`` deleted the old recording's files
    before writing, so a record that failed (here a real full disk: a small tmpfs, which
    needs root to mount, as CI runs) lost it. Now the earlier recording stays whole."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
    )
    if done.returncode != 0:
        pytest.fail(f"needs to mount a tmpfs (root): {done.stderr.decode().strip()}")
    try:
        rec = disk / "r"
        assert cli("record", "sample", str(rec), "--frames", "2").code == 0
        before = tree_hash(rec)
        st = os.statvfs(disk)
        (disk / "filler").write_bytes(b"\0" * (st.f_bavail * st.f_frsize - 100_000))
        ran = cli("record", "sample", str(rec), "--overwrite", "--frames", "5")
        assert ran.code == 2 and "disk full" in ran.err, ran.err
        assert tree_hash(rec) == before  # every file of the earlier recording, unchanged
        assert sorted(p.name for p in rec.iterdir()) == sorted(
            p.name for p in rec.iterdir() if not p.name.startswith(".")
        )
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_ctrl_c_of_an_overwrite_keeps_the_earlier_export_whole(tmp_path: Path) -> None:
    """Finding 6: Ctrl-C of ``export ... --overwrite`` over a 20-frame export deleted 19 of
    its frames. Now the earlier export stays whole (exit 130, said on stderr)."""
    import signal
    import sys
    import time

    out = tmp_path / "ow"
    assert cli("export", "sample", str(out), "--format", "png16", "--quiet").code == 0
    before = tree_hash(out)
    argv = ["export", "demo", str(out), "--format", "png16", "--frames", "20000"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "depthview", *argv, "--overwrite", "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(4)  # writing by now (not asserted: only that the earlier export survives)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 130
    assert proc.stderr is not None and "keeps the earlier export" in proc.stderr.read()
    assert tree_hash(out) == before
