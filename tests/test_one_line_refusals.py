"""A refusal is the only line on stderr (trial G, issue 22): warnings about a source that
will not be read ("units are a guess", "records no frame times") came before the refusal
of its output, and a recording whose every depth frame is unreadable gave a warning per
frame (five, then "10 in all") around the one error ``info`` gives alone. The whole of
stderr is checked here, warnings included (``Ran.error_lines`` leaves them out)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _helpers_cli import Ran, cli, tree_hash
from depthview.sources import sample


def _lines(ran: Ran) -> list[str]:
    return [line for line in ran.err.replace("\r", "\n").splitlines() if line.strip()]


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """Array files whose units and times are guesses (each says so when it is read)."""
    (tmp_path / "npy").mkdir()
    np.savez(tmp_path / "npy" / "raw5.npz", depth=np.full((5, 48, 64), 700, np.uint16))
    np.save(tmp_path / "npy" / "raw5.npy", np.full((5, 480, 640), 700, np.uint16))
    np.save(tmp_path / "npy" / "small.npy", np.full((4, 4), 700, np.uint16))
    sample.write_to(tmp_path / "rec")
    (tmp_path / "taken.npz").write_bytes(b"an earlier export")
    (tmp_path / "pngs").mkdir()  # a folder of depth PNGs without a layout's evidence
    for i in range(2):
        Image.fromarray(np.full((48, 64), 1501, np.uint16)).save(tmp_path / f"pngs/{i}.png")
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ["export", "npy/raw5.npz", "npy/raw5.npz", "--overwrite"],
            "expected an output apart from the input, got one that is the input",
        ),
        (
            ["export", "pngs", "pngs/x.mcap"],
            "expected an output apart from the input, got one that is inside the input",
        ),
        (
            ["record", "npy/raw5.npy", "npy"],
            "expected an output folder apart from the input, got one that contains the input",
        ),
        (["export", "npy/raw5.npy", "taken.npz"], "taken.npz: exists; use --overwrite"),
        (["record", "npy/raw5.npy", "taken.npz"], "taken.npz"),
        (
            ["record", "npy/small.npy", "rec", "--append"],
            "expected depth of shape (480, 640) uint16, got (4, 4) uint16; a recording "
            "cannot hold frames of another size",
        ),
    ],
)
def test_a_refused_output_is_the_only_line(world: Path, argv: list[str], says: str) -> None:
    before = tree_hash(world)
    where = [argv[0], *(a if a.startswith("-") else str(world / a) for a in argv[1:])]
    ran = cli(*where)
    assert ran.code == 2, ran.err
    (line,) = _lines(ran)  # no warning about the source before it
    assert line.startswith("depthview: error: ") and says in line, line
    assert "millimetres" not in line  # about this case only
    assert tree_hash(world) == before


def test_guesses_are_still_said_when_the_run_goes_ahead(world: Path) -> None:
    ran = cli("export", str(world / "npy" / "raw5.npy"), str(world / "ok.npz"), "--quiet")
    assert ran.code == 0, ran.err
    lines = _lines(ran)
    guess = "units are a guess: raw 11-bit disparity; if not, say --depth-format mm"
    assert lines[0] == f"depthview: warning: {world / 'npy' / 'raw5.npy'}: {guess}"
    assert "records no frame times" in lines[1]
    assert lines[-1].startswith("depthview: exported 5 frames")


@pytest.fixture
def unreadable(tmp_path: Path) -> Path:
    """The shipped sample with every depth file cut to its header (as unreadable as a
    mode-000 file is to a normal user: no pixels can be read)."""
    rec = tmp_path / "rec"
    sample.write_to(rec)
    for pgm in rec.glob("d-*.pgm"):
        pgm.write_bytes(b"P5 640 480 65535\n")
    return rec


@pytest.mark.parametrize("command", ["info", "export", "view", "record"])
def test_a_recording_without_one_readable_frame_is_one_line(
    unreadable: Path, tmp_path: Path, command: str
) -> None:
    out = {"export": [str(tmp_path / "x.npz")], "record": [str(tmp_path / "r")]}
    argv = [command, str(unreadable), *out.get(command, [])]
    extra = {"export": ["--quiet"], "record": ["--quiet"], "view": ["--frames", "1"]}
    ran = cli(*argv, *extra.get(command, []))
    assert ran.code == 2, ran.err
    (line,) = _lines(ran)
    assert "expected at least one readable depth frame, got 20 broken ones" in line, line
    assert "d-1483969353.545864-1612041135.pgm (INDEX.txt line 1)" in line  # the first


def test_frames_skipped_before_a_readable_one_are_each_said(tmp_path: Path) -> None:
    """Some broken, some not: each broken frame is still one warning, and the rest export."""
    rec = tmp_path / "rec"
    sample.write_to(rec)
    broken = sorted(rec.glob("d-*.pgm"))[:3]
    for pgm in broken:
        pgm.write_bytes(b"P5 640 480 65535\n")
    ran = cli("export", str(rec), str(tmp_path / "x.npz"), "--quiet")
    assert ran.code == 0, ran.err
    skipped = [line for line in _lines(ran) if "skipped broken frame" in line]
    assert len(skipped) == 3 and all(p.name in "".join(skipped) for p in broken)
    assert "exported 17 frames" in ran.err


@pytest.mark.parametrize(("make", "kind"), [("fifo", "a named pipe"), ("socket", "a socket")])
@pytest.mark.parametrize("out", ["x.npz", "x.mp4", "frames"])
def test_an_output_that_is_no_file_is_refused_even_with_overwrite(
    tmp_path: Path, make: str, kind: str, out: str
) -> None:
    """Trial J: ``export SRC FIFO.npz --overwrite`` replaced a named pipe (or a device
    node) with a regular file: nothing an export wrote, so it is refused and left alone."""
    import os
    import socket

    target = tmp_path / out
    if make == "fifo":
        os.mkfifo(target)
    else:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(target))
    try:
        ran = cli("export", "sample", str(target), "--overwrite", "--frames", "1", "--quiet")
        assert ran.code == 2 and len(_lines(ran)) == 1, ran.err
        assert f"{target}: expected a" in ran.err and f"got {kind}" in ran.err
        assert not target.is_file() and not target.is_dir()
    finally:
        if make != "fifo":
            server.close()
