"""An ``.rrd`` export onto a full disk ends (trial L, issue 22). Rerun's own file writer, when
a write failed during a flush, never answered it: the export said "disk full" and then
waited for ever, deaf to Ctrl-C and SIGTERM (2 runs in 3 on a 1.5 MB tmpfs). Rerun now
writes through ``sinks.rrd_pipe``; each run must end, with one line and nothing left."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from _helpers_disk import tmpfs
from _helpers_sources import copy_person


@pytest.mark.parametrize("attempt", range(4))
def test_rrd_export_onto_a_full_disk_ends_with_one_line(tmp_path: Path, attempt: int) -> None:
    rec = copy_person(tmp_path)  # 20 frames: an .rrd of about 3.4 MB
    with tmpfs("1536k") as disk:
        out = disk / "x.rrd"
        try:
            done = subprocess.run(
                [sys.executable, "-m", "depthview", "export", str(rec), str(out), "--quiet"],
                capture_output=True,
                text=True,
                timeout=90,  # a bound on a hang, not a speed: it ends in a second or two
            )
        except subprocess.TimeoutExpired:
            pytest.fail("export to a full disk never ended")
        assert done.returncode == 2, done.stderr
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and lines[0] == f"depthview: error: {out}: cannot write (disk full)"
        assert list(disk.iterdir()) == []


def test_rrd_pipe_ends_when_rerun_never_opened_it(tmp_path: Path) -> None:
    """A sink closed before Rerun opened its end of the pipe: the copy still ends."""
    from depthview.sinks.rrd_pipe import RrdPipe

    pipe = RrdPipe(tmp_path / "x.rrd")
    pipe.finish(seconds=10)
    assert (tmp_path / "x.rrd").read_bytes() == b""
    assert not pipe.fifo.exists()
