"""What becomes of a camera model (``--intrinsics``, or a source's own) in each output
(trial G, issue 22): ``record SRC R --intrinsics ...`` exited 0 with no trace of them in
the recording, so every replay used the Kinect's defaults. A fakenect recording has no
place for them: the option is refused in one line and a source's own are said to be lost;
a ``.npz`` export keeps them and reads them back. Checked through the command line and
``info``, as a user meets it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import depthview as dv
from _helpers_cli import cli, tree_hash

CAMERA = (500.0, 510.0, 320.5, 241.25)
GIVEN = ",".join(f"{v:g}" for v in CAMERA)


def _info_intrinsics(path: Path) -> tuple[float, ...]:
    ran = cli("info", str(path), "--json")
    assert ran.code == 0, ran.err
    text = json.loads(ran.out)["intrinsics"]  # "fx=500 fy=510 cx=320.5 cy=241.25"
    return tuple(float(part.partition("=")[2]) for part in text.split())


def test_record_refuses_intrinsics_it_cannot_keep(tmp_path: Path) -> None:
    rec = tmp_path / "in"
    dv.sources.sample.write_to(rec)
    before = tree_hash(rec)
    out = tmp_path / "out"
    out.mkdir()
    ran = cli("record", str(rec), str(out / "r"), "--intrinsics", GIVEN, "--quiet")
    assert ran.code == 2, ran.err
    assert len(ran.error_lines) == 1 and "Traceback" not in ran.err
    assert "--intrinsics: a fakenect recording cannot keep intrinsics" in ran.err
    assert "export SOURCE OUT.npz --intrinsics" in ran.err  # where they are kept
    assert list(out.iterdir()) == []  # nothing written
    assert tree_hash(rec) == before


def test_record_says_a_sources_own_intrinsics_are_lost(tmp_path: Path) -> None:
    """A .npz that carries its camera, recorded: the frames are kept, the camera cannot be,
    and one warning line says so with both cameras; the replay is what it says."""
    src = tmp_path / "k.npz"
    np.savez(src, depth=np.full((2, 480, 640), 700, np.uint16), intrinsics=np.array(CAMERA))
    ran = cli("record", str(src), str(tmp_path / "r"), "--quiet")
    assert ran.code == 0, ran.err
    (line,) = [x for x in ran.err.splitlines() if "intrinsics" in x]
    assert line.startswith("depthview: warning: ") and "are not kept" in line
    assert "(500, 510, 320.5, 241.25)" in line
    replayed = _info_intrinsics(tmp_path / "r")
    assert replayed != CAMERA and f"{replayed[0]:g}" in line
    # A source whose camera the recording does keep (the sample): nothing said.
    ran = cli("record", "sample", str(tmp_path / "s"), "--quiet", "--frames", "2")
    assert ran.code == 0 and "not kept" not in ran.err, ran.err


@pytest.mark.parametrize("given", [True, False])
def test_npz_export_keeps_the_intrinsics(tmp_path: Path, given: bool) -> None:
    """``export SRC out.npz`` (with ``--intrinsics`` or the source's own): the archive holds
    them as ``intrinsics`` and reading it back (``info``, ``dv.open``) uses them."""
    out = tmp_path / "x.npz"
    extra = ["--intrinsics", GIVEN] if given else []
    ran = cli("export", "sample", str(out), "--frames", "2", "--quiet", *extra)
    assert ran.code == 0, ran.err
    with dv.open("sample") as sample:
        own = sample.intrinsics
    want = CAMERA if given else (own.fx, own.fy, own.cx, own.cy)
    with np.load(out) as z:
        np.testing.assert_allclose(z["intrinsics"], want, rtol=1e-12)
    shown = _info_intrinsics(out)
    assert shown == pytest.approx(want, abs=0.01)  # info prints two decimals
    with dv.open(str(out)) as back:
        k = back.intrinsics
        assert (k.fx, k.fy, k.cx, k.cy) == pytest.approx(want, rel=1e-12)


def test_png16_export_keeps_the_intrinsics_beside_its_frames(tmp_path: Path) -> None:
    """``export SRC DIR --format png16`` (trial G: 7-Scenes' 585 became the Kinect's 594):
    the folder holds a ``camera.yaml`` that reading it back uses; ``--overwrite`` with
    another format removes it with the frames it described."""
    out = tmp_path / "p16"
    ran = cli("export", "sample", str(out), "--format", "png16", "--intrinsics", GIVEN)
    assert ran.code == 0, ran.err
    assert (out / "camera.yaml").read_text().startswith("%YAML:1.0\n# depthview export: ")
    assert _info_intrinsics(out) == pytest.approx(CAMERA, abs=0.01)
    with dv.open(str(out)) as back:
        k = back.intrinsics
        assert (k.fx, k.fy, k.cx, k.cy) == pytest.approx(CAMERA, rel=1e-9)
        assert "the folder's camera.yaml" in back.units_note
    ran = cli("export", "sample", str(out), "--format", "png", "--overwrite", "--frames", "2")
    assert ran.code == 0, ran.err
    assert sorted(p.name for p in out.iterdir()) == ["frame-000000.png", "frame-000001.png"]


@pytest.mark.parametrize(("given", "per_metre"), [("tum", 5000.0), ("mm", 1000.0)])
def test_png16_camera_file_says_the_frames_values_per_metre(
    tmp_path: Path, given: str, per_metre: float
) -> None:
    """Trial J: TUM depth exported as png16 keeps TUM's values (5000 a metre, marked so), but
    its ``camera.yaml`` said ``DepthMapFactor: 1000.0``, so ORB-SLAM or Open3D reading the
    folder by it put everything 5x too far. The factor is now the frames' own."""
    from PIL import Image

    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.full((6, 8), 5000, np.uint16)).save(src / "depth-000.png")
    out = tmp_path / "p16"
    ran = cli("export", str(src), str(out), "--format", "png16", "--depth-format", given)
    assert ran.code == 0, ran.err
    text = (out / "camera.yaml").read_text()
    (factor,) = [float(x.split(":")[1]) for x in text.splitlines() if x.startswith("Depth")]
    assert factor == per_metre
    (frame,) = sorted(out.glob("frame-*.png"))
    values = np.asarray(Image.open(frame))
    assert (values / factor == 5000 / per_metre).all()  # metres, read as the file says
