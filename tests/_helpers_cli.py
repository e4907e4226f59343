"""The command line run in this process (fast: no interpreter start-up) or, for the window,
in a child without a display (``headless``): exit code, stdout and stderr as a user sees
them, and a hash of a tree of files to prove an input unchanged."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from depthview.cli import main


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        """stderr lines that are not progress or warnings."""
        return [
            line
            for line in self.err.replace("\r", "\n").splitlines()
            if line.strip() and "frame/s" not in line and "warning:" not in line
        ]


def cli(*argv: str) -> Ran:
    """``depthview ARGV`` in this process: its exit code (argparse's SystemExit too)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return Ran(code, out.getvalue(), err.getvalue())


def headless(argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``depthview ARGV`` in a child process with SDL's dummy video driver (no window)."""
    return subprocess.run(
        [sys.executable, "-m", "depthview", *argv],
        env={**os.environ, "SDL_VIDEODRIVER": "dummy"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def tree_hash(path: Path) -> str:
    """Every file's relative name and bytes under ``path`` (or the file itself)."""
    h = hashlib.sha256()
    if not path.exists():
        return "absent"
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        h.update(str(f.relative_to(path if path.is_dir() else path.parent)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()
