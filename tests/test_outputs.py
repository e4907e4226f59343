"""Writers never touch their input (``depthview.outputs``): an output that is, contains or
lies inside the input is refused before anything is written, for every writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli, tree_hash
from depthview.errors import ExportError, RecordingError
from depthview.outputs import overlap
from depthview.sources import sample


def test_overlap_rules(tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    rec.mkdir()
    (tmp_path / "link").symlink_to(rec)
    assert overlap(rec, [rec]) is not None
    assert overlap(tmp_path / "link", [rec]) is not None  # the same folder by another name
    assert overlap(rec / "x.npz", [rec]) is not None
    assert overlap(tmp_path, [rec]) is not None
    assert overlap(tmp_path, [rec], contains=False) is None
    assert overlap(tmp_path / "rec2", [rec]) is None
    assert overlap(rec / ".." / "other", [rec]) is None


@pytest.mark.parametrize(
    "argv",
    [
        ["record", "REC", "REC", "--overwrite"],
        ["record", "REC", "REC", "--append", "--frames", "2"],
        ["record", "REC", "REC/inner"],
        ["export", "REC", "REC", "--format", "png16", "--overwrite"],
        ["export", "REC", "REC/x.npz"],
        ["export", "REC", "PARENT", "--format", "png16", "--overwrite"],
        ["export", "NPY", "NPY", "--overwrite", "--format", "ply"],
        ["export", "NPY", "PARENT/./frames.npy", "--overwrite"],
        ["view", "REC", "--snapshot-dir", "REC", "--frames", "1"],
        ["view", "REC", "--screenshot", "REC/shot.png", "--frames", "1"],
    ],
)
def test_an_output_over_its_input_is_refused_and_the_input_kept(
    tmp_path: Path, argv: list[str]
) -> None:
    rec = sample.write_to(tmp_path / "rec")
    npy = tmp_path / "frames.npy"
    np.save(npy, np.full((2, 48, 64), 700, np.uint16))
    names = {"REC": str(rec), "NPY": str(npy), "PARENT": str(tmp_path)}
    argv = [names.get(a.split("/")[0], a.split("/")[0]) + a[len(a.split("/")[0]) :] for a in argv]
    before = tree_hash(tmp_path)
    ran = cli(*argv)
    assert ran.code == 2, ran.err
    assert len(ran.error_lines) == 1 and "apart from the input" in ran.err, ran.err
    assert tree_hash(tmp_path) == before


def test_the_library_refuses_too(tmp_path: Path) -> None:
    rec = sample.write_to(tmp_path / "rec")
    before = tree_hash(rec)
    with dv.open(str(rec)) as src, pytest.raises(RecordingError, match="is the input"):
        dv.record(src, rec, mode="overwrite")
    with dv.open(str(rec)) as src, pytest.raises(ExportError, match="inside the input"):
        dv.export(src, rec / "out.npz")
    assert tree_hash(rec) == before


def test_a_snapshot_folder_around_the_input_is_fine(tmp_path: Path) -> None:
    """The default snapshot folder (the current one) usually holds the recording played."""
    assert overlap(tmp_path, [tmp_path / "rec"], contains=False) is None


def test_overwrite_never_replaces_through_a_link(tmp_path: Path) -> None:
    """Trial O: ``record demo o/latest --overwrite`` with ``o/latest -> ../keep`` replaced
    the 20-frame recording kept in ``keep``; a folder export did the same to another
    export's frames, and a file export replaced the link with a file. An OUT that is a
    symbolic link is refused with --overwrite, naming where it points; a link to an empty
    folder (nothing to replace) and --append (nothing replaced) still go through it."""
    keep = sample.write_to(tmp_path / "keep")
    other = tmp_path / "other"
    assert cli("export", "sample", str(other), "--format", "png16", "--frames", "3").code == 0
    (tmp_path / "one.npz").write_bytes(b"not replaced")
    o = tmp_path / "o"
    o.mkdir()
    for name, target in (("latest", keep), ("link", other), ("l.npz", tmp_path / "one.npz")):
        (o / name).symlink_to(target)
    before = tree_hash(tmp_path)
    for argv in (
        ["record", "demo", str(o / "latest"), "--overwrite", "--frames", "1"],
        ["export", "sample", str(o / "link"), "--format", "png16", "--overwrite"],
        ["export", "sample", str(o / "l.npz"), "--overwrite"],
    ):
        ran = cli(*argv, "--quiet")
        assert ran.code == 2, ran.err
        (line,) = ran.error_lines
        link = Path(argv[2])
        assert line == (
            f"depthview: error: {link}: is a symbolic link to {link.resolve()}: --overwrite "
            f"does not replace files through a link; give {link.resolve()} itself, or "
            "remove the link"
        )
        assert tree_hash(tmp_path) == before and (o / link.name).is_symlink()
    empty = tmp_path / "empty"
    empty.mkdir()
    (o / "new").symlink_to(empty)
    assert cli("record", "demo", str(o / "new"), "--frames", "1", "--quiet").code == 0
    ran = cli("record", "demo", str(o / "new"), "--append", "--frames", "1", "--quiet")
    assert ran.code == 0, ran.err
    with dv.open(str(empty), realtime=False) as src:
        assert len(src) == 2


def test_a_dangling_link_at_out_is_refused_and_kept(tmp_path: Path) -> None:
    """Trial Q: a file OUT that is a symbolic link to nothing was replaced by a file without
    --overwrite (the link the user kept, gone), and a folder OUT so got "File exists". Each
    is one line naming where the link points, the link left as it was."""
    links = {
        "x.npz": ["export", "sample", "{out}", "--frames", "1"],
        "p16": ["export", "sample", "{out}", "--format", "png16", "--frames", "1"],
        "rec": ["record", "sample", "{out}", "--frames", "1"],
    }
    for name, argv in links.items():
        out = tmp_path / name
        out.symlink_to(tmp_path / "nowhere" / name)
        for extra in ([], ["--overwrite"]):
            ran = cli(*[a.format(out=out) for a in argv], *extra, "--quiet")
            assert ran.code == 2 and len(ran.error_lines) == 1, ran.err
            assert f"{out}: is a symbolic link to {tmp_path / 'nowhere' / name}" in ran.err
            assert out.is_symlink() and not (tmp_path / "nowhere").exists()


def test_an_input_reached_by_another_path_is_still_the_input(tmp_path: Path) -> None:
    """Trial AD (D1, LOST): through a bind mount (one folder, two paths) ``record --overwrite``
    replaced its own 20-frame source with 1 frame of it, ``export --overwrite`` its source
    .npz, and ``convert`` wrote into the source: the guard compared paths. It compares the
    files too (device and inode), so each is refused and the source kept."""
    import subprocess

    outer, bind = tmp_path / "outer", tmp_path / "bind"
    bind.mkdir()
    sample.write_to(outer / "rec")
    assert cli("export", "sample", str(outer / "x.npz"), "--frames", "3", "--quiet").code == 0
    done = subprocess.run(["mount", "--bind", str(outer), str(bind)], capture_output=True)
    if done.returncode != 0:
        pytest.fail(f"a bind mount needs root: {done.stderr.decode().strip()}")
    try:
        before = tree_hash(outer)
        runs = [
            ("record", str(bind / "rec"), str(outer / "rec"), "--overwrite", "--frames", "1"),
            ("export", str(bind / "x.npz"), str(outer / "x.npz"), "--overwrite", "--frames", "1"),
            ("convert", str(bind / "rec"), str(outer / "rec" / "c"), "--depth-only"),
            ("export", str(bind / "rec"), str(outer / "rec" / "p"), "--format", "png16"),
        ]
        for argv in runs:
            ran = cli(*argv, "--quiet")
            assert ran.code == 2 and "apart from the input" in ran.err, (argv, ran.err)
        assert tree_hash(outer) == before
        assert overlap(outer, [bind]) == f"is the input {bind}"
        assert (
            overlap(outer / "rec" / "new", [bind / "rec"]) == f"is inside the input {bind / 'rec'}"
        )
        assert overlap(outer, [bind / "rec"]) == f"contains the input {bind / 'rec'}"
    finally:
        subprocess.run(["umount", str(bind)], check=True)
