"""A short pass of the coverage-guided fuzzing of every file parser (tests/fuzz/fuzz_parsers.py;
``make fuzz`` runs the long one). Each target in its own process: only ``SourceError`` may
escape a parser, no input may hang, and nothing outside the folder read may be opened."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).parent / "fuzz" / "fuzz_parsers.py"
#: Inputs per target in CI; DEPTHVIEW_FUZZ_RUNS raises it.
RUNS = int(os.environ.get("DEPTHVIEW_FUZZ_RUNS", "2000"))
TARGETS = [
    "index_line",
    "pnm_header",
    "tilt_state",
    "png_header",
    "intrinsics",
    "recording",
    "pgm_file",
    "npy_file",
    "npz_file",
    "png_file",
    "png_folder",
    "device_json",
]


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_short_pass(target: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(HARNESS), "all", target, "--runs", str(RUNS)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert f"{target} " in proc.stdout and "1 targets, 0 failed" in proc.stdout


def test_harness_lists_every_target() -> None:
    text = HARNESS.read_text()
    assert all(f'"{t}":' in text for t in TARGETS)
