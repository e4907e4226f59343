"""``dv.RecordingWriter``'s options checked before anything is made, a non-Frame refused
naming Frame, a writer closed with no frame leaving no folder (as ``dv.record``), and the
non-empty folder refused in the library's words, the command line's in its own (AJ D11)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli
from depthview.errors import RecordingError


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"queue_size": 0},
            r"^expected queue_size as a whole number >= 1 and <= 1000000000, got 0$",
        ),
        (
            {"queue_size": -1},
            r"^expected queue_size as a whole number >= 1 and <= 1000000000, got -1$",
        ),
        (
            {"queue_size": 2.5},
            r"^expected queue_size as a whole number >= 1 and <= 1000000000, got 2\.5$",
        ),
        ({"on_full": "x"}, r"^expected on_full 'drop' or 'block', got 'x'$"),
        ({"mode": "apend"}, r"^expected mode 'new', 'append' or 'overwrite', got 'apend'$"),
    ],
)
def test_options_refused_before_anything_is_made(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        dv.RecordingWriter(tmp_path / "rec", **options)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_write_of_a_non_frame_names_frame(tmp_path: Path) -> None:
    writer = dv.RecordingWriter(tmp_path / "rec")
    with pytest.raises(TypeError, match=r"^expected a Frame, got str$"):
        writer.write("x")  # type: ignore[arg-type]
    writer.close()


def test_closed_with_no_frame_leaves_no_folder(tmp_path: Path) -> None:
    summary = dv.RecordingWriter(tmp_path / "rec").close()
    assert list(tmp_path.iterdir()) == []
    assert str(summary) == f"nothing recorded: {tmp_path / 'rec'} was not made"
    (tmp_path / "empty").mkdir()  # an empty folder the user made stays, empty
    with dv.RecordingWriter(tmp_path / "empty"):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["empty"]
    assert list((tmp_path / "empty").iterdir()) == []


def test_a_writer_with_a_frame_keeps_its_recording(tmp_path: Path) -> None:
    depth = np.full((480, 640), 800, np.uint16)
    with dv.RecordingWriter(tmp_path / "rec", on_full="block") as writer:
        writer.write(dv.Frame(depth=depth, timestamp=100.0))
    with dv.open(str(tmp_path / "rec"), realtime=False) as src:
        assert len(src) == 1


def test_non_empty_folder_in_the_library_words_and_the_cli_words(tmp_path: Path) -> None:
    out = tmp_path / "full"
    out.mkdir()
    (out / "x").write_text("")
    with pytest.raises(RecordingError, match=r"use mode='append' or mode='overwrite'$"):
        dv.RecordingWriter(out)
    ran = cli("record", "demo:1", str(out), "--frames", "1", "--quiet")
    assert ran.code == 2
    assert ran.err.count("\n") == 1 and ran.err.endswith("use --append or --overwrite\n")
    assert [p.name for p in out.iterdir()] == ["x"]


def test_frames_are_recorded_as_they_were_handed_over(tmp_path: Path) -> None:
    """Trial AR (D2): the writer writes on its own thread, later; a caller that refills one
    buffer (as ``out=`` invites) recorded 20 copies of its last frame, video too. Each frame
    is recorded as it was when ``write`` took it; export did so already."""
    depth = np.full((480, 640), 800, np.uint16)
    video = np.zeros((480, 640, 3), np.uint8)

    def frames() -> Iterator[dv.Frame]:
        for i in range(12):
            depth[:] = 800 + i
            video[:] = i
            yield dv.Frame(depth=depth, video=video, timestamp=i * 0.1, index=i)

    dv.record(frames(), tmp_path / "r", frames=12)
    with dv.open(tmp_path / "r") as back:
        got = [(int(f.depth[0, 0]), int(f.video[0, 0, 0])) for f in back]
    assert got == [(800 + i, i) for i in range(12)]
