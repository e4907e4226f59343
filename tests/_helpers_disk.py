"""A real file system that fills up (a tmpfs: mounting needs root), for the disk-full
cases of the trial and the viewer."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def tmpfs(size: str = "2m") -> Iterator[Path]:
    """A fresh tmpfs of ``size`` mounted on a temporary folder, unmounted afterwards."""
    with tempfile.TemporaryDirectory(prefix="trial-disk-") as tmp:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", tmp],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.fail(f"the full-disk cases need to mount a tmpfs (root): {done.stderr.strip()}")
        try:
            yield Path(tmp)
        finally:
            subprocess.run(["umount", tmp], check=True)


def fill(disk: Path, free: int) -> None:
    """Empty ``disk``, then fill it until ``free`` bytes are left."""
    for entry in disk.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    st = os.statvfs(disk)
    (disk / "filler").write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - free))
